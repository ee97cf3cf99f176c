#!/bin/sh
# tools/bench_cuda.sh — KVScope's CUDA backend against Hugging Face transformers on the same GPU, same
# model, same run; and against the roofline (weights + KV bytes a cached step reads, over the device's
# measured read bandwidth).
#
#   tools/bench_cuda.sh BUILD_DIR [MODEL_DIR [OUT_DIR]]
#
# BUILD_DIR holds app/cli/kvscope-cli built with CUDA. MODEL_DIR (default /tmp/kvscope-gpt2-small) is made
# with `kvscope-cli make-model MODEL_DIR --preset gpt2-small` when it has no config.json: GPT-2 small's
# shape (12 layers, 768 wide, 12 heads, 1024 context, 50257 tokens), float32, random N(0, 0.02) weights,
# a Hugging Face folder that transformers loads as it is. Both sides time decode steps at positions 128
# and 1000, cached and uncached (see tools/bench_transformers.py and app/cli/cmd_bench.cpp for what a step
# includes). Writes kvscope.json, transformers.json and summary.txt to OUT_DIR (default: the current
# folder) and prints the summary.
#
# Goals (issue 6): cached decode at least 2x faster per token than transformers, and within 3x of the
# bandwidth bound. The summary says met / NOT met for each; the script fails only when a step fails.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: tools/bench_cuda.sh BUILD_DIR [MODEL_DIR [OUT_DIR]]" >&2
  exit 2
fi
BUILD=$1
MODEL=${2:-/tmp/kvscope-gpt2-small}
OUT=${3:-.}
CLI=$BUILD/app/cli/kvscope-cli
HERE=$(dirname "$0")
POSITIONS=128,1000

[ -x "$CLI" ] || { echo "tools/bench_cuda.sh: $CLI not found (build first: tools/README-gpu.md)" >&2; exit 1; }
mkdir -p "$OUT"
if [ ! -f "$MODEL/config.json" ]; then
  "$CLI" make-model "$MODEL" --preset gpt2-small
fi

echo "== kvscope-cli bench --device cuda"
"$CLI" bench "$MODEL" --device cuda --contexts $POSITIONS --record both --json "$OUT/kvscope.json"
echo
echo "== transformers (PyTorch, eager attention, float32)"
PYTHONUNBUFFERED=1 python3 "$HERE/bench_transformers.py" "$MODEL" --positions $POSITIONS --json "$OUT/transformers.json"
echo

python3 - "$OUT/kvscope.json" "$OUT/transformers.json" <<'EOF' | tee "$OUT/summary.txt"
import json, sys
kv = json.load(open(sys.argv[1]))
hf = json.load(open(sys.argv[2]))
hf_rows = {r["position"]: r for r in hf["rows"]}
print(f"device        {kv['device']}")
print(f"transformers  {hf['transformers']} (torch {hf['torch']}) on {hf['device']}")
print(f"bandwidth     {kv['bandwidth_gb_per_s']:.0f} GB/s ({kv['bandwidth_method']})")
print(f"weights       {kv['weights_on_device_bytes'] / 2**20:.1f} MiB on the device")
print()
print(f"{'position':>8} {'record':>6} | {'kvscope':>9} {'HF':>9} {'speedup':>8} | {'bound':>8} {'x bound':>8} |"
      f" {'kvscope':>10} {'HF':>10} {'speedup':>8}")
print(f"{'':>8} {'':>6} | {'cached ms/token':^28} | {'roofline ms':^17} | {'uncached ms/token':^30}")
goals = []
for r in kv["rows"]:
    L = r["context"]
    h = hf_rows.get(L)
    if h is None:
        continue
    c = r["cached"]
    u = r["uncached"]
    speed = h["cached_ms_per_token"] / c["ms_per_token"]
    uspeed = h["uncached_ms_per_token"] / u["ms_per_token"] if u["ms_per_token"] > 0 else 0.0
    rec = "on" if r["recording"] else "off"
    print(f"{L:>8} {rec:>6} | {c['ms_per_token']:9.3f} {h['cached_ms_per_token']:9.3f} {speed:7.2f}x |"
          f" {c['bound_ms']:8.3f} {c['over_bound']:7.2f}x | {u['ms_per_token']:10.3f} {h['uncached_ms_per_token']:10.3f}"
          f" {uspeed:7.2f}x")
    if not r["recording"]:
        goals.append((L, speed, c["over_bound"]))
print()
for L, speed, over in goals:
    print(f"position {L}: cached {speed:.2f}x transformers (goal >= 2x: {'met' if speed >= 2 else 'NOT met'}),"
          f" {over:.2f}x the bandwidth bound (goal <= 3x: {'met' if over <= 3 else 'NOT met'})")
EOF
