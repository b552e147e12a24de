#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need, then lint, typecheck,
# build, and every test — unit, integration (root, real kernel) and end-to-end with the real
# crictl, then the real critest (scripts/critest.sh), then a fixed subset of the Kubernetes
# Conformance suite on `kubelet` and `agent` nodes (scripts/conformance-subset.sh). The last line is
# the plain "N passed, N failed" that CI counts: jest's tests, critest's and e2e.test's specs together.
# NODELET_TEST_ONLY=jest,critest,conformance (any of them) runs only those parts, after the
# install and the build; lint and typecheck run only with the whole suite.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ONLY="${NODELET_TEST_ONLY:-}"
for part in ${ONLY//,/ }; do
  case "$part" in jest | critest | conformance) ;; *) die "NODELET_TEST_ONLY: unknown part '$part' (jest, critest, conformance)" ;; esac
done
runs() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

scripts/install-test-deps.sh || exit 1
if [ -z "$ONLY" ]; then
  npm run --silent lint || exit 1
  npm run --silent typecheck || exit 1
fi
npm run --silent build || exit 1

mkdir -p .cache
rm -f .cache/jest-results.json .cache/critest.out .cache/conformance.out
status=0
if runs jest; then
  npx jest --ci --maxWorkers=2 --json --outputFile=.cache/jest-results.json "$@" || status=1
fi

# The real critest against a daemon with the offline look-alike images (scripts/critest.sh).
if runs critest; then
  scripts/critest.sh | tee .cache/critest.out
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi

# e2e.test's specs of test/e2e/conformance-subset.txt on a cluster of `kubelet` nodes, and of
# test/e2e/conformance-agent-subset.txt on one of `agent` nodes; both clusters go down on any exit.
if runs conformance; then
  scripts/conformance-subset.sh | tee .cache/conformance.out
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi

# Each part that ran counts; one that ran and left no counts is one failure.
node -e '
  const fs = require("fs");
  const runs = (part) => !process.argv[1] || process.argv[1].split(",").includes(part);
  let passed = 0, failed = 0, skipped = 0;
  if (runs("jest")) {
    try {
      const r = JSON.parse(fs.readFileSync(".cache/jest-results.json", "utf8"));
      passed += r.numPassedTests;
      failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
      skipped += r.numPendingTests + r.numTodoTests;
    } catch { failed += 1; }
  }
  for (const part of ["critest", "conformance"]) {
    if (!runs(part)) continue;
    let out = "";
    try { out = fs.readFileSync(`.cache/${part}.out`, "utf8"); } catch {}
    // The last such line: conformance-subset.sh prints one per node kind, then their sum.
    const m = [...out.matchAll(new RegExp(`^${part}: (\\d+) passed, (\\d+) failed, (\\d+) skipped`, "gm"))].pop();
    if (m) { passed += +m[1]; failed += +m[2]; skipped += +m[3]; } else failed += 1;
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$ONLY"
[ "$status" -eq 0 ]
