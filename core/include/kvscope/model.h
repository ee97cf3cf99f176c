// model.h — a transformer's configuration and weights, and the one function that loads them.
//
// load_model(path) sniffs the format (GGUF magic, a safetensors header, a Hugging Face folder with
// config.json, a llama2.c checkpoint) and returns a Model whose weights are float32 for compute, while
// each tensor remembers the dtype and the bytes it was stored with (the counters charge those bytes).
// This header knows nothing of how a forward pass is run; the engine does that.
//
// Layout conventions, whatever the file stored:
//   - linear weights are [out, in] row-major (nn.Linear). GPT-2's Conv1D stores [in, out]: a mapped F32
//     one is used in place as it is (Tensor::in_out, which the matmul reads that way), any other one is
//     transposed at load;
//   - Q, K and V of a layer are fused into one [q_dim + 2*kv_dim, d_model] matrix (rows: Q, then K,
//     then V), so one matrix product makes all three;
//   - RoPE pairs are either interleaved (llama2.c, Meta, GGUF llama: dims 2i and 2i+1) or rotate-half
//     (Hugging Face, NeoX, GGUF qwen2: dims i and i + head_dim/2); the config says which.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kvscope/status.h"

namespace kvscope {

class Tokenizer;

enum class Architecture { llama, gpt2 };
enum class RopeLayout { none, interleaved, rotate_half };

// Storage types a weight may have in a file. Block-quantized types store `block_size` weights in
// `block_bytes` bytes (ggml's definitions).
enum class DType { f32, f16, bf16, q8_0, q4_0, q4_k, q5_k, q6_k };

const char* dtype_name(DType type);
int dtype_block_size(DType type);   // elements per block (1 for float types)
int dtype_block_bytes(DType type);  // bytes per block
// Bytes that `n_elements` weights occupy when stored as `type` (n_elements must fill whole blocks).
uint64_t dtype_bytes(DType type, uint64_t n_elements);

const char* architecture_name(Architecture arch);
const char* rope_layout_name(RopeLayout layout);

struct ModelConfig {
    Architecture arch = Architecture::llama;
    std::string arch_name;  // as the file names it: "llama", "qwen2", "gpt2", ...
    int n_layers = 0;
    int d_model = 0;     // hidden size
    int n_heads = 0;     // query heads
    int n_kv_heads = 0;  // key/value heads (== n_heads: MHA, 1: MQA, between: GQA)
    int head_dim = 0;
    int d_ff = 0;  // MLP inner size
    int vocab_size = 0;
    int context_length = 0;  // positions the model was trained for; the KV cache capacity
    float norm_eps = 1e-5f;
    float rope_theta = 10000.0f;
    RopeLayout rope_layout = RopeLayout::none;
    bool qkv_bias = false;  // Qwen2 and GPT-2
    bool tied_embeddings = false;

    int q_dim() const { return n_heads * head_dim; }
    int kv_dim() const { return n_kv_heads * head_dim; }
    int qkv_dim() const { return q_dim() + 2 * kv_dim(); }
    int group_size() const { return n_kv_heads > 0 ? n_heads / n_kv_heads : 0; }  // query heads per KV head
    // K and V bytes one token adds to the cache: 2 x layers x kv_heads x head_dim x bytes_per_value.
    uint64_t kv_bytes_per_token(int bytes_per_value = 4) const {
        return 2ull * n_layers * n_kv_heads * head_dim * bytes_per_value;
    }
    // Names the first inconsistency (e.g. "n_heads (12) is not a multiple of n_kv_heads (5)").
    Status validate() const;
};

// One weight tensor in float32, row-major, with the storage it came from.
struct Tensor {
    std::string name;            // as the file names it (for messages)
    std::vector<int64_t> shape;  // compute layout, outermost first
    DType stored_dtype = DType::f32;
    uint64_t stored_bytes = 0;             // bytes in the file (what reading it from memory costs)
    std::shared_ptr<const float> storage;  // may alias a mapped file (F32) or own a widened copy
    // A 2-D [out, in] weight whose storage holds its transpose, [in, out] row-major (GPT-2's Conv1D used in
    // place from the mapped file): element (o, i) is at data()[i * rows() + o]. shape stays [out, in].
    bool in_out = false;

    bool empty() const { return !storage; }
    const float* data() const { return storage.get(); }
    int64_t numel() const;
    int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
    int64_t cols() const { return shape.size() < 2 ? 1 : shape[1]; }
    // The values in compute layout ([out, in] row-major), copied only when stored in_out.
    std::vector<float> row_major_values() const;
};

struct LayerWeights {
    Tensor attn_norm, attn_norm_bias;  // [d]; bias only for LayerNorm (gpt2)
    Tensor wqkv, bqkv;                 // [qkv_dim, d], [qkv_dim] (bias: gpt2, qwen2)
    Tensor wo, bo;                     // [d, q_dim], [d] (bias: gpt2)
    Tensor ffn_norm, ffn_norm_bias;    // [d]
    Tensor w_gate;                     // [d_ff, d] (llama: SwiGLU gate)
    Tensor w_up, b_up;                 // [d_ff, d], [d_ff] (bias: gpt2)
    Tensor w_down, b_down;             // [d, d_ff], [d] (bias: gpt2)
};

struct Model {
    ModelConfig config;
    std::string source_path;
    std::string format;  // "safetensors", "gguf", "llama2.c"
    Tensor tok_embd;     // [vocab, d]
    Tensor pos_embd;     // [context, d] (gpt2 learned positions)
    std::vector<LayerWeights> layers;
    Tensor out_norm, out_norm_bias;              // [d]
    Tensor lm_head;                              // [vocab, d]; shares storage with tok_embd when tied
    std::shared_ptr<const Tokenizer> tokenizer;  // null when the file carries none
    // What the loader wants the user to know that is no error, one line each (tensors in the file that the
    // model does not use). The CLI prints them as notes; nothing is dropped silently.
    std::vector<std::string> notes;

    uint64_t n_params() const;      // unique parameters (tied embeddings counted once)
    uint64_t stored_bytes() const;  // bytes of all unique weights as stored
    DType main_dtype() const;       // the dtype most weight bytes are stored in
    // Checks every tensor's shape against the config; names the first tensor that disagrees.
    Status validate() const;
};

struct LoadOptions {
    std::string tokenizer_path;  // for formats that carry none (llama2.c's tokenizer.bin)
};

// Loads a model from a file or a folder, sniffing the format. Never throws; the error names the file
// and what is wrong with it.
Result<std::shared_ptr<const Model>> load_model(const std::string& path, const LoadOptions& options = {});

}  // namespace kvscope
