"""export_hf.py — a training run's checkpoint as a Hugging Face Llama folder, then (step 3) as GGUF.

    /usr/bin/python3 tools/train/export_hf.py tools/train/runs/final \
        --out assets/models/kvscope-shakespeare-hf --gguf assets/models/kvscope-shakespeare.gguf

  1. writes config.json, model.safetensors (F16 by default), vocab.json, merges.txt, tokenizer.json;
  2. reads the folder back and checks it: the same logits as the checkpoint (up to F16 rounding), and
     the validation loss of the stored weights, which is what the app will measure;
  3. FINAL STEP — GGUF: runs `build/app/cli/kvscope-cli convert FOLDER OUT.gguf --type f16` when that
     program has been built; otherwise prints the command to run once it is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess

import torch

from bpe import ByteBPE
from evaluate import find_corpus, report, split_corpus
from hf_folder import load_hf_model, write_hf_folder
from model import Llama, ModelConfig

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="training run folder (checkpoint.pt, tokenizer/)")
    ap.add_argument("--out", default=os.path.join(REPO, "assets/models/kvscope-shakespeare-hf"))
    ap.add_argument("--dtype", default="F16", choices=["F16", "F32"])
    ap.add_argument("--gguf", default=os.path.join(REPO, "assets/models/kvscope-shakespeare.gguf"))
    ap.add_argument("--cli", default=os.path.join(REPO, "build/app/cli/kvscope-cli"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    # --- 1. write the folder ------------------------------------------------------------------
    checkpoint = torch.load(os.path.join(args.run, "checkpoint.pt"))
    cfg = ModelConfig(**checkpoint["config"])
    model = Llama(cfg)
    model.load_state_dict(checkpoint["state"])
    model.eval()
    tokenizer = ByteBPE.load(os.path.join(args.run, "tokenizer"))
    metrics = checkpoint["metrics"]
    write_hf_folder(model, tokenizer, args.out, args.dtype, metadata={
        "kvscope_training": json.dumps({k: metrics[k] for k in ("best_step", "steps", "parameters", "threads")})})
    size = os.path.getsize(os.path.join(args.out, "model.safetensors"))
    print(f"wrote {args.out} ({args.dtype}, model.safetensors {size / 1e6:.2f} MB, {model.n_params()} parameters)")

    # --- 2. read it back and check ------------------------------------------------------------
    stored = load_hf_model(args.out)
    probe = torch.tensor([tokenizer.encode("ROMEO:\nWhat light through yonder window breaks?")])
    with torch.no_grad():
        diff = (stored(probe) - model(probe)).abs().max().item()
    print(f"logits of the stored weights vs the checkpoint: max |diff| {diff:.2e}")
    with open(find_corpus(), encoding="utf-8") as f:
        _, val_text = split_corpus(f.read())
    val_ids = torch.tensor(tokenizer.encode(val_text), dtype=torch.long)
    r = report(stored, val_ids, len(val_text), cfg.context_length)
    print(f"validation with the stored {args.dtype} weights: {r['nats_per_token']:.4f} nats/token  "
          f"{r['nats_per_char']:.4f} nats/char  {r['bits_per_char']:.4f} bits/char")
    with open(os.path.join(args.run, f"export_{args.dtype}.json"), "w") as f:
        json.dump({"max_logit_diff": diff, "validation": r}, f, indent=2)

    # --- 3. FINAL STEP: GGUF through the project's own writer ---------------------------------
    command = [args.cli, "convert", args.out, args.gguf, "--type", "f16"]
    if os.path.isfile(args.cli) and os.access(args.cli, os.X_OK):
        print("running:", " ".join(command))
        subprocess.run(command, check=True)
        print(f"wrote {args.gguf} ({os.path.getsize(args.gguf) / 1e6:.2f} MB)")
    else:
        print(f"GGUF step skipped: {args.cli} is not built yet. Once it is, run:\n  " + " ".join(command))


if __name__ == "__main__":
    main()
