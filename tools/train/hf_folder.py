"""hf_folder.py — the trained model as a Hugging Face Llama folder, and back.

A folder holds:
    config.json        LlamaForCausalLM settings (sizes, rms_norm_eps, rope_theta, tie_word_embeddings)
    model.safetensors  the weights under Hugging Face's names (F16 or F32)
    vocab.json, merges.txt, tokenizer.json   the byte-level BPE tokenizer (see bpe.py)
    tokenizer_config.json, generation_config.json   the special tokens, for Hugging Face tools

Parameter names in model.py were chosen as Hugging Face's without the "model." prefix, so the mapping
is "model." + name, except lm_head.weight (absent when the embeddings are tied). Shapes are the same:
a Linear's weight is [out, in] in both.
"""

from __future__ import annotations

import json
import os

import numpy as np
import torch

from bpe import ByteBPE
from model import Llama, ModelConfig
from safetensors_io import read_safetensors, write_safetensors


def hf_config(cfg: ModelConfig, eot_id: int) -> dict:
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": cfg.d_model,
        "intermediate_size": cfg.d_ff,
        "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_kv_heads,
        "head_dim": cfg.head_dim,
        "max_position_embeddings": cfg.context_length,
        "rms_norm_eps": cfg.norm_eps,
        "rope_theta": cfg.rope_theta,
        "hidden_act": "silu",
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": cfg.tie_embeddings,
        "vocab_size": cfg.vocab_size,
        # <|endoftext|> is both; it is never added to prompts (the model was trained without it).
        "bos_token_id": eot_id,
        "eos_token_id": eot_id,
        "torch_dtype": "float32",
    }


def write_hf_folder(model: Llama, tokenizer: ByteBPE, folder: str, dtype: str = "F16",
                    metadata: dict[str, str] | None = None) -> None:
    os.makedirs(folder, exist_ok=True)
    cfg = model.cfg
    np_dtype = {"F16": np.float16, "F32": np.float32}[dtype]
    config = hf_config(cfg, tokenizer.eot_id)
    config["torch_dtype"] = {"F16": "float16", "F32": "float32"}[dtype]
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")

    tensors = {}
    for name, p in model.state_dict().items():
        if name.startswith("rope_"):
            continue  # buffers computed from the config, not weights
        hf_name = name if name.startswith("lm_head.") else "model." + name
        array = p.detach().cpu().float().numpy()
        if dtype == "F16":
            assert np.abs(array).max() < 65504, f"{name} does not fit in float16"
        tensors[hf_name] = array.astype(np_dtype)
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors, {"format": "pt", **(metadata or {})})

    tokenizer.save(folder)
    special = "<|endoftext|>"
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GPT2Tokenizer", "bos_token": special, "eos_token": special,
                   "unk_token": special, "add_bos_token": False, "add_prefix_space": False,
                   "model_max_length": cfg.context_length}, f, indent=2)
        f.write("\n")
    with open(os.path.join(folder, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": tokenizer.eot_id, "eos_token_id": tokenizer.eot_id}, f, indent=2)
        f.write("\n")


def config_from_hf(config: dict) -> ModelConfig:
    theta = config.get("rope_theta", config.get("rope_parameters", {}).get("rope_theta", 10000.0))
    return ModelConfig(
        vocab_size=config["vocab_size"], d_model=config["hidden_size"], n_layers=config["num_hidden_layers"],
        n_heads=config["num_attention_heads"], n_kv_heads=config.get("num_key_value_heads", config["num_attention_heads"]),
        head_dim=config.get("head_dim", config["hidden_size"] // config["num_attention_heads"]),
        d_ff=config["intermediate_size"], context_length=config["max_position_embeddings"],
        norm_eps=config.get("rms_norm_eps", 1e-6), rope_theta=theta,
        tie_embeddings=config.get("tie_word_embeddings", False))


def load_hf_model(folder: str) -> Llama:
    """Builds a float32 Llama from a Hugging Face folder (ours, or any plain Llama one)."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = config_from_hf(json.load(f))
    tensors = read_safetensors(os.path.join(folder, "model.safetensors"))
    if cfg.tie_embeddings and "lm_head.weight" in tensors:
        del tensors["lm_head.weight"]
    model = Llama(cfg)
    state = {}
    for hf_name, array in tensors.items():
        name = hf_name[len("model."):] if hf_name.startswith("model.") else hf_name
        state[name] = torch.from_numpy(array.astype(np.float32))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.startswith("rope_")]
    assert not missing and not unexpected, f"{folder}: missing {missing}, unexpected {unexpected}"
    return model.eval()
