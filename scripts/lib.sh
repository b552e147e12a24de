# Shared by the install scripts: small, idempotent steps that are quick when already done.
# shellcheck shell=bash

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root: nodelet builds containers with namespaces, mounts and cgroups"

# Go's module and build caches live beside the tools they build, not in a home directory: the
# upstream tools and the tests' `go run` reuse them on this machine and fill them on a new one.
export GOMODCACHE="${GOMODCACHE:-/usr/local/lib/nodelet-tools/go/mod}"
export GOCACHE="${GOCACHE:-/usr/local/lib/nodelet-tools/go/cache}"

# Installs the Debian packages named in a list file (one a line, # comments), only those missing.
apt_install_list() {
  local list="$1" missing=() pkg
  while read -r pkg; do
    pkg="${pkg%%#*}"; pkg="${pkg// /}"
    [ -n "$pkg" ] || continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done < "$list"
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

require_node() {
  if ! command -v node >/dev/null; then
    log "installing Node.js from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "nodelet needs Node.js >= 20 (found $(node --version))"
}

# npm ci when package-lock.json changed since the last install; then check that koffi's native
# part really loads (a failed optional dependency installs silently and fails only at require).
npm_install() {
  local stamp=node_modules/.nodelet-lock-sha
  local want
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
  node -e "require('koffi').load('libc.so.6')" || die "koffi cannot load libc: its native module did not install"
}
