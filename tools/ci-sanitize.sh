#!/bin/sh
# tools/ci-sanitize.sh — CI's sanitizer pass (the README's test command runs it after the normal build and
# tests): the core, kvscope-cli and the core tests built with -fsanitize=address,undefined and run, then
# every fuzz target for 30 s (tools/fuzz.sh). Any sanitizer report, failed test or fuzz crash fails it.
#
# What is left out and why: the app and its GUI and export tests (Qt's GUI stack and Mesa are not
# instrumented, and the app's own pass is the GUI monkey test) and the CUDA backend (ASan and the CUDA
# runtime do not mix). Times each part and the whole, so CI's log says what the pass costs.
set -eu
cd "$(dirname "$0")/.."
tools/deps.sh fuzz
start=$(date +%s)
build=${SANITIZE_BUILD_DIR:-build-sanitize}

mkdir -p "$build"
# Debug keeps asserts on (Result::value() on an error, Eigen's bounds); -O1 keeps the tests quick.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DKVSCOPE_BUILD_APP=OFF -DKVSCOPE_CUDA=OFF -DKVSCOPE_NATIVE=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j2
built=$(date +%s)
echo "ci-sanitize: ASan+UBSan build of core, kvscope-cli and the core tests: $((built - start)) s"

# halt_on_error: the first report fails the test. Leaks are reported too (detect_leaks is on by default).
ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  ctest --test-dir "$build" --output-on-failure -j2 -E '^format_check$'
tested=$(date +%s)
echo "ci-sanitize: core tests under ASan+UBSan: $((tested - built)) s"

tools/fuzz.sh 30
end=$(date +%s)
echo "ci-sanitize: fuzz smoke (build and 30 s per target): $((end - tested)) s"
echo "ci-sanitize: whole sanitizer pass: $((end - start)) s"
