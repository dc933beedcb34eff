#!/usr/bin/env bash
# The dunning benchmark (issue 5): one sweep over a million open invoices
# (10,000 customers) next to hand-written set-based SQL doing the same, and
# the delivery worker's emails/s next to a raw pooled lettre loop, on SQLite
# and on PostgreSQL (TEST_POSTGRES_URL, default the local server). Prints
# the figures; it is a measurement, not a test.
#   scripts/bench-dunning.sh [invoices] [customers] [emails]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test-tools
source scripts/env.sh
INVOICES=${1:-1000000}; CUSTOMERS=${2:-10000}; EMAILS=${3:-2000}
PG=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build -q --release -p settle --example bench_dunning
BIN=target/release/examples/bench_dunning
DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT

echo "== SQLite"
"$BIN" "sqlite://$DIR/bench.db?mode=rwc" "$INVOICES" "$CUSTOMERS" "$EMAILS"

echo "== PostgreSQL"
psql "$PG" -qc "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS settle_bench" -c "CREATE DATABASE settle_bench" >/dev/null
BENCH_URL=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path="/settle_bench").geturl())' "$PG")
"$BIN" "$BENCH_URL" "$INVOICES" "$CUSTOMERS" "$EMAILS"
psql "$PG" -qc "DROP DATABASE settle_bench" >/dev/null
