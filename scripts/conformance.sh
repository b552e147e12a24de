#!/usr/bin/env bash
# Runs the Kubernetes Conformance suite (e2e.test of the same release as the kubelet) against a
# cluster of this machine (scripts/cluster.sh), then brings the cluster down, whatever happened.
#
#   scripts/conformance.sh --node-kind agent|kubelet|kubelet-containerd [--nodes N]
#                          [--focus REGEX | --focus-file FILE] [--skip REGEX] [--parallel N]
#
# Default focus `\[Conformance\]`, default skip `\[Serial\]|\[Disruptive\]` (--skip '' runs them too;
# NODELET_CONFORMANCE_FOCUS / NODELET_CONFORMANCE_SKIP set them for `npm run conformance`).
# --focus-file runs the specs a file names, one a line (test/e2e/conformance-subset.txt says how). The JUnit
# report and e2e.test's log go to .cache/conformance/<kind>/; the last lines are each failed spec and
# "conformance: N passed, N failed, N skipped" (skipped: specs the focus selected that skipped
# themselves, e.g. for a missing provider feature; specs the focus left out are not counted).
# NODELET_CONFORMANCE_REPORT=DIR writes the report there instead (one directory per part run side by side).
# --parallel N (or NODELET_CONFORMANCE_PARALLEL) runs the specs in N processes through the Ginkgo CLI
# (nodelet-ginkgo, built by scripts/install-kube-tools.sh), as Kubernetes' hack/ginkgo-e2e.sh does;
# [Serial] specs, when not skipped, still run one at a time at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
E2E="${NODELET_E2E_TEST:-/usr/local/bin/nodelet-e2e.test}"

KIND="" NODES=2 FOCUS_FILE="" PARALLEL="${NODELET_CONFORMANCE_PARALLEL:-1}"
GINKGO="${NODELET_GINKGO:-/usr/local/bin/nodelet-ginkgo}"
FOCUS="${NODELET_CONFORMANCE_FOCUS:-\[Conformance\]}"
SKIP="${NODELET_CONFORMANCE_SKIP-\[Serial\]|\[Disruptive\]}"
while [ $# -gt 0 ]; do
  case "$1" in
  --node-kind) KIND="${2:-}" && shift 2 ;;
  --nodes) NODES="${2:-}" && shift 2 ;;
  --focus) FOCUS="${2:-}" && shift 2 ;;
  --focus-file) FOCUS_FILE="${2:-}" && shift 2 ;;
  --skip) SKIP="${2-}" && shift 2 ;;
  --parallel) PARALLEL="${2:-}" && shift 2 ;;
  *)
    echo "Usage: scripts/conformance.sh --node-kind agent|kubelet|kubelet-containerd [--nodes N] [--focus REGEX | --focus-file FILE] [--skip REGEX] [--parallel N]" >&2
    exit 2
    ;;
  esac
done
[ -n "$KIND" ] || { echo "conformance: --node-kind is required" >&2; exit 2; }
# A spec list: each name matched literally up to its labels (" [NodeConformance] ..."), so a name
# never selects a longer one it begins ("... with mappings" and "... with mappings as non-root").
focus_from_file() {
  sed -e 's/[[:space:]]#.*//' -e '/^[[:space:]]*#/d' -e 's/[[:space:]]*$//' -e '/^$/d' "$1" |
    while IFS= read -r line; do
      case "$line" in
      're: '*) echo "${line#re: }" ;;
      *) printf '%s( \\[|$)\n' "$(printf '%s' "$line" | sed 's/[][\\.*^$(){}+?|]/\\&/g')" ;;
      esac
    done | paste -sd'|'
}
if [ -n "$FOCUS_FILE" ]; then
  [ -f "$FOCUS_FILE" ] || { echo "conformance: no spec list $FOCUS_FILE" >&2; exit 2; }
  FOCUS="$(focus_from_file "$FOCUS_FILE")"
  [ -n "$FOCUS" ] || { echo "conformance: $FOCUS_FILE names no spec" >&2; exit 2; }
