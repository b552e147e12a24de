#!/usr/bin/env bash
# Installs everything the tests need on top of the run dependencies: Debian packages for fixtures
# and peers, and the real crictl and critest, pinned, built from the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

CRI_TOOLS_VERSION=v1.36.0
TOOLS_DIR=/usr/local/lib/nodelet-tools/cri-tools-$CRI_TOOLS_VERSION

scripts/install-deps.sh
apt_install_list scripts/apt-packages-test.txt

install_cri_tools() {
  if [ -x "$TOOLS_DIR/crictl" ] && [ -x "$TOOLS_DIR/critest" ]; then return; fi
  export PATH="$PATH:/usr/local/go/bin"
  command -v go >/dev/null || die "go is needed to build crictl and critest (Go >= 1.24)"
  log "building crictl and critest $CRI_TOOLS_VERSION from the Go module proxy"
  mkdir -p "$TOOLS_DIR"
  local ldflags="-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION"
  if ! GOBIN="$TOOLS_DIR" go install -ldflags "$ldflags" "sigs.k8s.io/cri-tools/cmd/crictl@$CRI_TOOLS_VERSION" 2>/dev/null; then
    # Some proxies refuse the module's version list, which `go install pkg@version` reads for
    # deprecation notices; building inside the downloaded module needs only the version itself.
    local dir
    dir="$(go mod download -json "sigs.k8s.io/cri-tools@$CRI_TOOLS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [ -n "$dir" ] || die "cannot download sigs.k8s.io/cri-tools@$CRI_TOOLS_VERSION"
    (cd "$dir" && GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$TOOLS_DIR/crictl" ./cmd/crictl)
  fi
  # critest is a Ginkgo test binary: cri-tools builds it with `go test -c`.
  local dir
  dir="$(go mod download -json "sigs.k8s.io/cri-tools@$CRI_TOOLS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  (cd "$dir" && GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0 go test -c -ldflags "$ldflags" -o "$TOOLS_DIR/critest" ./cmd/critest)
}
install_cri_tools
ln -sf "$TOOLS_DIR/crictl" /usr/local/bin/crictl
ln -sf "$TOOLS_DIR/critest" /usr/local/bin/critest

# Debian's dynamic busybox, whose shell execs other commands instead of running them as built-in
# applets (busybox-static's does): the look-alike of critest's busybox image needs it so a masked
# /bin/ls shows "Permission denied". Downloaded, not installed: it conflicts with busybox-static.
BUSYBOX_EXEC_DIR=/usr/local/lib/nodelet-tools/busybox-exec
install_busybox_exec() {
  if [ -x "$BUSYBOX_EXEC_DIR/busybox" ]; then return; fi
  log "fetching Debian's dynamic busybox for the critest image look-alike"
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download -o APT::Sandbox::User=root busybox >/dev/null && dpkg-deb -x busybox_*.deb x) ||
    { rm -rf "$tmp"; die "cannot download Debian's busybox package"; }
  mkdir -p "$BUSYBOX_EXEC_DIR"
  install -m 0755 "$tmp/x/bin/busybox" "$BUSYBOX_EXEC_DIR/busybox"
  rm -rf "$tmp"
}
install_busybox_exec

# etcd, kube-apiserver, kubelet, kubectl and kube-scheduler for the agent, kubelet and manifest tests.
scripts/install-kube-tools.sh
