#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) in build-fuzz/ with clang-14 and
# runs each for a bounded time: FUZZ_SECONDS each (default 20), FUZZ_JOBS
# at once (default: the number of CPUs).  Prints the executions of every
# target and, for one that crashed, the path of the input that did; the last
# line is "N passed, N failed" and the exit status is non-zero on any crash.
#
# Usage: scripts/fuzz.sh [TARGET...]   e.g. scripts/fuzz.sh fuzz_frame
#        scripts/fuzz.sh --seeds       rewrite tests/fuzz/corpus/ from
#                                      tests/fuzz/gen_corpus.c and exit
#
# Each target reads its seeds (tests/fuzz/corpus/<target>, never written)
# and a working corpus in build-fuzz/fuzz-corpus/<target> that keeps what
# earlier runs found.  Crash inputs go to build-fuzz/fuzz-artifacts/, logs
# to build-fuzz/fuzz-logs/<target>.log.  Reproduce one with
#   build-fuzz/fuzz/<target> <crash file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-$(nproc)}
build=build-fuzz
all_targets=(fuzz_frame fuzz_sync_apply fuzz_signal_register fuzz_config_file
  fuzz_api_json fuzz_ws fuzz_ws_policy fuzz_text fuzz_token)

case "$seconds" in
  ''|*[!0-9]*|0) echo "fuzz.sh: FUZZ_SECONDS must be a positive integer" >&2; exit 2 ;;
esac
case "$jobs" in
  ''|*[!0-9]*|0) echo "fuzz.sh: FUZZ_JOBS must be a positive integer" >&2; exit 2 ;;
esac

echo "== build ($build, clang-14, libFuzzer + ASan + UBSan)"
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang-14 -DAGENTFLOW_FUZZ=ON \
  -DAGENTFLOW_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz >/dev/null

if [ "${1:-}" = "--seeds" ]; then
  "$build/fuzz/fuzz_gen_corpus" tests/fuzz/corpus
  echo "seeds written to tests/fuzz/corpus/"
  exit 0
fi

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  if [ ! -x "$build/fuzz/$t" ]; then
    echo "fuzz.sh: no target $t (known: ${all_targets[*]})" >&2
    exit 2
  fi
done

mkdir -p "$build/fuzz-logs" "$build/fuzz-artifacts"

# run TARGET: one bounded campaign; its status and log stay behind.
run() {
  local t=$1 log="$build/fuzz-logs/$1.log" rc=0
  local dict=()
  mkdir -p "$build/fuzz-corpus/$t"
  case $t in
    fuzz_signal_register|fuzz_api_json) dict=(-dict=tests/fuzz/json.dict) ;;
    fuzz_ws_policy) dict=(-dict=tests/fuzz/fuzz_ws.dict) ;;
    *) [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict") ;;
  esac
  # -close_fd_mask=2: the targets log at debug level (fuzz_util.h);
  # libFuzzer's and the sanitizers' own reports still print.
  ASAN_OPTIONS=detect_leaks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  timeout -k 10 $((seconds * 3 + 60)) \
    "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -close_fd_mask=2 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz-artifacts/$t-" "${dict[@]}" \
      "$build/fuzz-corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  echo "$rc" >"$build/fuzz-logs/$t.rc"
}

echo "== fuzzing ${#targets[@]} targets, ${seconds} s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
  rm -f "$build/fuzz-logs/$t.rc"
  run "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

passed=0
failed=0
for t in "${targets[@]}"; do
  log="$build/fuzz-logs/$t.log"
  rc=$(cat "$build/fuzz-logs/$t.rc" 2>/dev/null || echo 255)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    printf '%-22s ok     %10s executions  %7s exec/s\n' "$t" "${execs:-?}" "${rate:-?}"
  else
    failed=$((failed + 1))
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    printf '%-22s FAILED %10s executions  (exit %s)\n' "$t" "${execs:-?}" "$rc"
    grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|deadly signal' \
      "$log" | sed 's/^/    /' || true
    echo "    crash input: ${crash:-none written (see the log)}"
    echo "    log: $log"
    if [ -n "$crash" ]; then
      echo "    reproduce: $build/fuzz/$t $crash"
    fi
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
