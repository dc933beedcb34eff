#!/usr/bin/env bash
# Fuzzes Settle's parsers of untrusted input with cargo-fuzz (libFuzzer):
# the CSV import, Stripe webhook payloads and signature headers, reminder
# templates, and the settings (environment and file). Each target runs for
# a bounded time and prints its exec count; a crash stops the script with
# the input saved under fuzz/artifacts/<target>/ (make it a regression test).
#
#   scripts/fuzz.sh                 # 60 s per target
#   scripts/fuzz.sh 300 webhook     # one target, five minutes
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(csv_import webhook template config)
command -v cargo-fuzz > /dev/null || cargo install --locked cargo-fuzz
# cargo-fuzz passes -Z flags (sanitizers, coverage): a nightly compiler when
# rustup has one, else the stable compiler told to accept them.
toolchain=()
if rustup toolchain list | grep -q '^nightly'; then toolchain=(+nightly); else export RUSTC_BOOTSTRAP=1; fi
unset RUSTUP_TOOLCHAIN
mkdir -p target
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  mkdir -p "$corpus"
  cp fuzz/seeds/"$t"/* "$corpus"/ 2> /dev/null || true
  echo "fuzzing $t for ${SECS}s (log: target/fuzz-$t.log)"
  status=0
  cargo "${toolchain[@]}" fuzz run "$t" "$corpus" -- -max_total_time="$SECS" -print_final_stats=1 \
    > "target/fuzz-$t.log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "target/fuzz-$t.log" | tail -n1)
  if [ "$status" -ne 0 ]; then
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "target/fuzz-$t.log" | head -n 20
    echo "# figure fuzz $t: CRASH after ${execs:-?} execs"
    exit 1
  fi
  echo "# figure fuzz $t: ${execs:-?} execs in ${SECS}s, corpus $(ls "$corpus" | wc -l) inputs, no crash"
done
