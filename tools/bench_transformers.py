#!/usr/bin/env python3
"""tools/bench_transformers.py — the Hugging Face side of tools/bench_cuda.sh.

Loads the same GPT-2-shaped folder that kvscope-cli benchmarks (written by `kvscope-cli make-model DIR
--preset gpt2-small`: 12 layers, 768 wide, 12 heads, 1024 context, float32) into GPT2LMHeadModel with
eager attention on the GPU, and times, like `kvscope-cli bench`:

  cached    decode steps at positions L, L+1, ...: one token in, use_cache=True with the past key/values
            of an untimed prefill of L tokens;
  uncached  the whole L+1 tokens from scratch, use_cache=False;

each step timed alone (CUDA synchronized before and after) including the greedy argmax of the last row,
read back to the host as generate() does; the median is reported. Only the last row goes through the
lm_head (logits_to_keep=1), as generate() and kvscope do. TF32 is off: float32 throughout, as kvscope.
Writes JSON (--json) and prints a table.
"""
import argparse
import json
import statistics
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", help="Hugging Face folder (kvscope-cli make-model DIR --preset gpt2-small)")
    ap.add_argument("--positions", default="128,1000", help="comma-separated positions L (default 128,1000)")
    ap.add_argument("--decode-steps", type=int, default=8, help="timed cached steps per position")
    ap.add_argument("--uncached-steps", type=int, default=3, help="timed uncached steps per position")
    ap.add_argument("--json", help="write the results here")
    return ap.parse_args()


def main():
    args = parse_args()
    import torch
    import transformers
    from transformers import GPT2LMHeadModel

    if not torch.cuda.is_available():
        sys.exit("bench_transformers.py: PyTorch sees no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device("cuda")
    try:
        model = GPT2LMHeadModel.from_pretrained(args.model_dir, dtype=torch.float32, attn_implementation="eager")
    except TypeError:  # transformers 4.x names it torch_dtype
        model = GPT2LMHeadModel.from_pretrained(args.model_dir, torch_dtype=torch.float32, attn_implementation="eager")
    model = model.to(device).eval()
    cfg = model.config
    positions = [int(p) for p in args.positions.split(",") if p]
    headroom = max(args.decode_steps, args.uncached_steps)
    for p in positions:
        if p < 1 or p + headroom > cfg.n_positions:
            sys.exit(f"bench_transformers.py: position {p} leaves no room for {headroom} steps in {cfg.n_positions}")

    gen = torch.Generator().manual_seed(1234)
    tokens = torch.randint(0, cfg.vocab_size, (1, cfg.n_positions), generator=gen).to(device)

    def forward(ids, past=None, use_cache=True):
        try:
            return model(ids, past_key_values=past, use_cache=use_cache, logits_to_keep=1)
        except TypeError:  # older transformers without logits_to_keep
            return model(ids, past_key_values=past, use_cache=use_cache)

    def timed(fn):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = fn()
        torch.cuda.synchronize()
        return out, (time.perf_counter() - t0) * 1e3

    rows = []
    with torch.inference_mode():
        # Warm-up: loads the kernels and cuBLAS's heuristics for both paths.
        out = forward(tokens[:, :64])
        for i in range(4):
            out = forward(tokens[:, 64 + i : 65 + i], out.past_key_values)
        forward(tokens[:, :65], use_cache=False)

        for L in positions:
            out = forward(tokens[:, :L])
            past = out.past_key_values
            cached = []
            for i in range(args.decode_steps):

                def step():
                    o = forward(tokens[:, L + i : L + i + 1], past)
                    o.logits[:, -1].argmax(-1).item()
                    return o

                out, ms = timed(step)
                past = out.past_key_values
                cached.append(ms)
            uncached = []
            for i in range(args.uncached_steps):

                def full():
                    o = forward(tokens[:, : L + i + 1], use_cache=False)
                    o.logits[:, -1].argmax(-1).item()
                    return o

                _, ms = timed(full)
                uncached.append(ms)
            row = {
                "position": L,
                "cached_ms_per_token": statistics.median(cached),
                "uncached_ms_per_token": statistics.median(uncached),
                "cached_ms_all": cached,
                "uncached_ms_all": uncached,
            }
            rows.append(row)
            print(
                f"transformers  position {L:5d}: cached {row['cached_ms_per_token']:8.3f} ms/token, "
                f"uncached {row['uncached_ms_per_token']:8.3f} ms/token",
                flush=True,
            )

    result = {
        "model": args.model_dir,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0),
        "attention": "eager",
        "dtype": "float32",
        "shape": {"layers": cfg.n_layer, "d_model": cfg.n_embd, "heads": cfg.n_head, "context": cfg.n_positions,
                  "vocab": cfg.vocab_size},
        "rows": rows,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
