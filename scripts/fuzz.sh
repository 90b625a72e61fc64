#!/usr/bin/env bash
# fuzz.sh BUILD_DIR — run every libFuzzer binary BUILD_DIR/fuzz_<x> (built with FG_FUZZ=ON,
# see `make fuzz`) for FUZZ_SECONDS (default 60) over a scratch copy of fuzz/corpus/<x>/.
# The in-tree corpus is never modified: interesting new inputs stay in the scratch copy,
# whose path is printed, and crash reproducers land in BUILD_DIR/fuzz-artifacts/<x>/ —
# copy a reproducer into fuzz/corpus/<x>/ once fixed so the replay test keeps it fixed.
# Exit status: 0 if every target ran its time without a crash, 1 otherwise.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-60}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/finguard-fuzz.XXXXXX")

targets=0
failed=()
for bin in "$build"/fuzz_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  name=$(basename "$bin")
  x=${name#fuzz_}
  corpus="$scratch/$x"
  artifacts="$build/fuzz-artifacts/$x"
  mkdir -p "$corpus" "$artifacts"
  if [ -d "$root/fuzz/corpus/$x" ]; then
    cp -R "$root/fuzz/corpus/$x/." "$corpus/"
  fi
  targets=$((targets + 1))
  echo "fuzz: $name for ${seconds}s (corpus $corpus)"
  if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$artifacts/" "$corpus" >"$scratch/$x.log" 2>&1; then
    failed+=("$name")
    echo "fuzz: $name FAILED — log $scratch/$x.log, reproducers in $artifacts/" >&2
    tail -n 40 "$scratch/$x.log" >&2
  else
    grep -E '^(Done|stat::number_of_executed_units)' "$scratch/$x.log" || true
  fi
done

if [ "$targets" -eq 0 ]; then
  echo "fuzz: no fuzz_* binaries in $build (configure with -DFG_FUZZ=ON and CC=clang)" >&2
  exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of $targets targets failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: $targets targets ran ${seconds}s each without a crash (new inputs in $scratch)"
