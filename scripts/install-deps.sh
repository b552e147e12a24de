#!/usr/bin/env bash
# Installs what nodelet needs to run, and builds it: Debian packages, CRIU, npm dependencies, dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

require_node
apt_install_list scripts/apt-packages-run.txt
scripts/install-criu.sh
npm_install
log "building"
npm run --silent build >/dev/null
