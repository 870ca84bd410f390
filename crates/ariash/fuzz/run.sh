#!/usr/bin/env bash
# Runs every fuzz target of ariash for SECONDS seconds each (default 90) from the corpus kept
# in corpus/<target>, printing the executions reached. New inputs go to a scratch directory,
# not to the corpus; a crash, panic, stack overflow, timeout or out-of-memory (and a leak, under
# AddressSanitizer) fails the run and leaves its reproducer in artifacts/<target>/. Needs
# nightly and cargo-fuzz; see README.md.
#
# FUZZ_SANITIZER picks cargo-fuzz's sanitizer: `none` by default (what CI runs: the build takes
# a minute and a half instead of three and a half, and the code fuzzed is safe Rust), `address`
# for AddressSanitizer, which also saves the reproducer of a stack overflow (without it the
# process just dies with SIGSEGV, failing the run without one).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-90}
sanitizer=${FUZZ_SANITIZER:-none}
targets=(front_end run_stubbed)
# Without a terminal the diagnostics renderer takes its plain path anyway; say so explicitly.
export NO_COLOR=1

cargo +nightly fuzz build -s "$sanitizer"
for target in "${targets[@]}"; do
  scratch=$(mktemp -d)
  log=$(mktemp)
  status=0
  cargo +nightly fuzz run -s "$sanitizer" "$target" "$scratch" "$PWD/fuzz/corpus/$target" -- \
    -dict="$PWD/fuzz/ariash.dict" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log"
    echo "fuzz: $target FAILED (status $status); the reproducer, if one was saved, is in" \
      "crates/ariash/fuzz/artifacts/$target/ (none after a stack overflow: rerun with" \
      "FUZZ_SANITIZER=address to get one)"
  else
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true
    echo "fuzz: $target: ${execs:-?} executions in ${seconds} s, no crash"
  fi
  rm -rf "$scratch" "$log"
  [ "$status" -eq 0 ] || exit "$status"
done
