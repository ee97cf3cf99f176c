"""sample.py — text from a trained model: temperature sampling, one file per seed.

    /usr/bin/python3 tools/train/sample.py assets/models/kvscope-shakespeare-hf \
        --prompt "ROMEO:" --tokens 300 --temperature 0.8 --seeds 0 1 2 3 4 --out-dir tools/train/runs/samples

Each step runs the whole sequence again (no KV cache: this is the plain reference, not the fast path).
The prompt is encoded without any BOS, as in training. Sampling: softmax(logits / temperature), one
draw with torch.multinomial from a generator seeded with the seed, so a seed gives the same text
on the same machine and thread count.
Files: OUT_DIR/sample_seed<N>.txt holding the prompt followed by the generated text.
"""

from __future__ import annotations

import argparse
import os

import torch

from bpe import ByteBPE
from hf_folder import load_hf_model


@torch.no_grad()
def generate(model, prompt_ids: list[int], n_tokens: int, temperature: float, seed: int | None) -> list[int]:
    """prompt_ids + n_tokens new ids; seed None means greedy (argmax)."""
    rng = torch.Generator().manual_seed(seed) if seed is not None else None
    ids = list(prompt_ids)
    context = model.cfg.context_length
    for _ in range(n_tokens):
        x = torch.tensor([ids[-context:]], dtype=torch.long)  # [1, T] (the last `context` tokens)
        logits = model(x)[0, -1].float()                       # [V]
        if rng is None:
            nxt = int(logits.argmax())
        else:
            probs = torch.softmax(logits / temperature, dim=-1)
            nxt = int(torch.multinomial(probs, 1, generator=rng))
        ids.append(nxt)
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="Hugging Face model folder")
    ap.add_argument("--prompt", default="ROMEO:")
    ap.add_argument("--tokens", type=int, default=300, help="new tokens per sample")
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_hf_model(args.folder)
    tok = ByteBPE.load(args.folder)
    os.makedirs(args.out_dir, exist_ok=True)
    prompt_ids = tok.encode(args.prompt)
    for seed in args.seeds:
        ids = generate(model, prompt_ids, args.tokens, args.temperature, seed)
        text = tok.decode(ids)
        path = os.path.join(args.out_dir, f"sample_seed{seed}.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"=== seed {seed} ({path}) ===\n{text}\n")


if __name__ == "__main__":
    main()
