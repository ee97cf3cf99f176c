// scale.h — what the KV cache costs at real scale: the size formulas applied to published model shapes
// and accelerators, and the decode speed that memory bandwidth allows.
//
// Pure arithmetic over shapes (no weights are loaded, nothing is run): the shapes come from
// assets/reference/model-configs.json (a copy of ../shared/reference/model-configs.json: 15 published
// configs and 7 accelerators) and from the loaded model's own config, which is always one row.
// It never estimates what a run measured: measured counters live in counters.h.
//
// The formulas, exactly (L = layers, H = query heads, H_kv = KV heads, hd = head dimension, b = bytes
// per value of the chosen precision: f32 4, f16/bf16 2, f8 1, int4 ½; scales of quantized formats not
// counted):
//   values per token in the cache
//     mha / gqa / mqa   2·L·H_kv·hd                         (a K row and a V row per layer and KV head)
//     mla (DeepSeek)    L·(kv_lora_rank + qk_rope_head_dim) (one compressed latent and one shared RoPE key
//                                                            per layer, for all heads)
//     ssm (Mamba)       0                                    (no cache: a fixed state, below)
//     hybrid (Jamba)    2·L_attn·H_kv·hd                     (only the attention layers keep a cache)
//   fixed state per conversation (ssm, and the SSM layers of a hybrid), d_inner = expand·d_model:
//                     L_ssm·d_inner·(d_state + d_conv − 1)   (SSM state + convolution window)
//   KV bytes per token            = values per token · b
//   tokens held at context n      = min(n, sliding_window) when the model has one (a rolling buffer), else n
//   KV bytes per conversation     = KV bytes per token · tokens held + fixed state · b
//   weight bytes                  = params · b_w  (all parameters stay resident, experts included)
//   conversations that fit        = ⌊(memory − weight bytes) / KV bytes per conversation⌋  (0 when the
//                                   weights alone do not fit)
//   bytes read per decode step    = weights read once for the batch + B · KV bytes per conversation
//     (weights read = active_params · b_w for a mixture of experts, else params · b_w: an optimistic
//      bound, since a batch routes its tokens to more experts than one token does)
//   step time bound               = bytes read per step ÷ bandwidth
//   decode bound per sequence     = bandwidth ÷ bytes read per step   tokens/s; the batch makes B of them
//
// FLOPs per generated token at context n (conventions of counters.h: a multiply-add is 2 FLOPs):
//   weights    ≈ 2·active_params (every weight multiplies once per token; Kaplan et al. 2020), or for the
//              loaded model exactly: 2·(qkv + out + MLP + lm_head weights) + biases, as the engine counts;
//   attention  = L_attn·H·(2·d_qk + 5 + 2·d_v)·n   (scores, softmax, weighted sum over n keys per head;
//              d_qk = d_v = hd, except MLA: d_qk = qk_nope + qk_rope, d_v = v_head_dim);
//   crossover  n* = weights ÷ (L_attn·H·(2·d_qk + 5 + 2·d_v)): past it attention costs more than all the
//              weights (GPT-2-style layer, 12·d² weights and H·hd = d: n* ≈ 24·d² / 4·d = 6·d_model).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kvscope/model.h"
#include "kvscope/status.h"

namespace kvscope {

enum class AttentionKind { mha, gqa, mqa, mla, ssm, hybrid };
const char* attention_kind_name(AttentionKind kind);

// Storage precision of weights or cache values.
enum class Precision { f32, f16, bf16, f8, int4 };
const char* precision_name(Precision p);
double precision_bytes(Precision p);  // 4, 2, 2, 1, 0.5
std::optional<Precision> parse_precision(const std::string& name);
// "131072", "128K" or "128k" (×1024), "1M" (×1024²) → tokens; nullopt when it is none of these.
std::optional<double> parse_token_count(const std::string& text);
std::string format_token_count(double tokens);  // 131072 → "128K", 1000 → "1000"

inline constexpr Precision kAllPrecisions[] = {Precision::f32, Precision::f16, Precision::bf16, Precision::f8,
                                               Precision::int4};

// A model's shape, as published or as loaded. Fields a kind does not use stay 0.
struct ModelShape {
    std::string name;
    AttentionKind kind = AttentionKind::mha;
    double params = 0;         // total parameters
    double active_params = 0;  // per token (mixture of experts); 0: all of them
    int layers = 0;
    int attention_layers = 0;  // hybrid: layers with attention (the rest are SSM); else 0
    int d_model = 0;
    int n_heads = 0, n_kv_heads = 0, head_dim = 0;
    int kv_lora_rank = 0, qk_rope_head_dim = 0, qk_nope_head_dim = 0, v_head_dim = 0;  // mla
    int d_state = 0, expand = 0, d_conv = 0;                                           // ssm, hybrid
    int context = 0;         // trained context (0: not limited, e.g. an SSM)
    int sliding_window = 0;  // 0: none
    std::string note;
    bool loaded = false;            // the model KVScope has open
    double weight_flops_exact = 0;  // loaded model: weight FLOPs per token as the engine counts them

