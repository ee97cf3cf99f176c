"""model.py — a small Llama-style decoder in PyTorch, written to match Hugging Face's LlamaForCausalLM.

One forward pass, in math order:
    x = embed(ids)                                        # [B, T, d]
    for each layer:
        h = rmsnorm(x) * input_layernorm.weight
        q, k, v = h Wq^T, h Wk^T, h Wv^T                   # q [B, H, T, hd], k/v [B, KVH, T, hd]
        q, k = rope(q), rope(k)                           # rotate-half layout, like HF
        a = softmax(q k^T / sqrt(hd) + causal mask) v      # query head h reads KV head h // (H / KVH)
        x = x + a Wo^T
        h = rmsnorm(x) * post_attention_layernorm.weight
        x = x + (silu(h Wgate^T) * (h Wup^T)) Wdown^T      # SwiGLU
    logits = rmsnorm(x) * norm.weight  E^T                 # E = embedding (tied) or lm_head

Every parameter has the shape and meaning of the Hugging Face tensor of the same role, so export is a
renaming (see export_hf.py) and needs no permutation: RoPE here rotates the two halves of each head
(x1 = x[..., :hd/2], x2 = x[..., hd/2:]) exactly as HF's `rotate_half`.
Dropout is used only in training, where the residual stream is added to (and optionally on the
attention probabilities); it has no weights, so the exported model is unaffected by it.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclasses.dataclass
class ModelConfig:
    vocab_size: int = 1024
    d_model: int = 256        # hidden_size
    n_layers: int = 4         # num_hidden_layers
    n_heads: int = 4          # num_attention_heads (query heads)
    n_kv_heads: int = 2       # num_key_value_heads: each K/V head serves n_heads / n_kv_heads query heads
    head_dim: int = 64
    d_ff: int = 688           # intermediate_size of the SwiGLU MLP
    context_length: int = 512  # max_position_embeddings
    norm_eps: float = 1e-5    # rms_norm_eps
    rope_theta: float = 10000.0
    tie_embeddings: bool = True  # lm_head shares the embedding matrix
    dropout: float = 0.0      # training only: on the embeddings and on what each block adds to the stream
    attn_dropout: float = 0.0  # training only: on the attention probabilities (costly on a CPU: T x T masks)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))  # [dim]

    def forward(self, x):
        # In float32 like HF, so that a half-precision caller normalises the same way.
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def rope_tables(head_dim: int, n_positions: int, theta: float):
    """cos and sin, each [n_positions, head_dim]: angle(pos, i) = pos / theta^(2i/hd) for pair i,
    repeated for the two halves (HF's layout: dimension i rotates together with i + hd/2)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))  # [hd/2]
    angles = torch.outer(torch.arange(n_positions, dtype=torch.float32), inv_freq)             # [T, hd/2]
    angles = torch.cat([angles, angles], dim=-1)                                                # [T, hd]
    return angles.cos(), angles.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rope(x, cos, sin):
    """x [..., hd]; cos/sin broadcast against x (e.g. [T, 1, hd] for x [B, T, heads, hd])."""
    return x * cos + rotate_half(x) * sin


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        assert cfg.n_heads % cfg.n_kv_heads == 0, "query heads must split evenly over the KV heads"
        self.cfg = cfg
        self.q_proj = nn.Linear(cfg.d_model, cfg.n_heads * cfg.head_dim, bias=False)     # [H*hd, d]
        self.k_proj = nn.Linear(cfg.d_model, cfg.n_kv_heads * cfg.head_dim, bias=False)  # [KVH*hd, d]
        self.v_proj = nn.Linear(cfg.d_model, cfg.n_kv_heads * cfg.head_dim, bias=False)  # [KVH*hd, d]
        self.o_proj = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.d_model, bias=False)     # [d, H*hd]

    def forward(self, x, cos, sin, future):
        """x [B, T, d]; cos/sin [T, hd]; future [T, T]: 0 where a query may look, -inf above the diagonal."""
        cfg = self.cfg
        B, T, _ = x.shape
        G = cfg.n_heads // cfg.n_kv_heads  # query heads per KV head
        q = self.q_proj(x).view(B, T, cfg.n_heads, cfg.head_dim)      # [B, T, H, hd]
        k = self.k_proj(x).view(B, T, cfg.n_kv_heads, cfg.head_dim)   # [B, T, KVH, hd]
        v = self.v_proj(x).view(B, T, cfg.n_kv_heads, cfg.head_dim)   # [B, T, KVH, hd]
        q = apply_rope(q, cos[:, None, :], sin[:, None, :])
        k = apply_rope(k, cos[:, None, :], sin[:, None, :])

        # Grouped-query attention as one batched matmul per KV head: query head h = g*G + j reads
        # KV head g (the pairing of HF's repeat_kv). The G query heads of KV head g are laid out as
        # rows t*G + j (time-major), so the rows of a stretch of time are contiguous.
        # The 1/sqrt(hd) scale goes on q (T x hd numbers) rather than on the scores (T x T).
        n = B * cfg.n_kv_heads
        q = (q * (1.0 / math.sqrt(cfg.head_dim))).view(B, T, cfg.n_kv_heads, G, cfg.head_dim)
        q = q.permute(0, 2, 1, 3, 4).reshape(n, T * G, cfg.head_dim)    # [B*KVH, T*G, hd]
        k = k.permute(0, 2, 1, 3).reshape(n, T, cfg.head_dim)            # [B*KVH, T, hd]
        v = v.permute(0, 2, 1, 3).reshape(n, T, cfg.head_dim)            # [B*KVH, T, hd]

        # Causal attention in blocks of query positions: block [t0, t1) can only see keys [0, t1), so
        # the work above the diagonal is mostly skipped (4 blocks: 10/16 of the full T x T).
        # The mask is added inside the matmul (baddbmm) rather than in another pass over the scores.
        outs = []
        block = max(1, -(-T // 4))
        for t0 in range(0, T, block):
            t1 = min(T, t0 + block)
            mask = future[t0:t1, :t1].repeat_interleave(G, dim=0)                      # [(t1-t0)*G, t1]
            scores = torch.baddbmm(mask, q[:, t0 * G:t1 * G], k[:, :t1].transpose(1, 2))  # [n, (t1-t0)*G, t1]
            probs = F.dropout(scores.softmax(dim=-1), cfg.attn_dropout, self.training)
            outs.append(probs @ v[:, :t1])                                              # [n, (t1-t0)*G, hd]
        out = torch.cat(outs, dim=1).view(B, cfg.n_kv_heads, T, G, cfg.head_dim)
        out = out.permute(0, 2, 1, 3, 4).reshape(B, T, cfg.n_heads * cfg.head_dim)  # [B, T, H*hd], head-major
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)  # [ff, d]
        self.up_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)    # [ff, d]
        self.down_proj = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)  # [d, ff]

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.mlp = MLP(cfg)
        self.dropout = cfg.dropout

    def forward(self, x, cos, sin, future):
        x = x + F.dropout(self.self_attn(self.input_layernorm(x), cos, sin, future), self.dropout, self.training)
        x = x + F.dropout(self.mlp(self.post_attention_layernorm(x)), self.dropout, self.training)
        return x


