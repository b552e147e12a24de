#!/usr/bin/env bash
# Runs the real critest against nodelet offline: the fixture images (critest's look-alikes under
# their original names) in a private docker-registry on 127.0.0.1, a daemon in a temporary root
# whose registry mirrors send critest's hosts there, then critest with the specs listed in
# test/e2e/critest-exclusions.txt skipped. Prints "critest: N passed, N failed, N skipped".
# Extra arguments go to critest (e.g. --ginkgo.focus=Streaming).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
CRITEST="$(command -v critest || echo /usr/local/bin/critest)"

work="$(mktemp -d /tmp/nodelet-critest.XXXXXX)"
# Own bridge, pod range and cgroup parent, so two runs on one machine never share them.
tag="${work##*.}"
bridge="ncr$tag"
registry_pid="" daemon_pid=""
teardown() {
  [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  node -e '
    const net = require("net"), sock = process.argv[1];
    const c = net.createConnection({ path: sock }, () =>
      c.write(JSON.stringify({ v: 1, id: 1, op: "shutdown", params: { killContainers: true } }) + "\n"));
    c.on("data", () => c.end()); c.on("error", () => {}); setTimeout(() => process.exit(0), 15000).unref();
  ' "$work/run/monitor.sock" 2>/dev/null
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
  ip link delete "$bridge" 2>/dev/null
  # The daemon removes its cgroup parent when it stops with nothing left; a container still exiting
  # at that moment keeps it, so the run's own parent goes here, deepest first, once all are gone.
  find /sys/fs/cgroup -maxdepth 2 -type d -name "nodelet-critest-$tag" -exec find {} -depth -type d -delete \; 2>/dev/null
  grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$work"
}
trap teardown EXIT

fixtures="$(scripts/fixtures/build-images.sh | tail -1)" || exit 1
cp -r "$fixtures/registry" "$work/storage"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
cat > "$work/registry.yml" <<YAML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/storage }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$port }
YAML
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!

mirror="[\"http://127.0.0.1:$port\"]"
cat > "$work/config.yaml" <<YAML
cgroupParent: /nodelet-critest-$tag
cniBridge: $bridge
podCidr: 10.199.$((RANDOM % 256)).0/24
cniConfDir: $work/cni
registry:
  mirrors:
    registry.k8s.io: $mirror
    k8s.gcr.io: $mirror
    gcr.io: $mirror
    docker.io: $mirror
    public.ecr.aws: $mirror
YAML
node dist/cli/main.js daemon --config "$work/config.yaml" --state-dir "$work/state" --run-dir "$work/run" \
  --metrics-address '' >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 300); do [ -S "$work/run/nodelet.sock" ] && break; sleep 0.1; done
[ -S "$work/run/nodelet.sock" ] || { echo "critest: the daemon did not start"; cat "$work/daemon.log"; exit 1; }

skip="$([ -n "${CRITEST_NO_EXCLUSIONS:-}" ] && echo "^$" || sed -e '/^#/d' -e 's/ # .*//' test/e2e/critest-exclusions.txt | paste -sd'|')"
"$CRITEST" --runtime-endpoint "unix://$work/run/nodelet.sock" --ginkgo.no-color \
  --ginkgo.skip="$skip" "$@" >"$work/critest.log" 2>&1
status=$?
grep -E '^\s*\[FAIL(ED)?\] |Ran [0-9]+ of|Passed \|' "$work/critest.log" | cut -c1-400
counts="$(grep -Eo '[0-9]+ Passed \| [0-9]+ Failed \| [0-9]+ Pending \| [0-9]+ Skipped' "$work/critest.log" | tail -1)"
if [ -z "$counts" ]; then
  tail -50 "$work/critest.log"
  echo "critest: 0 passed, 1 failed, 0 skipped"
  exit 1
fi
read -r passed _ _ failed _ _ _ _ _ skipped _ <<<"$counts"
echo "critest: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