fi
[ -x "$E2E" ] || { echo "conformance: missing $E2E: scripts/install-kube-tools.sh builds e2e.test" >&2; exit 1; }
case "$PARALLEL" in '' | *[!0-9]* | 0) echo "conformance: --parallel takes a number of processes, not '$PARALLEL'" >&2 && exit 2 ;; esac
if [ "$PARALLEL" -gt 1 ] && [ ! -x "$GINKGO" ]; then
  echo "conformance: --parallel needs $GINKGO: scripts/install-kube-tools.sh builds it" >&2
  exit 1
fi

# NODELET_CONFORMANCE_REPORT puts the report elsewhere (two runs of one kind side by side).
REPORT="${NODELET_CONFORMANCE_REPORT:-$ROOT/.cache/conformance/$KIND}"
rm -rf "$REPORT"
mkdir -p "$REPORT"
DIR="$(mktemp -d /tmp/nodelet-conformance.XXXXXX)"
child=""
teardown() {
  # A signal lands here while `up` or e2e.test runs: stop it first, so nothing starts what down removes.
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child" 2>/dev/null
  # Keep the cluster's logs beside the report: the first place to look for a failed spec's cause.
  [ -d "$DIR/logs" ] && cp -r "$DIR/logs" "$REPORT/cluster-logs" 2>/dev/null
  scripts/cluster.sh down --dir "$DIR" >>"$REPORT/cluster.log" 2>&1
}
trap teardown EXIT
trap 'exit 130' INT TERM
# run CMD...: CMD in the background, waited for, so that INT/TERM reach the trap at once (bash runs a
# trap only after a foreground command ends) and teardown can stop it.
run() {
  "$@" &
  child=$!
  wait "$child"
  local status=$?
  child=""
  return "$status"
}

echo "conformance: bringing up $NODES $KIND node(s) in $DIR" >&2
run scripts/cluster.sh up --nodes "$NODES" --node-kind "$KIND" --dir "$DIR" >"$REPORT/cluster.log" 2>&1
kubeconfig="$(tail -1 "$REPORT/cluster.log" | sed -n 's/^KUBECONFIG=//p')"
if [ -z "$kubeconfig" ]; then
  tail -30 "$REPORT/cluster.log"
  echo "conformance: 0 passed, 1 failed, 0 skipped"
  echo "  [cluster] scripts/cluster.sh up failed: see $REPORT/cluster.log"
  exit 1
fi

shown="'$FOCUS'"
[ -n "$FOCUS_FILE" ] && shown="<the specs of $FOCUS_FILE>"
echo "conformance: e2e.test --ginkgo.focus=$shown --ginkgo.skip='$SKIP', $PARALLEL process(es) (log: $REPORT/e2e.log)" >&2
e2e_args=(--provider=local --kubeconfig="$kubeconfig" --report-dir="$REPORT"
  --kubectl-path="${NODELET_KUBECTL:-/usr/local/bin/nodelet-kubectl}")
timeout="${NODELET_CONFORMANCE_TIMEOUT:-24h}"
if [ "$PARALLEL" -gt 1 ]; then
  run env KUBECONFIG="$kubeconfig" "$GINKGO" --procs="$PARALLEL" --focus="$FOCUS" ${SKIP:+--skip="$SKIP"} \
    --no-color --timeout="$timeout" --output-dir="$REPORT" --junit-report=junit.xml \
    "$E2E" -- "${e2e_args[@]}" >"$REPORT/e2e.log" 2>&1
else
  run env KUBECONFIG="$kubeconfig" "$E2E" "${e2e_args[@]}" \
    --ginkgo.focus="$FOCUS" ${SKIP:+--ginkgo.skip="$SKIP"} --ginkgo.no-color \
    --ginkgo.timeout="$timeout" --ginkgo.junit-report="$REPORT/junit.xml" >"$REPORT/e2e.log" 2>&1
fi
status=$?

# The counts and the failed specs, from the JUnit report.
if [ ! -f "$REPORT/junit.xml" ]; then
  tail -40 "$REPORT/e2e.log"
  echo "conformance: 0 passed, 1 failed, 0 skipped"
  echo "  [e2e.test] wrote no report (exit $status): see $REPORT/e2e.log"
  exit 1
fi
node "$ROOT/scripts/cluster/junit-summary.js" "$REPORT/junit.xml"
summary=$?
[ "$status" -eq 0 ] && [ "$summary" -eq 0 ]
