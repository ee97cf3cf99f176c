"""evaluate.py — validation loss of a model on a token stream, in nats per token and per character.

How every validation token is scored exactly once:
    chunks of `context` tokens, each starting one token before the previous chunk ended,
        chunk 0: tokens [0, 512)      predicts tokens 1..511 from their predecessors in the chunk
        chunk 1: tokens [511, 1023)   predicts tokens 512..1022
        ...
    so a token sees between 0 and 510 tokens of context (the same spread the model was trained on).
    The first token of the split has nothing before it (the model has no BOS); it is charged
    ln(vocab_size) nats, the cost of a uniform guess, so that every character is paid for.
nats/char = total nats / number of characters of the split's text; bits/char = nats/char / ln 2.

Run on a Hugging Face folder (e.g. the exported F16 weights):
    /usr/bin/python3 tools/train/evaluate.py assets/models/kvscope-shakespeare-hf
"""

from __future__ import annotations

import argparse
import math
import os
import time

import torch
import torch.nn.functional as F


@torch.no_grad()
def total_nats(model, ids: torch.Tensor, context: int, batch_size: int = 8, stride: int = 0) -> float:
    """Sum of -ln p(token | previous tokens) over ids[1:], plus ln V for ids[0] (a uniform guess).

    stride 0: consecutive chunks of `context` tokens overlapping by one; each token sees 0..context-2
    tokens before it (the quick score used during training). stride S > 0: a sliding window of
    `context` tokens moved S tokens at a time, scoring only its last S tokens (all of them in the first
    window), so every token after the first window sees at least context-1-S tokens before it — how a
    model with this context is used when it generates. Either way each token is scored exactly once."""
    model.eval()
    n = ids.numel()
    nats = math.log(model.cfg.vocab_size)
    # (start, length, first scored position inside the window)
    windows: list[tuple[int, int, int]] = []
    if stride <= 0:
        for s in range(0, max(n - 1, 1), context - 1):
            windows.append((s, min(context, n - s), 1))
    else:
        windows.append((0, min(context, n), 1))
        end = min(context, n)
        while end < n:
            new_end = min(end + stride, n)
            start = max(0, new_end - context)
            windows.append((start, new_end - start, end - start))
            end = new_end
    for b in range(0, len(windows), batch_size):
        # The last window is usually shorter; run windows of one shape together.
        by_shape: dict[tuple[int, int], list[int]] = {}
        for s, length, first in windows[b:b + batch_size]:
            by_shape.setdefault((length, first), []).append(s)
        for (length, first), ss in by_shape.items():
            if length < 2:
                continue
            x = torch.stack([ids[s:s + length] for s in ss])                     # [b, length]
            logits = model(x[:, :-1])[:, first - 1:]                              # [b, scored, V]
            targets = x[:, first:]
            nats += F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1),
                                    reduction="sum").item()
    return nats


def report(model, ids: torch.Tensor, n_chars: int, context: int, stride: int = 0) -> dict:
    t0 = time.time()
    nats = total_nats(model, ids, context, stride=stride)
    return {"stride": stride, "tokens": ids.numel(), "chars": n_chars, "total_nats": nats,
            "nats_per_token": nats / ids.numel(), "nats_per_char": nats / n_chars,
            "bits_per_char": nats / n_chars / math.log(2), "eval_seconds": time.time() - t0}


def find_corpus() -> str:
    """tinyshakespeare.txt lives in shared/ beside the repository (../shared from the repository root;
    a git worktree one level deeper finds it one more level up). $KVSCOPE_CORPUS overrides."""
    if os.environ.get("KVSCOPE_CORPUS"):
        return os.environ["KVSCOPE_CORPUS"]
    repo = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    candidates = [os.path.join(repo, "..", "shared"), os.path.join(repo, "..", "..", "shared")]
    for folder in candidates:
        path = os.path.normpath(os.path.join(folder, "corpora", "tinyshakespeare.txt"))
        if os.path.isfile(path):
            return path
    raise SystemExit("tinyshakespeare.txt not found in ../shared/corpora/ (set KVSCOPE_CORPUS or pass --corpus)")


def split_corpus(text: str, train_fraction: float = 0.9) -> tuple[str, str]:
    """The first 90% of the characters train, the last 10% validate."""
    cut = int(len(text) * train_fraction)
    return text[:cut], text[cut:]


def main():
    from bpe import ByteBPE
    from hf_folder import load_hf_model
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="Hugging Face model folder (config.json, model.safetensors, vocab.json, merges.txt)")
    ap.add_argument("--corpus", default=None, help="default: ../shared/corpora/tinyshakespeare.txt")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--stride", type=int, default=0,
                    help="0: chunks overlapping by one token; S: a sliding window scoring S new tokens at a time")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_hf_model(args.folder)
    tok = ByteBPE.load(args.folder)
    with open(args.corpus or find_corpus(), encoding="utf-8") as f:
        _, val_text = split_corpus(f.read())
    ids = torch.tensor(tok.encode(val_text), dtype=torch.long)
    r = report(model, ids, len(val_text), model.cfg.context_length, args.stride)
    how = f"sliding window, stride {args.stride}" if args.stride else "chunks overlapping by one token"
    print(f"validation (last 10%): {r['tokens']} tokens, {r['chars']} chars; {how}")
    print(f"  {r['nats_per_token']:.4f} nats/token  {r['nats_per_char']:.4f} nats/char  "
          f"{r['bits_per_char']:.4f} bits/char  ({r['eval_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
