#!/usr/bin/env bash
# Takes the README's picture of Prometheus' graph page showing the CPU of nodelet's containers: a
# daemon in a temporary root (fixture images from a private docker-registry, as scripts/critest.sh
# does), a pod with a busy-looping and an idle container, Debian's prometheus on a copy of the shipped
# configuration, and headless chromium. Run by hand as root after `npm run build`; not part of CI.
# Needs: chromium, prometheus, docker-registry, crictl. Writes docs/img/prometheus-container-cpu.png
# (or the path given as the first argument). Takes about two minutes: a rate needs a minute of samples.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
OUT="${1:-$ROOT/docs/img/prometheus-container-cpu.png}"
CRICTL="$(command -v crictl)" || { echo "error: crictl is not on PATH: run scripts/install-test-deps.sh" >&2; exit 1; }
CHROMIUM="$(command -v chromium || command -v chromium-browser)"
WAIT_SECONDS="${WAIT_SECONDS:-90}"

work="$(mktemp -d /tmp/nodelet-shot.XXXXXX)"
tag="${work##*.}"
bridge="nsh$tag"
registry_pid="" daemon_pid="" prom_pid=""
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
cri() { "$CRICTL" --runtime-endpoint "unix://$work/run/nodelet.sock" "$@"; }
export CRI_CONFIG_FILE=/dev/null

teardown() {
  set +e
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
  if [ -n "$daemon_pid" ]; then
    for pod in $(cri pods -q 2>/dev/null); do cri stopp "$pod" >/dev/null; cri rmp -f "$pod" >/dev/null; done
    kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  fi
  node -e '
    const net = require("net"), sock = process.argv[1];
    const c = net.createConnection({ path: sock }, () =>
      c.write(JSON.stringify({ v: 1, id: 1, op: "shutdown", params: { killContainers: true } }) + "\n"));
    c.on("data", () => c.end()); c.on("error", () => {}); setTimeout(() => process.exit(0), 15000).unref();
  ' "$work/run/monitor.sock" 2>/dev/null
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
  ip link delete "$bridge" 2>/dev/null
  grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$work"
}
trap teardown EXIT

echo "screenshot: fixture images, registry and daemon in $work"
fixtures="$(scripts/fixtures/build-images.sh | tail -1)"
cp -r "$fixtures/registry" "$work/storage"
rport="$(free_port)"
cat >"$work/registry.yml" <<YAML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/storage } }
http: { addr: 127.0.0.1:$rport }
YAML
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!

cat >"$work/config.yaml" <<YAML
cgroupParent: /nodelet-shot-$tag
cniBridge: $bridge
podCidr: 10.198.$((RANDOM % 256)).0/24
cniConfDir: $work/cni
registry:
  mirrors:
    registry.k8s.io: ["http://127.0.0.1:$rport"]
YAML
metrics="127.0.0.1:$(free_port)"
node dist/cli/main.js daemon --config "$work/config.yaml" --state-dir "$work/state" --run-dir "$work/run" \
  --metrics-address "$metrics" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 300); do [ -S "$work/run/nodelet.sock" ] && break; sleep 0.1; done

cat >"$work/pod.json" <<JSON
{ "metadata": { "name": "cpu-demo", "namespace": "default", "uid": "cpu-demo-$tag", "attempt": 0 },
  "log_directory": "$work/logs", "linux": {} }
JSON
pod="$(cri runp "$work/pod.json")"
for name in busy idle; do
  command='["sh", "-c", "while :; do :; done"]'
  [ "$name" = idle ] && command='["sleep", "3600"]'
  cat >"$work/$name.json" <<JSON
{ "metadata": { "name": "$name" }, "image": { "image": "registry.k8s.io/e2e-test-images/busybox:1.29-2" },
  "command": $command, "log_path": "$name.log", "linux": {} }
JSON
  cri start "$(cri create --with-pull "$pod" "$work/$name.json" "$work/pod.json")" >/dev/null
done

pport="$(free_port)"
sed -e "s/127\.0\.0\.1:10375/$metrics/g" -e 's/\(scrape_interval\|evaluation_interval\): \S*/\1: 5s/' \
  manifests/monitoring/prometheus.yml >"$work/prometheus.yml"
cp manifests/monitoring/nodelet-alerts.yml "$work/"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$pport" >"$work/prometheus.log" 2>&1 &
prom_pid=$!
echo "screenshot: collecting samples for ${WAIT_SECONDS}s"
sleep "$WAIT_SECONDS"

expr='sum by (container) (rate(container_cpu_usage_seconds_total{job="nodelet", container!=""}[1m]))'
query="$(node -e 'console.log(encodeURIComponent(process.argv[1]))' "$expr")"
url="http://127.0.0.1:$pport/graph?g0.expr=$query&g0.tab=0&g0.range_input=2m"
mkdir -p "$(dirname "$OUT")"
"$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,900 \
  --virtual-time-budget=15000 --screenshot="$OUT" "$url" 2>"$work/chromium.log" ||
  { cat "$work/chromium.log"; exit 1; }
echo "screenshot: wrote $OUT"
