#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need, then lint, typecheck,
# build, and every test — unit, integration (root, real kernel) and end-to-end with the real
# crictl, then the real critest (scripts/critest.sh). The last line is the plain
# "N passed, N failed" that CI counts: jest's tests and critest's specs together.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

scripts/install-test-deps.sh || exit 1
npm run --silent lint || exit 1
npm run --silent typecheck || exit 1
npm run --silent build || exit 1

mkdir -p .cache
rm -f .cache/jest-results.json
npx jest --ci --maxWorkers=2 --json --outputFile=.cache/jest-results.json "$@"
jest_status=$?

# The real critest against a daemon with the offline look-alike images (scripts/critest.sh).
scripts/critest.sh | tee .cache/critest.out
critest_status=${PIPESTATUS[0]}

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  try {
    const r = JSON.parse(fs.readFileSync(".cache/jest-results.json", "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    skipped += r.numPendingTests + r.numTodoTests;
  } catch { failed += 1; }
  const m = /critest: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(fs.readFileSync(".cache/critest.out", "utf8"));
  if (m) { passed += +m[1]; failed += +m[2]; skipped += +m[3]; } else failed += 1;
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
[ "$jest_status" -eq 0 ] && [ "$critest_status" -eq 0 ]
