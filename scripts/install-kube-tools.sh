#!/usr/bin/env bash
# Builds the Kubernetes parts the agent, kubelet, manifest and cluster tests run against: kube-apiserver,
# kubelet, kubectl, kube-scheduler, kube-controller-manager and kube-proxy of one pinned release, the
# conformance suite of that release (e2e.test) with the servers its images hold (agnhost,
# sample-apiserver), etcd and CoreDNS, all from the Go module proxy, static (CGO_ENABLED=0) so that
# they run in images without a libc.
# Cached under /usr/local/lib/nodelet-tools, so only the first run pays for the build (e2e.test alone
# takes the better part of an hour on two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

KUBE_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
# The newest CoreDNS whose go.mod this machine's Go (1.26) accepts; kubeadm v1.36 deploys v1.14.2,
# an image of that name is built from this binary (scripts/fixtures/build-e2e-images.sh).
COREDNS_VERSION=v1.15.0
AGNHOST_VERSION=2.63.0
# The Ginkgo CLI runs e2e.test's specs in parallel processes (hack/ginkgo-e2e.sh does the same); its
# version is the one k8s.io/kubernetes $KUBE_VERSION requires, which e2e.test is built with.
GINKGO_VERSION=v2.28.1
KUBE_DIR=/usr/local/lib/nodelet-tools/kubernetes-$KUBE_VERSION
ETCD_DIR=/usr/local/lib/nodelet-tools/etcd-$ETCD_VERSION
COREDNS_DIR=/usr/local/lib/nodelet-tools/coredns-$COREDNS_VERSION
KUBE_BINARIES=(kube-apiserver kubelet kubectl kube-scheduler kube-controller-manager kube-proxy)

export PATH="$PATH:/usr/local/go/bin"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod" GOTOOLCHAIN=local

have_all() {
  local dir="$1" bin
  shift
  for bin in "$@"; do [ -x "$dir/$bin" ] || return 1; done
}

# k8s.io/kubernetes maps its staging repos with `replace => ./staging/...`, which `go install`
# refuses. A throwaway module (in the current directory) requires it and points every staging repo
# at its published v0.N.x; tools.go imports PACKAGES so that `go mod tidy` records what they need.
kube_module() {
  local gomod staging_version pkg
  gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [ -n "$gomod" ] || die "cannot download k8s.io/kubernetes@$KUBE_VERSION"
  staging_version="v0.${KUBE_VERSION#v1.}"
  {
    echo "module nodelet.local/kubetools"
    echo "go $(sed -n 's/^go //p' "$gomod")"
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 '"$staging_version"'#p' "$gomod"
  } >go.mod
  {
    printf '//go:build tools\n\npackage tools\n'
    for pkg in "$@"; do echo "import _ \"$pkg\""; done
  } >tools.go
  go mod tidy >/dev/null
}

kube_ldflags() {
  local minor="${KUBE_VERSION#v1.}" version_pkg=k8s.io/component-base/version
  minor="${minor%%.*}"
  echo "-s -w -X $version_pkg.gitVersion=$KUBE_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor"
}

build_kubernetes() {
  have_all "$KUBE_DIR" "${KUBE_BINARIES[@]}" && return
  command -v go >/dev/null || die "go is needed to build the Kubernetes test binaries"
  log "building ${KUBE_BINARIES[*]} $KUBE_VERSION from the Go module proxy (first run only)"
  local work bin pkgs=()
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  for bin in "${KUBE_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$bin"); done
  mkdir -p "$KUBE_DIR"
  (
    cd "$work"
    kube_module "${pkgs[@]}"
    for bin in "${KUBE_BINARIES[@]}"; do
      go build -trimpath -ldflags "$(kube_ldflags)" -o "$KUBE_DIR/$bin.tmp" "k8s.io/kubernetes/cmd/$bin"
      mv "$KUBE_DIR/$bin.tmp" "$KUBE_DIR/$bin"
    done
  )
}

