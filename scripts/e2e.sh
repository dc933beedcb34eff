#!/usr/bin/env bash
# The browser tests (Chromium, node:test) against two live servers built by
# `cargo test`/`cargo build`: the demo in test mode (sandbox gateway, a real
# SMTP server catching its email), and the demo taking payments through
# Stripe, where Stripe is the project's localstripe harness and the browser
# loads localstripe's fake Stripe.js. Called by scripts/test.sh; runnable on
# its own after a build:  scripts/e2e.sh [test files…]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
LOGS=target/test-logs; mkdir -p "$LOGS"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 150); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; return 1; }

step "build the wasm client for the browser tests (release: its weight is measured)"
# The server binary comes from `cargo test` (same features, no rebuild).
[ -x target/debug/settle ] || cargo build -q -p settle
if ! cargo leptos build --frontend-only --release > "$LOGS/leptos-build.log" 2>&1; then
  grep -v '^\s*[0-9]*: \|^\s*at ' "$LOGS/leptos-build.log" | grep -v '^\s*Compiling' | tail -n 40
  echo "the browser build failed (full log: $LOGS/leptos-build.log)"
  echo "# fail 1"
  exit 1
fi
tail -n 1 "$LOGS/leptos-build.log"

step "end2end (Chromium)"
E2E_DIR=$(mktemp -d)
PIDS=()
trap 'kill ${PIDS[@]+"${PIDS[@]}"} 2>/dev/null || true; rm -rf "$E2E_DIR"' EXIT
unset DATABASE_URL

# A real SMTP server catches the emails (sign-in codes) the browser tests read.
SMTP_PORT=$(free_port)
"$TEST_PYTHON" -u -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$E2E_DIR/Maildir" \
  > "$LOGS/e2e-smtp.log" 2>&1 &
PIDS+=($!)
wait_port "$SMTP_PORT"

# Server 1: the demo in test mode.
PORT=$(free_port)
(
  export SETTLE_DATA_DIR="$E2E_DIR/sandbox" SETTLE_LISTEN="127.0.0.1:$PORT" SETTLE_BASE_URL="http://127.0.0.1:$PORT"
  export SETTLE_LOG=warn SETTLE_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" SETTLE_MAIL_FROM="billing@settle.test"
  target/debug/settle demo | grep -o '/p/acme/l/[A-Za-z0-9_-]*' | head -n1 > "$E2E_DIR/link"
  # Two more demo customers for the payment tests: one whose card expired,
  # one with a card and two open invoices.
  target/debug/settle link --merchant acme --email marcus.oyelaran@example.com > "$E2E_DIR/pay-link"
  target/debug/settle link --merchant acme --email hannah.kowalczyk@example.com > "$E2E_DIR/decline-link"
  # And three for the accessibility tests: a tour of every page, the pay-all
  # flow by keyboard, and again without JavaScript.
  target/debug/settle link --merchant acme --email emily.tran@example.com > "$E2E_DIR/tour-link"
  target/debug/settle link --merchant acme --email wei.zhang@example.com > "$E2E_DIR/keyboard-link"
  target/debug/settle link --merchant acme --email sofia.lindqvist@example.com > "$E2E_DIR/nojs-link"
  # The page-weight figure: a customer with 50 open invoices, at a merchant
  # of her own so the demo's lists and figures stay as they are.
  SETTLE_OWNER_PASSWORD="weigh-fifty-invoices-$RANDOM-$RANDOM" target/debug/settle create-merchant \
    --slug bulk --name "Bulk Supply" --owner-email owner@bulk.example > /dev/null
  scripts/open-invoices-csv.sh 50 > "$E2E_DIR/fifty.csv"
  target/debug/settle import --merchant bulk "$E2E_DIR/fifty.csv" > /dev/null
  target/debug/settle link --merchant bulk --email load@example.com > "$E2E_DIR/weight-link"
  exec target/debug/settle serve
) > "$LOGS/e2e-server.log" 2>&1 &
PIDS+=($!)

# Server 2: the demo on Stripe (localstripe), its webhook registered there.
STRIPE_PORT=$(free_port)
"$TEST_PYTHON" end2end/stripe/localstripe_harness.py --port "$STRIPE_PORT" --parent-pid $$ > "$LOGS/e2e-localstripe.log" 2>&1 &
PIDS+=($!)
wait_port "$STRIPE_PORT"
PORT2=$(free_port)
WHSEC="whsec_e2e_$(date +%s%N)"
(
  export SETTLE_DATA_DIR="$E2E_DIR/stripe" SETTLE_LISTEN="127.0.0.1:$PORT2" SETTLE_BASE_URL="http://127.0.0.1:$PORT2"
  export SETTLE_LOG=warn SETTLE_STRIPE_SECRET_KEY=sk_test_settle_e2e SETTLE_STRIPE_PUBLISHABLE_KEY=pk_test_settle_e2e
  export SETTLE_STRIPE_API_BASE="http://127.0.0.1:$STRIPE_PORT" SETTLE_STRIPE_JS_URL="http://127.0.0.1:$STRIPE_PORT/js.stripe.com/v3/"
  target/debug/settle demo > /dev/null
  target/debug/settle gateway --merchant acme --gateway stripe --webhook-secret "$WHSEC" > /dev/null
  target/debug/settle link --merchant acme --email priya.r@example.com > "$E2E_DIR/stripe-link"
  target/debug/settle link --merchant acme --email jamal.haddad@example.com > "$E2E_DIR/stripe-decline-link"
  exec target/debug/settle serve
) > "$LOGS/e2e-stripe-server.log" 2>&1 &
PIDS+=($!)
curl -fs -X POST -H "Authorization: Bearer sk_test_settle_e2e" "http://127.0.0.1:$STRIPE_PORT/_config/webhooks/e2e" \
  -d "url=http://127.0.0.1:$PORT2/webhooks/stripe/acme" -d "secret=$WHSEC" > /dev/null

for p in "$PORT" "$PORT2"; do
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$p/readyz" > /dev/null 2>&1 && break; sleep 0.1; done
done

export E2E_BASE="http://127.0.0.1:$PORT" E2E_LINK=$(cat "$E2E_DIR/link") E2E_SHOTS=../target/e2e-screenshots
export E2E_MAILDIR="$E2E_DIR/Maildir" E2E_PAY_LINK=$(cat "$E2E_DIR/pay-link") E2E_DECLINE_LINK=$(cat "$E2E_DIR/decline-link")
export E2E_STRIPE_LINK=$(cat "$E2E_DIR/stripe-link") E2E_STRIPE_DECLINE_LINK=$(cat "$E2E_DIR/stripe-decline-link")
export E2E_TOUR_LINK=$(cat "$E2E_DIR/tour-link") E2E_KEYBOARD_LINK=$(cat "$E2E_DIR/keyboard-link")
export E2E_NOJS_LINK=$(cat "$E2E_DIR/nojs-link") E2E_WEIGHT_LINK=$(cat "$E2E_DIR/weight-link") E2E_WASM_PROFILE=release
if [ $# -gt 0 ]; then files=("$@"); else files=(tests/); fi
status=0
( cd end2end && node --test --test-concurrency=1 "${files[@]}" ) || status=$?
echo "screenshots: target/e2e-screenshots/"
exit $status
