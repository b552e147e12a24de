#!/usr/bin/env bash
# The Conformance part of the test command (scripts/test.sh): scripts/conformance.sh on `kubelet` nodes
# with the specs of test/e2e/conformance-subset.txt and on `agent` nodes with those of
# test/e2e/conformance-agent-subset.txt, the two clusters side by side (a spec mostly waits for pods,
# so two at once take little more wall time than one). Each cluster is brought up once and down on
# every way out. Prints each kind's failed specs and counts, then the sum of both:
# "conformance: N passed, N failed, N skipped". The reports stay in .cache/conformance/<kind>/.
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=.cache/conformance-subset
KINDS=(kubelet agent)
declare -A SPECS=([kubelet]=test/e2e/conformance-subset.txt [agent]=test/e2e/conformance-agent-subset.txt)
# A hung spec must not eat the CI's budget: e2e.test stops itself after this and reports the rest.
export NODELET_CONFORMANCE_TIMEOUT="${NODELET_CONFORMANCE_TIMEOUT:-20m}"

rm -rf "$OUT"
mkdir -p "$OUT"
declare -A PIDS=()
stop_runs() {
  # Each conformance.sh brings its cluster down when it ends, by signal too: wait until it has.
  local kind
  for kind in "${!PIDS[@]}"; do kill -TERM "${PIDS[$kind]}" 2>/dev/null; done
  for kind in "${!PIDS[@]}"; do wait "${PIDS[$kind]}" 2>/dev/null; done
}
trap stop_runs EXIT
trap 'exit 130' INT TERM

started=$SECONDS
# Built here (cached), not left to cluster.sh: a failed build is a failure to show, where cluster.sh
# would fall back to the critest fixtures and every spec would fail on a missing image.
images="$(scripts/fixtures/build-e2e-images.sh 2>"$OUT/images.log" | tail -1)"
if [ ! -d "$images/registry" ]; then
  tail -20 "$OUT/images.log"
  echo "conformance: 0 passed, 1 failed, 0 skipped"
  echo "  [images] scripts/fixtures/build-e2e-images.sh failed: see $OUT/images.log"
  exit 1
fi
export NODELET_CLUSTER_IMAGES="$images/registry"

for kind in "${KINDS[@]}"; do
  scripts/conformance.sh --node-kind "$kind" --focus-file "${SPECS[$kind]}" >"$OUT/$kind.out" 2>&1 &
  PIDS[$kind]=$!
done
status=0
for kind in "${KINDS[@]}"; do
  wait "${PIDS[$kind]}" || status=1
  unset "PIDS[$kind]"
done

passed=0 failed=0 skipped=0
for kind in "${KINDS[@]}"; do
  echo "--- $kind nodes (${SPECS[$kind]}; log: $OUT/$kind.out, reports: .cache/conformance/$kind/)"
  grep -E '^  |^conformance: ' "$OUT/$kind.out"
  counts="$(grep -Eo '^conformance: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$OUT/$kind.out" | tail -1)"
  if [ -z "$counts" ]; then
    tail -20 "$OUT/$kind.out"
    failed=$((failed + 1))
    status=1
    continue
  fi
  read -r _ p _ f _ s _ <<<"$counts"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
echo "conformance (both kinds, $((SECONDS - started)) s): see above"
echo "conformance: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
