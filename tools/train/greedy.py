"""greedy.py — the PyTorch model's greedy continuation of a prompt, to check the C++ engine against.

    /usr/bin/python3 tools/train/greedy.py assets/models/kvscope-shakespeare-hf --prompt "ROMEO:" -n 32
    ... --reference ref.safetensors   also writes the tensors below, in the layout of shared/fixtures

Prints the prompt's ids (encoded without BOS, as the model was trained), the generated ids, and the
text. The model runs in float32 from the folder's weights exactly as stored (F16 widened to F32),
which is what the C++ engine computes with.
reference.safetensors:
    input_ids   I64 [T]      the prompt
    logits      F32 [T, V]   one forward over the prompt
    generated   I64 [N]      greedy continuation
    gen_logits  F32 [N, V]   the logits that chose each generated token
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from bpe import ByteBPE
from hf_folder import load_hf_model
from safetensors_io import write_safetensors


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="Hugging Face model folder")
    ap.add_argument("--prompt", default="ROMEO:")
    ap.add_argument("-n", "--tokens", type=int, default=32)
    ap.add_argument("--reference", help="write the tensors to this safetensors file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load_hf_model(args.folder)
    tok = ByteBPE.load(args.folder)

    prompt = tok.encode(args.prompt)
    ids = list(prompt)
    prompt_logits = model(torch.tensor([prompt]))[0]                      # [T, V]
    gen_logits = []
    for _ in range(args.tokens):
        logits = model(torch.tensor([ids[-model.cfg.context_length:]]))[0, -1]  # [V]
        gen_logits.append(logits)
        ids.append(int(logits.argmax()))
    generated = ids[len(prompt):]

    print("prompt_ids", json.dumps(prompt))
    print("generated_ids", json.dumps(generated))
    print("text", json.dumps(tok.decode(ids)))
    top2 = torch.stack(gen_logits).topk(2, dim=-1).values                  # [N, 2]
    print(f"smallest gap between the top two logits over the greedy steps: {(top2[:, 0] - top2[:, 1]).min():.4f}")
    if args.reference:
        write_safetensors(args.reference, {
            "input_ids": np.array(prompt, dtype=np.int64),
            "logits": prompt_logits.numpy().astype(np.float32),
            "generated": np.array(generated, dtype=np.int64),
            "gen_logits": torch.stack(gen_logits).numpy().astype(np.float32),
        })
        print(f"wrote {args.reference}")


if __name__ == "__main__":
    main()
