#!/usr/bin/env bash
# The README's run command: installs what nodelet needs, builds it, and runs the daemon in the
# foreground (stop it with Ctrl-C or SIGTERM). Extra arguments go to `nodelet daemon`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
exec node dist/cli/main.js daemon "$@"
