// llama2c.h — Andrej Karpathy's llama2.c checkpoints (run.c's model.bin).
//
// Legacy format (export.py legacy_export, "version 0"), little-endian:
//   i32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//       vocab_size < 0 means the classifier is NOT shared with the token embedding (|vocab_size| is the
//       vocabulary); > 0 means it is shared.
//   f32 token_embedding_table [vocab, dim]
//   f32 rms_att_weight        [n_layers, dim]
//   f32 wq                    [n_layers, dim, dim]           ([out, in] per layer)
//   f32 wk, wv                [n_layers, kv_dim, dim]        kv_dim = dim · n_kv_heads / n_heads
//   f32 wo                    [n_layers, dim, dim]
//   f32 rms_ffn_weight        [n_layers, dim]
//   f32 w1, w3                [n_layers, hidden_dim, dim]    (gate, up)
//   f32 w2                    [n_layers, dim, hidden_dim]    (down)
//   f32 rms_final_weight      [dim]
//   f32 freq_cis_real, freq_cis_imag [seq_len, head_size/2]  (ignored: we compute RoPE ourselves)
//   f32 wcls                  [vocab, dim]                   (only when not shared)
// Version 1 (export.py version1_export): u32 magic 0x616b3432 ("ak42"), i32 version = 1, the same seven
//   i32, u8 shared_classifier, zero padding to 256 bytes; then f32 rms_att (all layers), rms_ffn (all),
//   rms_final, token_embedding, wq, wk, wv, wo, w1, w2, w3, and wcls when not shared. Version 2 (int8)
//   is refused with a message.
// RoPE is interleaved (pairs 2i, 2i+1), theta 10000, RMSNorm eps 1e-5, SwiGLU: w2(silu(w1·x) · w3·x).
// The tokenizer is a separate tokenizer.bin, given by LoadOptions::tokenizer_path.
#pragma once

#include <memory>
#include <string>

#include "kvscope/model.h"

namespace kvscope {

bool looks_like_llama2c(const uint8_t* data, uint64_t size);
Result<std::shared_ptr<Model>> load_llama2c(const std::string& path);

}  // namespace kvscope
