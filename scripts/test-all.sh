#!/usr/bin/env bash
# The one command that runs every test (README, .ci/run). Does its own set-up on a fresh machine.
# Ends with a line "N passed, N failed": Jest's test cases plus the static checks (build,
# typecheck, lint), each counted as one.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bootstrap.sh
source scripts/bootstrap.sh
npl_bootstrap || { echo "0 passed, 1 failed"; exit 1; }
npl_ensure_cluster_binaries || { echo "0 passed, 1 failed"; exit 1; }

checks_passed=0
checks_failed=0
for task in build typecheck lint; do
  if pnpm exec turbo run "$task" --output-logs=errors-only; then
    checks_passed=$((checks_passed + 1)); echo "[test-all] $task: ok"
  else
    checks_failed=$((checks_failed + 1)); echo "[test-all] $task: FAILED"
  fi
done

mkdir -p .test-results
results=.test-results/jest.json
rm -f "$results"
node --experimental-vm-modules node_modules/jest/bin/jest.js --ci --json --outputFile="$results" "$@"
jest_rc=$?

node -e '
  const fs = require("node:fs");
  const [file, cp, cf, rc] = process.argv.slice(1);
  let p = 0, f = 0;
  if (fs.existsSync(file)) {
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    p = r.numPassedTests; f = r.numFailedTests + r.numRuntimeErrorTestSuites;
    if (r.numTotalTests === 0) f += 1;
  } else f = 1;
  if (f === 0 && Number(rc) !== 0) {
    f = 1;
    console.log(`[test-all] jest exited with code ${rc} although no test failed (a test file set process.exitCode or crashed the runner; see above)`);
  }
  console.log(`${p + Number(cp)} passed, ${f + Number(cf)} failed`);
  process.exit(f + Number(cf) === 0 ? 0 : 1);
' "$results" "$checks_passed" "$checks_failed" "$jest_rc"