# The conformance suite is a Ginkgo test binary: its specs are registered by the imports of
# test/e2e/e2e_test.go, which tools.go repeats so that `go mod tidy` sees them.
build_e2e_test() {
  have_all "$KUBE_DIR" e2e.test && return
  command -v go >/dev/null || die "go is needed to build e2e.test"
  log "building e2e.test $KUBE_VERSION from the Go module proxy (first run only; long)"
  local work dir
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  dir="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$dir" ] || die "cannot download k8s.io/kubernetes@$KUBE_VERSION"
  mkdir -p "$KUBE_DIR"
  (
    cd "$work"
    # shellcheck disable=SC2046 # one import path a word
    kube_module k8s.io/kubernetes/test/e2e $(sed -n '/^import (/,/^)/s/^[[:space:]]*[a-z0-9_]*[[:space:]]*"\([a-z0-9-]*\.[^"]*\)"$/\1/p' "$dir/test/e2e/e2e_test.go")
    go test -c -vet=off -trimpath -ldflags "$(kube_ldflags)" -o "$KUBE_DIR/e2e.test.tmp" k8s.io/kubernetes/test/e2e
    mv "$KUBE_DIR/e2e.test.tmp" "$KUBE_DIR/e2e.test"
  )
}

# agnhost: the one test server (netexec, serve-hostname, pause, liveness, ...) most specs run.
build_agnhost() {
  have_all "$KUBE_DIR" agnhost && return
  command -v go >/dev/null || die "go is needed to build agnhost"
  log "building agnhost $AGNHOST_VERSION (of Kubernetes $KUBE_VERSION) from the Go module proxy (first run only)"
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  mkdir -p "$KUBE_DIR"
  (
    cd "$work"
    kube_module k8s.io/kubernetes/test/images/agnhost
    go build -trimpath -ldflags "-s -w -X main.Version=$AGNHOST_VERSION" -o "$KUBE_DIR/agnhost.tmp" k8s.io/kubernetes/test/images/agnhost
    mv "$KUBE_DIR/agnhost.tmp" "$KUBE_DIR/agnhost"
  )
}

# A module without replace directives (CoreDNS, the sample API server, Ginkgo) builds a main package
# inside its own downloaded copy, read-only: MODULE VERSION OUTPUT [PACKAGE DIR, default the root].
build_module_main() {
  local module="$1" version="$2" out="$3" pkg="${4:-.}" dir
  [ -x "$out" ] && return
  command -v go >/dev/null || die "go is needed to build $module"
  log "building $module $version from the Go module proxy (first run only)"
  dir="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$dir" ] || die "cannot download $module@$version"
  mkdir -p "$(dirname "$out")"
  (cd "$dir" && GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$out.tmp" "$pkg")
  mv "$out.tmp" "$out"
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
build_agnhost
build_module_main github.com/coredns/coredns "$COREDNS_VERSION" "$COREDNS_DIR/coredns"
# The aggregator specs run it (registry.k8s.io/e2e-test-images/sample-apiserver).
build_module_main k8s.io/sample-apiserver "v0.${KUBE_VERSION#v1.}" "$KUBE_DIR/sample-apiserver"
build_module_main github.com/onsi/ginkgo/v2 "$GINKGO_VERSION" "$KUBE_DIR/ginkgo" ./ginkgo
build_e2e_test
ln -sf "$KUBE_DIR/ginkgo" /usr/local/bin/nodelet-ginkgo
for bin in "${KUBE_BINARIES[@]}" agnhost sample-apiserver e2e.test; do ln -sf "$KUBE_DIR/$bin" "/usr/local/bin/nodelet-$bin"; done
ln -sf "$ETCD_DIR/etcd" /usr/local/bin/nodelet-etcd
ln -sf "$COREDNS_DIR/coredns" /usr/local/bin/nodelet-coredns
# `kubectl` of the same release on PATH for scripts/cluster.sh users, unless one is installed there already.
[ -e /usr/local/bin/kubectl ] || ln -s "$KUBE_DIR/kubectl" /usr/local/bin/kubectl
