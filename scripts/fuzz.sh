#!/usr/bin/env bash
# Runs every libFuzzer harness of tests/fuzz for a set time (docs/fuzzing.md).
#
#   scripts/fuzz.sh                 every harness, FUZZ_SECONDS each
#   scripts/fuzz.sh json_body smtp  only these
#
# Builds build/fuzz with Debian's clang (-fsanitize=fuzzer, ASan, UBSan),
# then runs each harness on a working corpus var/fuzz/corpus/NAME seeded
# from tests/fuzz/corpus/NAME. A crash stops that harness and leaves its
# input in var/fuzz/crashes/NAME/ (and the exit status is 1): fix the parser,
# then copy the input into tests/fuzz/corpus/NAME/ as a regression case
# (`make test` replays every corpus). FUZZ_MERGE=1 merges what the run
# found into tests/fuzz/corpus/NAME (smallest set that keeps the coverage).
#
# FUZZ_SECONDS   seconds per harness (default: 660 s split over them, so a
#                full run is at least ten minutes)
# FUZZ_JOBS      build parallelism (default 2)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
BUILD=build/fuzz
WORK=var/fuzz

mapfile -t ALL < <(find tests/fuzz -maxdepth 1 -name 'fuzz_*.c' -printf '%f\n' | sed 's/^fuzz_//; s/\.c$//' | sort)
NAMES=("$@")
((${#NAMES[@]})) || NAMES=("${ALL[@]}")
SECONDS_EACH="${FUZZ_SECONDS:-$(((660 + ${#NAMES[@]} - 1) / ${#NAMES[@]}))}"

echo "fuzz: building ${#NAMES[@]} harnesses with clang in $BUILD"
CC=clang cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DSHOPSPHERE_SANITIZE=ON \
  -DSHOPSPHERE_FUZZ=ON >/dev/null
targets=()
for n in "${NAMES[@]}"; do targets+=(--target "fuzz_$n"); done
cmake --build "$BUILD" -j"${FUZZ_JOBS:-2}" "${targets[@]}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

failed=()
summary=()
i=0
for n in "${NAMES[@]}"; do
  i=$((i + 1))
  corpus="$WORK/corpus/$n" crashes="$WORK/crashes/$n"
  mkdir -p "$corpus" "$crashes" "tests/fuzz/corpus/$n"
  cp -n tests/fuzz/corpus/"$n"/* "$corpus"/ 2>/dev/null || true
  echo
  echo "==== [$i/${#NAMES[@]}] $n: ${SECONDS_EACH} s ($(find "$corpus" -type f | wc -l) inputs to start) ===="
  log="$WORK/$n.log"
  rc=0
  "$BUILD/fuzz_$n" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" \
    "$corpus" >"$log" 2>&1 &
  pid=$!
  # Progress: libFuzzer's latest status line every 15 s.
  while kill -0 "$pid" 2>/dev/null; do
    sleep 15
    line="$(grep -aE '^#[0-9]+' "$log" | tail -n1 || true)"
    [[ -n "$line" ]] && echo "  $n: $line"
  done
  wait "$pid" || rc=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -n1 || true)"
  if ((rc != 0)); then
    failed+=("$n")
    echo "---- $n: FINDING (exit $rc); input(s) in $crashes/, log $log"
    grep -A30 -m1 -E 'ERROR: |runtime error' "$log" || true
  else
    echo "---- $n: clean, ${execs:-?} executions, ${cov:-cov ?}"
  fi
  summary+=("$n|${SECONDS_EACH}|${execs:-?}|${cov#cov: }|$([[ $rc == 0 ]] && echo clean || echo FINDING)")
  if [[ "${FUZZ_MERGE:-0}" == 1 && $rc == 0 ]]; then
    "$BUILD/fuzz_$n" -merge=1 "tests/fuzz/corpus/$n" "$corpus" >/dev/null 2>&1 || true
  fi
done

echo
printf '%-16s %8s %14s %8s %s\n' harness seconds executions edges result
for row in "${summary[@]}"; do
  IFS='|' read -r n s e c r <<<"$row"
  printf '%-16s %8s %14s %8s %s\n' "$n" "$s" "$e" "$c" "$r"
done
if ((${#failed[@]})); then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: every harness ran clean"
