#!/usr/bin/env bash
# Contract test (npm run test:contract): an outside client checks that /openapi.json describes the running system.
#
# Boots the embedded all-in-one platform (dist/apps/platform/src/main.js: in-process bus, embedded DuckDB store, no
# NATS or MongoDB) on a free port, in a work dir whose data/sample is a small slice of the bundled sample (so the
# training and backtest routes stay quick), with one admin key; then runs schemathesis with every check on every
# operation (examples, coverage, fuzzing and stateful phases; fixed seed, bounded examples). Any failure or error of
# schemathesis fails the script. Settings: test/contract/schemathesis.toml.
#
# - schemathesis comes from PyPI into a venv of its own ($STRATA_SCHEMATHESIS_VENV, default
#   ~/.cache/strata-schemathesis/venv), created once and reused while it holds the pinned version.
# - STRATA_CONTRACT_SKIP_BUILD=1 uses dist/ as it is (.ci/run: test:system built it just before).
# - STRATA_CONTRACT_KEEP=1 keeps the work dir (platform log, schemathesis report) after a failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"
SCHEMATHESIS_VERSION=4.32.5
VENV="${STRATA_SCHEMATHESIS_VENV:-${HOME:-/tmp}/.cache/strata-schemathesis/venv}"
SEED="${STRATA_CONTRACT_SEED:-20261206}"
EXAMPLES="${STRATA_CONTRACT_MAX_EXAMPLES:-20}"
T0=$SECONDS

if ! { [ -x "$VENV/bin/schemathesis" ] && [ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" = "schemathesis, version $SCHEMATHESIS_VERSION" ]; }; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --only-binary=:all: "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ "${STRATA_CONTRACT_SKIP_BUILD:-}" != "1" ]; then npm run build --silent; fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/strata-contract.XXXXXX")"
PID=""
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  local rc=$?
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true; fi
  if [ "$rc" -ne 0 ] && [ "${STRATA_CONTRACT_KEEP:-}" = "1" ]; then
    echo "kept $WORK (platform.log, report/)"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT

# The platform loads ./data/sample when its store is empty: the last 300 daily bars of two symbols.
mkdir -p "$WORK/data/sample" "$WORK/state"
for sym in SPY AAPL; do
  { head -n 1 "data/sample/${sym}_1d.csv"; tail -n 300 "data/sample/${sym}_1d.csv"; } >"$WORK/data/sample/${sym}_1d.csv"
done

PORT=""
for _ in $(seq 1 200); do
  p=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p; break; fi
done
[ -n "$PORT" ] || { echo "no free port found" >&2; exit 1; }
KEY="contract-admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

(
  cd "$WORK"
  exec env -u NATS_URL -u MONGODB_URI PORT="$PORT" STRATA_DATA_DIR="$WORK/state" STRATA_API_KEYS="admin:$KEY" \
    LOG_LEVEL="${STRATA_CONTRACT_LOG_LEVEL:-warn}" SIGNALS_BATCH_THREADS=0 SIGNALS_ORT_THREADS=1 \
    node "$ROOT/dist/apps/platform/src/main.js"
) >"$WORK/platform.log" 2>&1 &
PID=$!

BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 240); do
  if curl -sf "$BASE/health/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "the platform exited during boot:" >&2
    tail -n 40 "$WORK/platform.log" >&2
    exit 1
  fi
  sleep 0.5
done
curl -sf "$BASE/health/ready" >/dev/null || { echo "the platform did not become ready on $BASE" >&2; exit 1; }
echo "platform ready on $BASE after $((SECONDS - T0)) s"

status=0
# From the work dir: schemathesis keeps its cache (.schemathesis/) there, so every run starts from nothing.
(cd "$WORK" && "$VENV/bin/schemathesis" --config-file "$ROOT/test/contract/schemathesis.toml" run "$BASE/openapi.json" \
  --checks all --seed "$SEED" --max-examples "$EXAMPLES" \
  -H "Authorization: Bearer $KEY" \
  --report junit,json --report-dir "$WORK/report") || status=$?

REPORT="$(ls "$WORK/report/"*.json 2>/dev/null | head -n 1 || true)"
if [ -n "$REPORT" ]; then
  # One JSON line of figures: operations, test cases, failures by check class (schemathesis code), errors.
  node -e '
    const r = require(process.argv[1]);
    const failures = Object.fromEntries((r.failures ?? []).map((f) => [`${f.code} ${f.title}`, f.count]));
    console.log(JSON.stringify({ contract: "schemathesis", operations: r.operations?.tested, testCases: r.test_cases?.generated, failures, errors: (r.errors ?? []).length, seconds: Math.round(r.running_time ?? 0) }));
  ' "$REPORT" || true
fi
echo "test:contract finished in $((SECONDS - T0)) s with exit code $status"
exit "$status"
