#!/usr/bin/env bash
# Sets up everything, builds, creates the demo merchant (SQLite, sandbox
# gateway, no keys needed) and serves the portal on http://127.0.0.1:3000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
cargo leptos build --release 2>&1 | tail -n 3
export SETTLE_DATA_DIR=${SETTLE_DATA_DIR:-data}
target/release/settle demo
echo "Serving; press Ctrl-C to stop."
exec target/release/settle serve
