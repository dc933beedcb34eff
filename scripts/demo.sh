#!/usr/bin/env bash
# Sets up everything, builds, creates the demo merchant (SQLite, sandbox
# gateway, no keys needed) and serves the portal on http://127.0.0.1:3000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
mkdir -p target
if ! cargo leptos build --release > target/demo-build.log 2>&1; then
  grep -v '^\s*[0-9]*: \|^\s*at \|^\s*Compiling' target/demo-build.log | tail -n 40
  echo "demo.sh: the build failed (full log: target/demo-build.log)" >&2
  exit 1
fi
tail -n 2 target/demo-build.log
export SETTLE_DATA_DIR=${SETTLE_DATA_DIR:-data}
target/release/settle demo
echo "Serving; press Ctrl-C to stop."
exec target/release/settle serve
