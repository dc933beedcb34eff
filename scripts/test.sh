#!/usr/bin/env bash
# Sets up everything and runs every test: unit, integration on SQLite,
# integration on PostgreSQL when TEST_POSTGRES_URL names a server (e.g.
# postgres://postgres@127.0.0.1:5432/postgres; each test creates its own
# database there), and end2end in Chromium against a demo server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test-tools
source scripts/env.sh
mkdir -p target
LOGS=target/test-logs; mkdir -p "$LOGS"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  step "PostgreSQL: $(echo "$TEST_POSTGRES_URL" | sed 's#//[^@]*@#//…@#')"
  # Each test works in its own schema of the database settle_test and drops
  # it afterwards; start from a clean database in case a run was killed.
  if command -v psql >/dev/null; then
    psql "$TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS settle_test WITH (FORCE)" >/dev/null 2>&1 || true
  fi
else
  step "TEST_POSTGRES_URL not set: PostgreSQL integration tests will be skipped"
fi

step "unit and integration tests"
set +e
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$LOGS/cargo-test.log"
rust_status=${PIPESTATUS[0]}
set -e

set +e
scripts/e2e.sh 2>&1 | tee "$LOGS/e2e.log"
e2e_status=${PIPESTATUS[0]}
set -e

# The client's weight, as the browser tests measured it.
grep -o '# figure .*' "$LOGS/e2e.log" || true

step "REST API against its OpenAPI document (schemathesis)"
set +e
scripts/api-schemathesis.sh > "$LOGS/api.log" 2>&1
api_status=$?
set -e
tail -n 22 "$LOGS/api.log"

tap() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$2" | tail -n1; }
passed=$(( $(grep -o '[0-9]* passed' "$LOGS/cargo-test.log" | awk '{s+=$1} END {print s+0}') + $(tap pass "$LOGS/e2e.log") + $(tap pass "$LOGS/api.log") + 0 ))
failed=$(( $(grep -o '[0-9]* failed' "$LOGS/cargo-test.log" | awk '{s+=$1} END {print s+0}') + $(tap fail "$LOGS/e2e.log") + $(tap fail "$LOGS/api.log") + 0 ))
[ "$rust_status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1   # a build failure counts
[ "$e2e_status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
[ "$api_status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo
echo "total: $passed passed, $failed failed"
[ "$rust_status" -eq 0 ] && [ "$e2e_status" -eq 0 ] && [ "$api_status" -eq 0 ]
