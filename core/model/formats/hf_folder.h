// hf_folder.h — a Hugging Face model folder: config.json + model.safetensors, or shards
// model-00001-of-0000N.safetensors listed in model.safetensors.index.json ({"weight_map": {tensor: file}}).
//
// config.json keys read (llama family: model_type "llama", "qwen2", "mistral"):
//   hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads (default:
//   heads), head_dim (default: hidden/heads), max_position_embeddings, rms_norm_eps, vocab_size,
//   rope_theta or rope_parameters.rope_theta (default 10000), tie_word_embeddings, attention_bias,
//   hidden_act (must be silu). Qwen2 always has Q/K/V biases. RoPE is rotate-half (HF layout).
// gpt2 family (model_type "gpt2"): n_embd, n_layer, n_head, n_positions, n_inner (null: 4·n_embd),
//   layer_norm_epsilon, activation_function (gelu_new / gelu_pytorch_tanh), vocab_size; Conv1D weights
//   [in, out] with c_attn fusing Q, K, V; names with or without the "transformer." prefix.
// The folder's tokenizer (tokenizer.json, tokenizer.model or vocab.json + merges.txt, with the special tokens
// of tokenizer_config.json / special_tokens_map.json / config.json) is attached to Model::tokenizer; one
// with more tokens than the embedding has rows is an error.
// Scalings we do not implement (rope_scaling other than "default", scale_attn_by_inverse_layer_idx) are
// refused with a message rather than run wrongly.
#pragma once

#include <memory>
#include <string>

#include "kvscope/model.h"
#include "kvscope/status.h"

namespace kvscope {

Result<std::shared_ptr<Model>> load_hf_folder(const std::string& dir);

// Parses a config.json text into a ModelConfig (exposed for tests).
Result<ModelConfig> parse_hf_config(const std::string& json_text, const std::string& path);

}  // namespace kvscope
