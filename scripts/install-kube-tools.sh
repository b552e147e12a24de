#!/usr/bin/env bash
# Builds the Kubernetes parts the agent, kubelet, manifest and cluster tests run against: kube-apiserver,
# kubelet, kubectl, kube-scheduler, kube-controller-manager and kube-proxy of one pinned release, and
# etcd, from the Go module proxy.
# Cached under /usr/local/lib/nodelet-tools, so only the first run pays for the build.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

KUBE_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
KUBE_DIR=/usr/local/lib/nodelet-tools/kubernetes-$KUBE_VERSION
ETCD_DIR=/usr/local/lib/nodelet-tools/etcd-$ETCD_VERSION
KUBE_BINARIES=(kube-apiserver kubelet kubectl kube-scheduler kube-controller-manager kube-proxy)

export PATH="$PATH:/usr/local/go/bin"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod" GOTOOLCHAIN=local

have_all() {
  local dir="$1" bin
  shift
  for bin in "$@"; do [ -x "$dir/$bin" ] || return 1; done
}

# k8s.io/kubernetes maps its staging repos with `replace => ./staging/...`, which `go install`
# refuses. A throwaway module requires it and points every staging repo at its published v0.N.x.
build_kubernetes() {
  have_all "$KUBE_DIR" "${KUBE_BINARIES[@]}" && return
  command -v go >/dev/null || die "go is needed to build the Kubernetes test binaries"
  log "building ${KUBE_BINARIES[*]} $KUBE_VERSION from the Go module proxy (first run only)"
  local work gomod staging_version
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [ -n "$gomod" ] || die "cannot download k8s.io/kubernetes@$KUBE_VERSION"
  staging_version="v0.${KUBE_VERSION#v1.}"
  {
    echo "module nodelet.local/kubetools"
    echo "go $(sed -n 's/^go //p' "$gomod")"
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 '"$staging_version"'#p' "$gomod"
  } >"$work/go.mod"
  mkdir -p "$KUBE_DIR"
  local minor="${KUBE_VERSION#v1.}"
  minor="${minor%%.*}"
  local version_pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $version_pkg.gitVersion=$KUBE_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor"
  (
    cd "$work"
    {
      printf '//go:build tools\n\npackage tools\n'
      for bin in "${KUBE_BINARIES[@]}"; do echo "import _ \"k8s.io/kubernetes/cmd/$bin\""; done
    } >tools.go
    go mod tidy >/dev/null
    for bin in "${KUBE_BINARIES[@]}"; do
      go build -trimpath -ldflags "$ldflags" -o "$KUBE_DIR/$bin.tmp" "k8s.io/kubernetes/cmd/$bin"
      mv "$KUBE_DIR/$bin.tmp" "$KUBE_DIR/$bin"
    done
  )
}

build_etcd() {
  have_all "$ETCD_DIR" etcd && return
  log "building etcd $ETCD_VERSION from the Go module proxy (first run only)"
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  printf 'module nodelet.local/etcdtool\ngo 1.24\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$work/go.mod"
  mkdir -p "$ETCD_DIR"
  (
    cd "$work"
    printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >tools.go
    go mod tidy >/dev/null
    go build -trimpath -ldflags "-s -w" -o "$ETCD_DIR/etcd.tmp" go.etcd.io/etcd/server/v3
    mv "$ETCD_DIR/etcd.tmp" "$ETCD_DIR/etcd"
  )
}

build_etcd
build_kubernetes
for bin in "${KUBE_BINARIES[@]}"; do ln -sf "$KUBE_DIR/$bin" "/usr/local/bin/nodelet-$bin"; done
ln -sf "$ETCD_DIR/etcd" /usr/local/bin/nodelet-etcd
# `kubectl` of the same release on PATH for scripts/cluster.sh users, unless one is installed there already.
[ -e /usr/local/bin/kubectl ] || ln -s "$KUBE_DIR/kubectl" /usr/local/bin/kubectl
