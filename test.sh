#!/usr/bin/env bash
# Runs every test of the solution: unit, contract and integration suites (real SQLite, real HTTP on loopback,
# real child processes). This is the README's test command and what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Serverless.sln --configuration Release --nologo "$@" 2>&1 | tee "$log" || status=$?

# One closing line over all test assemblies: "tests: N passed, N failed".
awk '/^(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") failed += $(i + 1) + 0
         if ($i == "Passed:") passed += $(i + 1) + 0
       }
     }
     END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
exit "$status"
