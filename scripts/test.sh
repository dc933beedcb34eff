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

step "build server and wasm client for the browser tests"
# The server binary comes from `cargo test` above (same features, no rebuild).
if ! cargo leptos build --frontend-only > "$LOGS/leptos-build.log" 2>&1; then
  grep -v '^\s*[0-9]*: \|^\s*at ' "$LOGS/leptos-build.log" | grep -v '^\s*Compiling' | tail -n 40
  echo "the browser build failed (full log: $LOGS/leptos-build.log)"
  echo "total: 0 passed, 1 failed"
  exit 1
fi
tail -n 3 "$LOGS/leptos-build.log"

step "end2end (Chromium)"
E2E_DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SETTLE_DATA_DIR="$E2E_DIR" SETTLE_LISTEN="127.0.0.1:$PORT" SETTLE_BASE_URL="http://127.0.0.1:$PORT" SETTLE_LOG=warn
unset DATABASE_URL
# A real SMTP server catches the emails (sign-in codes) the browser tests read.
SMTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TEST_PYTHON" -u -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$E2E_DIR/Maildir" \
  > "$LOGS/e2e-smtp.log" 2>&1 &
SMTP=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT) 2>/dev/null && break; sleep 0.1; done
export SETTLE_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" SETTLE_MAIL_FROM="billing@settle.test"
LINK=$(target/debug/settle demo | grep -o '/p/acme/l/[A-Za-z0-9_-]*' | head -n1)
# Two more demo customers for the payment tests: one whose card expired, one
# with a card and two open invoices.
export E2E_PAY_LINK=$(target/debug/settle link --merchant acme --email marcus.oyelaran@example.com)
export E2E_DECLINE_LINK=$(target/debug/settle link --merchant acme --email hannah.kowalczyk@example.com)
target/debug/settle serve > "$LOGS/e2e-server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER $SMTP 2>/dev/null || true; rm -rf "$E2E_DIR"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
set +e
( cd end2end && E2E_BASE="http://127.0.0.1:$PORT" E2E_LINK="$LINK" E2E_SHOTS=../target/e2e-screenshots \
    E2E_MAILDIR="$E2E_DIR/Maildir" \
    node --test --test-concurrency=1 tests/ ) 2>&1 | tee "$LOGS/e2e.log"
e2e_status=${PIPESTATUS[0]}
set -e
echo "screenshots: target/e2e-screenshots/"

passed=$(( $(grep -o '[0-9]* passed' "$LOGS/cargo-test.log" | awk '{s+=$1} END {print s+0}') + $(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$LOGS/e2e.log" | tail -n1) ))
failed=$(( $(grep -o '[0-9]* failed' "$LOGS/cargo-test.log" | awk '{s+=$1} END {print s+0}') + $(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$LOGS/e2e.log" | tail -n1) ))
[ "$rust_status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1   # a build failure counts
[ "$e2e_status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo
echo "total: $passed passed, $failed failed"
[ "$rust_status" -eq 0 ] && [ "$e2e_status" -eq 0 ]
