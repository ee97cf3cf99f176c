"""train.py — trains KVScope's embedded model: a byte-level BPE tokenizer, then a small Llama on it.

    /usr/bin/python3 tools/train/train.py --out tools/train/runs/final --threads 2

What it does, in order:
  1. splits tinyshakespeare.txt by characters: the first 90% trains, the last 10% validates;
  2. learns a GPT-2 style byte-level BPE on the training 90% only (bpe.py) and encodes both parts;
  3. trains the Llama of model.py on random 512-token windows of the training tokens
     (AdamW, warmup then cosine decay, gradient clipping, dropout);
  4. every --eval-every steps scores the whole validation split (evaluate.py) and keeps the weights
     with the lowest validation loss (early stopping by validation);
  5. writes OUT/checkpoint.pt (best weights + config), OUT/tokenizer/, OUT/metrics.json, OUT/log.txt.
export_hf.py turns the checkpoint into the Hugging Face folder the app converts to GGUF.

Determinism: one seed drives the initial weights, the batch order and dropout; the thread count is
fixed by --threads. On a CPU the same seed and thread count give the same weights bit for bit
(a different thread count may round sums differently).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import time

import torch
import torch.nn.functional as F

from bpe import ByteBPE, train_bpe
from evaluate import find_corpus, report, split_corpus, total_nats
from model import Llama, ModelConfig
from muon import Muon



def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=None, help="default: ../shared/corpora/tinyshakespeare.txt")
    ap.add_argument("--out", required=True, help="run folder (under tools/train/runs/, which git ignores)")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (the result depends on it)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (CUDA runs are not bit-reproducible)")
    # tokenizer
    ap.add_argument("--vocab", type=int, default=1024, help="256 bytes + merges + <|endoftext|>")
    # model
    ap.add_argument("--d-model", type=int, default=192)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--d-ff", type=int, default=512)
    ap.add_argument("--context", type=int, default=512)
    ap.add_argument("--untied", action="store_true", help="a separate lm_head instead of the embedding")
    ap.add_argument("--dropout", type=float, default=0.25)
    ap.add_argument("--attn-dropout", type=float, default=0.0)
    # optimisation
    ap.add_argument("--steps", type=int, default=1800)
    ap.add_argument("--batch", type=int, default=8, help="sequences of --context tokens per step")
    ap.add_argument("--optimizer", default="muon", choices=["adamw", "muon"])
    ap.add_argument("--lr", type=float, default=3e-3, help="AdamW's peak learning rate")
    ap.add_argument("--muon-lr", type=float, default=0.03, help="Muon's peak learning rate (block matrices)")
    ap.add_argument("--min-lr-frac", type=float, default=0.1, help="cosine decays to lr * this")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--log-every", type=int, default=50)
    return ap.parse_args(argv)


def lr_factor(step: int, args) -> float:
    """Linear warmup, then cosine decay from 1 to min_lr_frac at the last step (times each group's lr)."""
    if step < args.warmup:
        return (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizers(model: Llama, args) -> list[torch.optim.Optimizer]:
    # Weight decay on the matrices only; the RMSNorm gains stay free (decaying them toward 0 would
    # fight the normalisation rather than regularise).
    gains = [p for p in model.parameters() if p.dim() < 2]
    if args.optimizer == "adamw":
        matrices = [p for p in model.parameters() if p.dim() >= 2]
        groups = [{"params": matrices, "weight_decay": args.weight_decay}, {"params": gains, "weight_decay": 0.0}]
        return [torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), eps=1e-8)]
    # Muon for the blocks' matrices; AdamW for the embedding (also the output layer when tied) and gains.
    block_matrices = [p for p in model.layers.parameters() if p.dim() == 2]
    others = [p for p in model.parameters() if p.dim() == 2 and all(p is not q for q in block_matrices)]
    adamw = torch.optim.AdamW([{"params": others, "weight_decay": args.weight_decay},
                               {"params": gains, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    return [adamw, Muon(block_matrices, lr=args.muon_lr, momentum=0.95, weight_decay=args.weight_decay)]


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    log_file = open(os.path.join(args.out, "log.txt"), "w")

    def log(msg: str):
        print(msg, flush=True)
        log_file.write(msg + "\n")
        log_file.flush()

    t_start = time.time()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    device = torch.device(args.device)
    log(f"command: {' '.join([sys.executable] + sys.argv)}")
    log(f"torch {torch.__version__}, {args.threads} thread(s), device {device}, {platform.processor() or platform.machine()}")

    # --- 1. data ------------------------------------------------------------------------------
    corpus_path = args.corpus or find_corpus()
    with open(corpus_path, encoding="utf-8") as f:
        text = f.read()
    train_text, val_text = split_corpus(text)
    log(f"corpus: {corpus_path}, {len(text)} chars; train {len(train_text)}, validation {len(val_text)} (last 10%)")

    # --- 2. tokenizer -------------------------------------------------------------------------
    t0 = time.time()
    tokenizer = train_bpe(train_text, args.vocab, log=None)
    tokenizer.save(os.path.join(args.out, "tokenizer"))
    train_ids = torch.tensor(tokenizer.encode(train_text), dtype=torch.long)  # [N_train]
    val_ids = torch.tensor(tokenizer.encode(val_text), dtype=torch.long)      # [N_val]
    assert tokenizer.decode(train_ids.tolist()) == train_text and tokenizer.decode(val_ids.tolist()) == val_text, \
        "the tokenizer must round-trip the corpus exactly"
    log(f"tokenizer: {tokenizer.vocab_size} tokens ({len(tokenizer.merges)} merges) in {time.time() - t0:.1f} s; "
        f"train {len(train_ids)} tokens ({len(train_text) / len(train_ids):.3f} chars/token), "
        f"validation {len(val_ids)} tokens")

    # --- 3. model -----------------------------------------------------------------------------
    assert args.d_model % args.heads == 0, "d_model must split evenly over the heads"
    cfg = ModelConfig(vocab_size=tokenizer.vocab_size, d_model=args.d_model, n_layers=args.layers,
                      n_heads=args.heads, n_kv_heads=args.kv_heads, head_dim=args.d_model // args.heads,
                      d_ff=args.d_ff, context_length=args.context, tie_embeddings=not args.untied,
                      dropout=args.dropout, attn_dropout=args.attn_dropout)
    model = Llama(cfg).to(device)
    log(f"model: {cfg}")
    log(f"parameters: {model.n_params()} ({model.n_params() / 1e6:.3f} M)")
    optimizers = make_optimizers(model, args)
    base_lrs = [[group["lr"] for group in opt.param_groups] for opt in optimizers]
    batch_rng = torch.Generator().manual_seed(args.seed)  # the batch order, separate from dropout's stream
    train_dev, val_dev = train_ids.to(device), val_ids.to(device)

    def evaluate_val() -> float:
        nats = total_nats(model, val_dev, cfg.context_length)
        model.train()
        return nats / len(val_text)  # nats per character

    # --- 4. training --------------------------------------------------------------------------
    best = {"nats_per_char": float("inf"), "step": -1}
    best_state = None
    history = []
    t_train = time.time()
    eval_seconds = 0.0  # kept out of the tokens/s figure
    model.train()
    for step in range(args.steps + 1):
        last = step == args.steps
        if step > 0 and (step % args.eval_every == 0 or last):
            t_eval = time.time()
            val_npc = evaluate_val()
            eval_seconds += time.time() - t_eval
            history.append({"step": step, "val_nats_per_char": val_npc, "elapsed_s": time.time() - t_train})
            mark = ""
            if val_npc < best["nats_per_char"]:
                best = {"nats_per_char": val_npc, "step": step}
                best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
                mark = "  (best)"
            log(f"step {step:5d}  val {val_npc:.4f} nats/char  {val_npc / math.log(2):.4f} bits/char"
                f"  [{time.time() - t_eval:.0f} s]{mark}")
        if last:
            break

        # A batch of random windows: x is a window, y the same window shifted by one token.
        starts = torch.randint(0, len(train_ids) - cfg.context_length - 1, (args.batch,), generator=batch_rng)
        window = torch.stack([train_ids[s:s + cfg.context_length + 1] for s in starts.tolist()]).to(device)
        x, y = window[:, :-1], window[:, 1:]                     # [B, T] each

        for opt, lrs in zip(optimizers, base_lrs):
            for group, base_lr in zip(opt.param_groups, lrs):
                group["lr"] = base_lr * lr_factor(step, args)
        logits = model(x)                                        # [B, T, V]
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), y.reshape(-1))
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        for opt in optimizers:
            opt.step()
        if step % args.log_every == 0:
            elapsed = time.time() - t_train
            log(f"step {step:5d}  loss {loss.item():.4f} nats/token  lr {args.lr * lr_factor(step, args):.2e}"
                f"  |g| {grad_norm.item():.2f}  {elapsed:.0f} s  "
                f"({(step + 1) * args.batch * cfg.context_length / max(elapsed - eval_seconds, 1e-9):.0f} tokens/s, "
                f"load {os.getloadavg()[0]:.1f})")
    train_seconds = time.time() - t_train
    cpu_seconds = time.process_time()  # all threads; well below threads x wall time when the CPUs are shared

    # --- 5. final numbers and files -----------------------------------------------------------
    model.load_state_dict(best_state)
    model.eval()
    val = report(model, val_dev, len(val_text), cfg.context_length)
    # The training loss measured the same way on an equally long stretch of training text, to show the gap.
    train_probe = train_ids[:len(val_ids)].to(device)
    train_probe_chars = len(tokenizer.decode(train_probe.tolist()))
    train_rep = report(model, train_probe, train_probe_chars, cfg.context_length)
    metrics = {
        "best_step": best["step"], "steps": args.steps, "history": history,
        "validation": val, "train_probe": train_rep,
        "parameters": model.n_params(), "config": dataclasses.asdict(cfg), "args": vars(args),
        "train_seconds": train_seconds, "total_seconds": time.time() - t_start, "cpu_seconds": cpu_seconds,
        "load_average_at_end": os.getloadavg(),
        "threads": args.threads, "device": str(device), "torch": torch.__version__,
        "tokens_seen": args.steps * args.batch * cfg.context_length, "train_tokens": len(train_ids),
    }
    torch.save({"config": dataclasses.asdict(cfg), "state": best_state, "metrics": metrics},
               os.path.join(args.out, "checkpoint.pt"))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    log(f"best step {best['step']} of {args.steps}; training took {train_seconds / 60:.1f} min "
        f"({metrics['tokens_seen'] / len(train_ids):.1f} epochs)")
    log(f"validation: {val['nats_per_token']:.4f} nats/token  {val['nats_per_char']:.4f} nats/char  "
        f"{val['bits_per_char']:.4f} bits/char")
    log(f"train probe: {train_rep['nats_per_token']:.4f} nats/token  {train_rep['nats_per_char']:.4f} nats/char")
    log(f"total wall time {(time.time() - t_start) / 60:.1f} min; process CPU time {cpu_seconds / 60:.1f} min "
        f"on {args.threads} thread(s); load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
