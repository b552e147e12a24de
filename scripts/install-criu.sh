#!/usr/bin/env bash
# Gives this machine a CRIU that works on its kernel, from Debian's own archive: bookworm's criu 3.17
# fails `criu check` on kernels that split the vDSO's vvar mapping (6.13+, "Unexpected rt vDSO area
# bounds"); CRIU handles that from 4.1. So this builds trixie's criu 4.1.1 source package with
# bookworm's toolchain, installs the binary under /usr/local/lib/nodelet-tools and links it as
# /usr/local/bin/criu, ahead of /usr/sbin/criu on PATH (the daemon's default criuPath is `criu`).
# 4.1.1 also gets scripts/criu-patches/: without the breakpoint check from 4.2, every dump hangs on
# machines whose hardware breakpoints do not fire (some VMs), though `criu check` passes.
# Only the first run pays for the build (about a minute on 2 cores); then it only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

CRIU_VERSION=4.1.1
DEBIAN_REVISION=1
POOL=http://deb.debian.org/debian/pool/main/c/criu
ORIG=criu_$CRIU_VERSION.orig.tar.xz
ORIG_SHA256=f80a66cb3726bb2116266d4759ce3bcbfab7abdb6b6d430bf20dd41911717afe
DEBIAN_TAR=criu_$CRIU_VERSION-$DEBIAN_REVISION.debian.tar.xz
DEBIAN_TAR_SHA256=103855d69544c3417abdb5b309c1773db98af2293c4dc48bba39e244b85c778e
CRIU_DIR=/usr/local/lib/nodelet-tools/criu-$CRIU_VERSION
CRIU_BIN=$CRIU_DIR/criu

criu_works() { [ -x "$CRIU_BIN" ] && "$CRIU_BIN" check >/dev/null 2>&1; }

fetch_verified() {
  local name="$1" sha="$2" dest="$3"
  curl -fsSL --retry 3 -o "$dest/$name" "$POOL/$name" || return 1
  echo "$sha  $dest/$name" | sha256sum -c --quiet - || die "$name does not match its sha256 (from trixie's Sources)"
}

# Debian's patches, in series order, when the debian tarball is reachable and they apply. The
# upstream tarball alone builds a working criu: the tarball is optional (some mirrors lack it).
apply_debian_patches() {
  local work="$1" src="$2" p
  if ! fetch_verified "$DEBIAN_TAR" "$DEBIAN_TAR_SHA256" "$work"; then
    log "cannot download $POOL/$DEBIAN_TAR: building upstream $CRIU_VERSION without Debian's patches"
    return
  fi
  tar -C "$src" -xf "$work/$DEBIAN_TAR"
  [ -f "$src/debian/patches/series" ] || return 0
  while read -r p _; do
    case "$p" in '' | '#'*) continue ;; esac
    if patch -p1 -d "$src" --dry-run -s <"$src/debian/patches/$p" >/dev/null; then
      patch -p1 -d "$src" -s <"$src/debian/patches/$p"
    else
      log "Debian patch $p does not apply: skipped"
    fi
  done <"$src/debian/patches/series"
}

build_criu() {
  apt_install_list scripts/apt-packages-criu-build.txt
  log "building criu $CRIU_VERSION from Debian trixie's source package (first run only)"
  local work src p
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  fetch_verified "$ORIG" "$ORIG_SHA256" "$work" || die "cannot download $POOL/$ORIG"
  tar -C "$work" -xf "$work/$ORIG"
  src="$work/criu-$CRIU_VERSION"
  apply_debian_patches "$work" "$src"
  # Ours, which must apply: fixes from CRIU 4.2 that this kind of machine needs (see each header).
  for p in scripts/criu-patches/*.patch; do
    patch -p1 -d "$src" -s <"$p" || die "$p does not apply to criu $CRIU_VERSION"
  done
  # Only the binary: no docs (asciidoc/xmlto), crit, plugins or libcriu.
  make -C "$src" -j2 criu >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; die "criu $CRIU_VERSION did not build"; }
  mkdir -p "$CRIU_DIR"
  install -m 0755 "$src/criu/criu" "$CRIU_BIN.tmp"
  mv "$CRIU_BIN.tmp" "$CRIU_BIN"
}

criu_works || build_criu
ln -sf "$CRIU_BIN" /usr/local/bin/criu
# Its verdict on this kernel, shown; a criu that fails it would fail every checkpoint.
"$CRIU_BIN" check || die "$CRIU_BIN fails 'criu check' on this kernel ($(uname -r))"
