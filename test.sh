#!/usr/bin/env bash
# Runs every test of the solution: unit, contract and integration suites (real SQLite, real HTTP on loopback,
# real child processes, Azurite's table service, Blender). This is the README's test command and what .ci/run calls.
# Blender comes from the system packages, installed here when it is missing (apt-get, with sudo unless root).
#
# Azurite and tree-sitter-bicep (the Bicep parser of tests/Btmc.Infra.Tests) come from package.json /
# package-lock.json, installed into ./node_modules by `npm ci` when missing. Azurite is started
# here (table service only, loopback, a free port, a throw-away folder), and stopped on exit. The tests find it through
# BTMC_TEST_AZURITE_TABLES (a connection string for Azurite's development account). If Azurite cannot be installed
# or started, this script fails: the Azure contract tests are never skipped.
set -euo pipefail
cd "$(dirname "$0")"

log=$(mktemp)
azurite_dir=$(mktemp -d)
azurite_pid=
cleanup() {
  if [[ -n "$azurite_pid" ]] && kill -0 "$azurite_pid" 2>/dev/null; then
    kill "$azurite_pid" 2>/dev/null || true
    wait "$azurite_pid" 2>/dev/null || true
  fi
  rm -rf "$azurite_dir"
  rm -f "$log"
}
trap cleanup EXIT

fail() {
  echo "test.sh: $*" >&2
  exit 1
}

# ---------------------------------------------------------------- Azurite (table service only)
command -v node >/dev/null || fail "node is not on PATH; Node.js is needed to run Azurite for the Azure table tests."
if [[ ! -x node_modules/.bin/azurite-table || ! -f node_modules/tree-sitter-bicep/package.json || ! -f node_modules/tree-sitter/package.json ]]; then
  command -v npm >/dev/null || fail "npm is not on PATH; it installs Azurite (package.json) for the Azure table tests."
  echo "test.sh: installing Azurite and tree-sitter-bicep into ./node_modules (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error || fail "npm ci failed: Azurite is not installed."
  [[ -x node_modules/.bin/azurite-table ]] || fail "npm ci did not install node_modules/.bin/azurite-table."
fi

port=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });') \
  || fail "could not find a free port for Azurite."
node_modules/.bin/azurite-table --tableHost 127.0.0.1 --tablePort "$port" --location "$azurite_dir/data" \
  --silent --skipApiVersionCheck --disableTelemetry >"$azurite_dir/azurite.log" 2>&1 &
azurite_pid=$!

ready=
for _ in $(seq 1 300); do
  kill -0 "$azurite_pid" 2>/dev/null || break
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    ready=yes
    break
  fi
  sleep 0.1
done
if [[ -z "$ready" ]]; then
  cat "$azurite_dir/azurite.log" >&2 || true
  fail "Azurite's table service did not start on 127.0.0.1:$port within 30 s (log above); the Azure table tests cannot run."
fi
echo "test.sh: Azurite table service on 127.0.0.1:$port (pid $azurite_pid)"

# Azurite's published development account (not a secret), on the port chosen above.
export BTMC_TEST_AZURITE_TABLES="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$port/devstoreaccount1;"

# ---------------------------------------------------------------- Blender (the rendering jobs' tests render real frames)
if ! command -v blender >/dev/null; then
  echo "test.sh: installing Blender from the system packages"
  as_root=; [[ $(id -u) -eq 0 ]] || as_root=sudo
  ($as_root apt-get update && $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends blender) \
    || fail "could not install Blender (apt-get install blender); the rendering tests need it."
fi

# ---------------------------------------------------------------- tests
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
