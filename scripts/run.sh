#!/usr/bin/env bash
# The README's run command: installs what nodelet needs, builds it, then runs the daemon and the
# agent in standalone mode (static pods from /etc/nodelet/manifests) in the foreground. Ctrl-C or
# SIGTERM stops both; the containers' monitor stays, as it does across daemon upgrades.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
MANIFESTS="${NODELET_MANIFESTS:-/etc/nodelet/manifests}"
SOCKET="${NODELET_SOCKET:-/run/nodelet/nodelet.sock}"
mkdir -p "$MANIFESTS"

node dist/cli/main.js daemon --socket "$SOCKET" "$@" &
daemon=$!
trap 'kill -TERM "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 300); do
  [ -S "$SOCKET" ] && break
  kill -0 "$daemon" 2>/dev/null || { echo "error: nodelet daemon exited" >&2; exit 1; }
  sleep 0.1
done
node dist/cli/main.js agent --pod-manifest-path "$MANIFESTS" --container-runtime-endpoint "unix://$SOCKET"
