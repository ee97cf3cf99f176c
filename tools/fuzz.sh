#!/bin/sh
# tools/fuzz.sh — builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) and runs each one.
#
#   tools/fuzz.sh                 every target for 30 s (what CI runs)
#   tools/fuzz.sh 3600            every target for an hour
#   tools/fuzz.sh 600 gguf llama2c   only those targets
#
# Each target starts from its committed seeds (tests/fuzz/seeds/<name>) plus what earlier runs here found
# (build-fuzz/corpus/<name>, kept between runs). A crash, a sanitizer report, a leak, an input that takes
# longer than 10 s or that makes the process use more than 2 GiB is a failure: the input is kept under
# build-fuzz/crashes/<name>/ and the script exits 1 once all targets have run. Reproduce one with
#   build-fuzz/tests/fuzz/fuzz_<name> build-fuzz/crashes/<name>/crash-...
# Targets run two at a time (FUZZ_JOBS to change). Compilers: CC/CXX, else clang-14 (Debian's clang-14 and
# libclang-rt-14-dev; tools/deps.sh fuzz installs them).
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-30}
[ $# -gt 0 ] && shift
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-2}

if [ ! -f "$build/build.ninja" ]; then
  mkdir -p "$build"
  CC=${CC:-clang-14} CXX=${CXX:-clang++-14} cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DKVSCOPE_FUZZ=ON -DKVSCOPE_BUILD_APP=OFF -DKVSCOPE_BUILD_TESTS=OFF -DKVSCOPE_CUDA=OFF \
    -DKVSCOPE_NATIVE=OFF >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
fi
if ! grep -q "KVSCOPE_HAVE_LIBFUZZER:INTERNAL=1" "$build/CMakeCache.txt"; then
  echo "tools/fuzz.sh: the compiler cannot build libFuzzer targets (see $build/CMakeFiles/CMakeError.log)" >&2
  exit 1
fi
cmake --build "$build" -j"$jobs" --target kvscope_fuzz

if [ $# -gt 0 ]; then targets="$*"; else targets=$(cat "$build/fuzz-targets.txt"); fi
mkdir -p "$build/logs"
run_one() {
  name=$1
  corpus="$build/corpus/$name"
  crashes="$build/crashes/$name"
  mkdir -p "$corpus" "$crashes"
  # -rss_limit_mb also bounds a single allocation (malloc_limit_mb defaults to it): a small file must not
  # make a loader ask for gigabytes.
  if ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" UBSAN_OPTIONS="print_stacktrace=1" \
    "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "tests/fuzz/seeds/$name" \
    >"$build/logs/$name.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/logs/$name.log")
    echo "fuzz $name: ok, ${runs:-?} runs in ${seconds} s"
  else
    echo "fuzz $name: FAILED (log: $build/logs/$name.log, input kept in $crashes/)"
    grep -E "ERROR: |runtime error|SUMMARY|fuzz: " "$build/logs/$name.log" | head -5
    return 1
  fi
}

failed=0
running=0
pids=""
for name in $targets; do
  [ -f "tests/fuzz/fuzz_$name.cpp" ] || { echo "tools/fuzz.sh: no target '$name'" >&2; exit 2; }
  run_one "$name" &
  pids="$pids $!"
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    for p in $pids; do wait "$p" || failed=1; done
    pids=""
    running=0
  fi
done
for p in $pids; do wait "$p" || failed=1; done
if [ "$failed" -ne 0 ]; then
  echo "tools/fuzz.sh: a fuzz target found a crash" >&2
  exit 1
fi
echo "tools/fuzz.sh: every target ran ${seconds} s without a crash"
