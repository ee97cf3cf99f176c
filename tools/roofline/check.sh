#!/bin/sh
# tools/roofline/check.sh — this machine's roofs measured twice: by KVScope (kvscope-cli roofline: the
# engine's GEMM, a read past the last-level cache, a STREAM-convention triad) and by two small independent
# programs (stream_triad.c: the STREAM triad with OpenMP; eigen_gemm.cpp: an Eigen GEMM with OpenMP), built
# here. Run it on a quiet machine: every figure is a best-of-N timing.
#   tools/roofline/check.sh [MODEL] [THREADS]
set -eu
cd "$(dirname "$0")/../.."
threads=${2:-$(nproc)}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cc -O3 -march=native -fopenmp tools/roofline/stream_triad.c -o "$dir/stream_triad"
c++ -O3 -march=native -fopenmp -I/usr/include/eigen3 tools/roofline/eigen_gemm.cpp -o "$dir/eigen_gemm"
echo "== independent"
OMP_NUM_THREADS=$threads "$dir/stream_triad" 512 10
OMP_NUM_THREADS=$threads "$dir/eigen_gemm" 1536 6
echo "== kvscope-cli roofline"
if [ $# -ge 1 ]; then
  build/app/cli/kvscope-cli roofline "$1" --threads "$threads"
else
  build/app/cli/kvscope-cli roofline --threads "$threads"
fi