    double weight_params_read() const { return active_params > 0 ? active_params : params; }
    int kv_layers() const;  // layers that keep a KV cache
};

struct Accelerator {
    std::string name;
    double memory_bytes = 0;  // GB of the data sheet, as bytes (1 GB = 1e9 B)
    double bandwidth = 0;     // bytes per second (1 GB/s = 1e9 B/s)
    std::string note;
};

struct ReferenceCatalog {
    std::vector<ModelShape> models;
    std::vector<Accelerator> accelerators;
    std::string source_path;
};

// Reads model-configs.json; errors name the file and the entry ("models[3] (Llama-2-7B): 'layers' is
// missing").
Result<ReferenceCatalog> load_reference_catalog(const std::string& path);
Result<ReferenceCatalog> parse_reference_catalog(const std::string& json_text, const std::string& source);
// Where the catalog is found: beside an installed executable, the install prefix, the source checkout.
std::string find_reference_catalog(const std::string& executable_dir);

// The loaded model as a row: attention kind from its heads, exact weight FLOPs from its shapes.
ModelShape shape_of(const Model& model, const std::string& name);
ModelShape shape_of(const ModelConfig& config, double params, const std::string& name);

// --- the formulas (see the top of this header) ------------------------------------------------------------
double kv_values_per_token(const ModelShape& m);
double fixed_state_values(const ModelShape& m);  // per conversation, independent of context
double kv_bytes_per_token(const ModelShape& m, Precision kv);
// The formula with this model's numbers: "2 × 32 layers × 8 KV heads × 128 dims × 2 B".
std::string kv_formula_text(const ModelShape& m, Precision kv);
double tokens_held(const ModelShape& m, double context);
double kv_bytes_per_conversation(const ModelShape& m, double context, Precision kv);
double weight_bytes(const ModelShape& m, Precision w);
double weight_bytes_read_per_step(const ModelShape& m, Precision w);

// One model on one accelerator, at a context, precisions and batch.
struct ScaleQuery {
    double context = 131072;
    Precision weights = Precision::bf16;
    Precision kv = Precision::bf16;
    int batch = 1;  // concurrent conversations decoded together
};

struct ScaleResult {
    double kv_bytes_per_token = 0;
    double kv_bytes_per_conversation = 0;
    double weight_bytes = 0;
    bool weights_fit = false;
    double conversations_fit = 0;  // next to the weights, at this context
    double batch_bytes = 0;        // weights + batch · KV per conversation
    bool batch_fits = false;
    double bytes_per_step_batch1 = 0;  // bytes read per decode step
    double bytes_per_step_batch = 0;
    double tokens_per_s_batch1 = 0;       // decode bound, one sequence
    double tokens_per_s_per_seq = 0;      // decode bound per sequence at batch B
    double tokens_per_s_batch_total = 0;  // B sequences together
    bool beyond_context = false;          // context past what the model was trained for
};

ScaleResult evaluate_scale(const ModelShape& m, const Accelerator& a, const ScaleQuery& q);

// FLOPs per generated token at context n (see the top of this header).
double weight_flops_per_token(const ModelShape& m);
double attention_flops_per_token_per_key(const ModelShape& m);  // × n keys
double attention_flops_per_token(const ModelShape& m, double context);
// n* where attention FLOPs per token equal the weights'; 0 when the model has no attention.
double attention_crossover_context(const ModelShape& m);

// Weight FLOPs per token of a loaded model exactly as ops.cpp counts a one-row decode step: the matmuls
// (qkv, out, MLP, lm_head) and their biases.
double weight_flops_per_token_exact(const ModelConfig& c);

}  // namespace kvscope
