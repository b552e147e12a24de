#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need, then lint, typecheck,
# build, and every test — unit, integration (root, real kernel) and end-to-end with the real
# crictl. The last line is the plain "N passed, N failed" that CI counts.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh || exit 1
npm run --silent lint || exit 1
npm run --silent typecheck || exit 1
npm run --silent build || exit 1

mkdir -p .cache
rm -f .cache/jest-results.json
npx jest --ci --maxWorkers=2 --json --outputFile=.cache/jest-results.json "$@"
status=$?
node -e '
  const fs = require("fs");
  let r;
  try { r = JSON.parse(fs.readFileSync(".cache/jest-results.json", "utf8")); } catch { r = null; }
  if (!r) { console.log("0 passed, 1 failed"); process.exit(0); }
  const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
exit $status
