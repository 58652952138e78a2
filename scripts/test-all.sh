#!/usr/bin/env bash
# The one command that runs every test (README, .ci/run). Does its own set-up on a fresh machine.
# Its last line is "N passed, N failed, N skipped": Jest's tests plus the static checks (build,
# typecheck, lint, dist), each check counted as one. Every skipped test is listed with its reason
# (describeUnless/itUnless from @npl/testkit); with CI=true a skip counts as a failure. The exit
# code is 0 exactly when that line says 0 failed. Arguments go to Jest.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bootstrap.sh
source scripts/bootstrap.sh
npl_bootstrap || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
npl_ensure_cluster_binaries || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

results=.test-results
mkdir -p "$results"
checks="$results/checks.tsv"
skips="$results/skips.jsonl"
jest_json="$results/jest.json"
rm -f "$checks" "$skips" "$jest_json"

# check NAME STATUS [REASON]: one line of the checks file read by the summary.
check() {
  printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$checks"
  echo "[test-all] $1: $2${3:+ ($3)}"
}

built=0
for task in build typecheck lint; do
  if pnpm exec turbo run "$task" --output-logs=errors-only; then
    check "$task" passed
    [ "$task" = build ] && built=1
  else
    check "$task" failed
  fi
done

# Test and bench code must never ship: every package's dist/ after the build.
if [ "$built" = 1 ]; then
  if node packages/testkit/src/check-dist.ts .; then check dist passed; else check dist failed; fi
else
  check dist skipped "the build failed, so there is no dist/ to check"
fi

NPL_SKIP_LOG="$PWD/$skips" node --experimental-vm-modules node_modules/jest/bin/jest.js --ci --json --outputFile="$jest_json" "$@"
jest_rc=$?

node packages/testkit/src/summarize.ts --root "$PWD" --jest "$jest_json" --jest-exit "$jest_rc" --skips "$skips" --checks "$checks"
