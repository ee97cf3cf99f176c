#!/bin/bash
# tools/gpu_check.sh — what the CUDA backend needs a GPU for, in one go, on a machine with no Qt and no
# internet (the device tool's H100/H200): configure and build core + kvscope-cli + kvscope_parity from the
# headers carried in .carry/ (tools/gpu_carry.sh), run the parity check, then the benchmark against
# transformers (tools/bench_cuda.sh).
#
#   bash tools/gpu_check.sh [OUT_DIR]      (OUT_DIR default: gpu-out; logs and JSON land there)
#
# Environment: CUDA_ARCHS (default 90: H100 and H200 only, half the device compilation of the default
# build), JOBS (default: all cores), SKIP_BENCH=1 (parity only), SANITIZE=1 (also run the op checks
# under compute-sanitizer memcheck and racecheck; slow).
# Exit status: non-zero when the build or any parity check failed; the benchmark only reports.
set -u
cd "$(dirname "$0")/.." || exit 1
OUT=${1:-gpu-out}
BUILD=build-gpu
mkdir -p "$OUT"

GENERATOR=""
command -v ninja >/dev/null 2>&1 && GENERATOR="-G Ninja"
echo "== configure ($BUILD)"
# shellcheck disable=SC2086
if ! cmake -S . -B "$BUILD" $GENERATOR -DCMAKE_BUILD_TYPE=Release -DKVSCOPE_BUILD_APP=OFF -DKVSCOPE_BUILD_TESTS=OFF \
     -DKVSCOPE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}" \
     -DCMAKE_PREFIX_PATH="$PWD/.carry/sysroot/usr" -DKVSCOPE_FIXTURES_DIR="$PWD/.carry/fixtures" \
     >"$OUT/configure.log" 2>&1; then
  tail -40 "$OUT/configure.log"
  exit 1
fi
grep "KVScope:" "$OUT/configure.log"

echo "== build"
start=$(date +%s)
if ! cmake --build "$BUILD" -j"${JOBS:-$(nproc)}" >"$OUT/build.log" 2>&1; then
  grep -E "error|FAILED" -A4 "$OUT/build.log" | head -80
  exit 1
fi
echo "built in $(( $(date +%s) - start )) s; warnings: $(grep -c 'warning' "$OUT/build.log")"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true

echo "== parity"
"$BUILD/tests/parity/kvscope_parity" --require-cuda 2>&1 | tee "$OUT/parity.log"
parity=${PIPESTATUS[0]}

if [ "${SANITIZE:-0}" = 1 ] && command -v compute-sanitizer >/dev/null 2>&1; then
  echo "== compute-sanitizer (ops)"
  compute-sanitizer --tool memcheck --error-exitcode 3 "$BUILD/tests/parity/kvscope_parity" --ops-only \
    >"$OUT/memcheck.log" 2>&1
  echo "memcheck exit $? (log: memcheck.log)"; tail -3 "$OUT/memcheck.log"
  compute-sanitizer --tool racecheck --error-exitcode 3 "$BUILD/tests/parity/kvscope_parity" --ops-only \
    --filter attention >"$OUT/racecheck.log" 2>&1
  echo "racecheck exit $? (log: racecheck.log)"; tail -3 "$OUT/racecheck.log"
fi

if [ "${SKIP_BENCH:-0}" != 1 ]; then
  echo "== benchmark"
  tools/bench_cuda.sh "$BUILD" /tmp/kvscope-gpt2-small "$OUT" 2>&1 | tee "$OUT/bench.log"
fi
exit "$parity"