class Llama(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.d_model)  # [V, d]
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.lm_head = None if cfg.tie_embeddings else nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        cos, sin = rope_tables(cfg.head_dim, cfg.context_length, cfg.rope_theta)
        self.register_buffer("rope_cos", cos, persistent=False)  # [context, hd]
        self.register_buffer("rope_sin", sin, persistent=False)  # [context, hd]
        self._init_weights()

    def _init_weights(self):
        # GPT-2's recipe: N(0, 0.02) everywhere, and the projections that write into the residual
        # stream scaled down by sqrt(2 * layers) so the stream's variance does not grow with depth.
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02
                if name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                    std = 0.02 / math.sqrt(2 * self.cfg.n_layers)
                nn.init.normal_(p, mean=0.0, std=std)

    def output_weight(self):
        return self.embed_tokens.weight if self.lm_head is None else self.lm_head.weight  # [V, d]

    def forward(self, ids):
        """ids [B, T] (T <= context_length) -> logits [B, T, V] for the token after each position."""
        B, T = ids.shape
        assert T <= self.cfg.context_length, f"sequence of {T} tokens exceeds the context of {self.cfg.context_length}"
        cos, sin = self.rope_cos[:T], self.rope_sin[:T]
        # -inf above the diagonal: position i may not look at positions after it.
        future = torch.full((T, T), float("-inf"), device=ids.device).triu(1)  # [T, T]
        x = F.dropout(self.embed_tokens(ids), self.cfg.dropout, self.training)
        for layer in self.layers:
            x = layer(x, cos, sin, future)
        return self.norm(x) @ self.output_weight().t()

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
