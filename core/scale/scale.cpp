// scale.cpp — the KV-size, fit and bandwidth formulas of kvscope/scale.h, written once.
#include "kvscope/scale.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kvscope {

const char* attention_kind_name(AttentionKind kind) {
    switch (kind) {
        case AttentionKind::mha:
            return "mha";
        case AttentionKind::gqa:
            return "gqa";
        case AttentionKind::mqa:
            return "mqa";
        case AttentionKind::mla:
            return "mla";
        case AttentionKind::ssm:
            return "ssm";
        case AttentionKind::hybrid:
            return "hybrid";
    }
    return "?";
}

const char* precision_name(Precision p) {
    switch (p) {
        case Precision::f32:
            return "f32";
        case Precision::f16:
            return "f16";
        case Precision::bf16:
            return "bf16";
        case Precision::f8:
            return "f8";
        case Precision::int4:
            return "int4";
    }
    return "?";
}

double precision_bytes(Precision p) {
    switch (p) {
        case Precision::f32:
            return 4.0;
        case Precision::f16:
        case Precision::bf16:
            return 2.0;
        case Precision::f8:
            return 1.0;
        case Precision::int4:
            return 0.5;
    }
    return 4.0;
}

std::optional<Precision> parse_precision(const std::string& name) {
    for (Precision p : kAllPrecisions)
        if (name == precision_name(p)) return p;
    if (name == "fp32" || name == "float32") return Precision::f32;
    if (name == "fp16" || name == "float16") return Precision::f16;
    if (name == "fp8" || name == "int8") return Precision::f8;
    if (name == "q4" || name == "4bit") return Precision::int4;
    return std::nullopt;
}

std::optional<double> parse_token_count(const std::string& text) {
    if (text.empty()) return std::nullopt;
    double scale = 1;
    std::string digits = text;
    const char last = text.back();
    if (last == 'K' || last == 'k') scale = 1024;
    if (last == 'M' || last == 'm') scale = 1024.0 * 1024.0;
    if (scale != 1) digits.pop_back();
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    const double v = std::stod(digits) * scale;
    if (v <= 0) return std::nullopt;
    return v;
}

std::string format_token_count(double tokens) {
    const auto t = static_cast<long long>(tokens);
    if (t >= (1 << 20) && t % (1 << 20) == 0) return std::to_string(t >> 20) + "M";
    if (t >= 1024 && t % 1024 == 0) return std::to_string(t >> 10) + "K";
    return std::to_string(t);
}

int ModelShape::kv_layers() const {
    switch (kind) {
        case AttentionKind::ssm:
            return 0;
        case AttentionKind::hybrid:
            return attention_layers;
        default:
            return layers;
    }
}

double kv_values_per_token(const ModelShape& m) {
    switch (m.kind) {
        case AttentionKind::mha:
        case AttentionKind::gqa:
        case AttentionKind::mqa:
            return 2.0 * m.layers * m.n_kv_heads * m.head_dim;
        case AttentionKind::mla:
            return double(m.layers) * (m.kv_lora_rank + m.qk_rope_head_dim);
        case AttentionKind::ssm:
            return 0.0;
        case AttentionKind::hybrid:
            return 2.0 * m.attention_layers * m.n_kv_heads * m.head_dim;
    }
    return 0.0;
}

double fixed_state_values(const ModelShape& m) {
    int ssm_layers = 0;
    if (m.kind == AttentionKind::ssm) ssm_layers = m.layers;
    if (m.kind == AttentionKind::hybrid) ssm_layers = m.layers - m.attention_layers;
    const double d_inner = double(m.expand) * m.d_model;
    return ssm_layers * d_inner * (m.d_state + m.d_conv - 1);
}

double kv_bytes_per_token(const ModelShape& m, Precision kv) {
    return kv_values_per_token(m) * precision_bytes(kv);
}

std::string kv_formula_text(const ModelShape& m, Precision kv) {
    const double b = precision_bytes(kv);
    char bytes[16];
    std::snprintf(bytes, sizeof bytes, b == 0.5 ? "%.1f B" : "%.0f B", b);
    char buf[256];
    switch (m.kind) {
        case AttentionKind::mha:
        case AttentionKind::gqa:
        case AttentionKind::mqa:
            std::snprintf(buf, sizeof buf, "2 × %d layers × %d KV heads × %d dims × %s", m.layers,
                          m.n_kv_heads, m.head_dim, bytes);
            break;
        case AttentionKind::mla:
            std::snprintf(buf, sizeof buf, "(%d latent + %d RoPE) × %d layers × %s", m.kv_lora_rank,
                          m.qk_rope_head_dim, m.layers, bytes);
            break;
        case AttentionKind::ssm:
            std::snprintf(buf, sizeof buf, "0 (fixed state: %d layers × %d × (%d + %d − 1) × %s)", m.layers,
                          m.expand * m.d_model, m.d_state, m.d_conv, bytes);
            break;
        case AttentionKind::hybrid:
            std::snprintf(buf, sizeof buf, "2 × %d attention layers × %d KV heads × %d dims × %s",
                          m.attention_layers, m.n_kv_heads, m.head_dim, bytes);
            break;
    }
    return buf;
}

double tokens_held(const ModelShape& m, double context) {
    return m.sliding_window > 0 ? std::min(context, double(m.sliding_window)) : context;
}

double kv_bytes_per_conversation(const ModelShape& m, double context, Precision kv) {
    return kv_bytes_per_token(m, kv) * tokens_held(m, context) + fixed_state_values(m) * precision_bytes(kv);
}

double weight_bytes(const ModelShape& m, Precision w) {
    return m.params * precision_bytes(w);
}

double weight_bytes_read_per_step(const ModelShape& m, Precision w) {
    return m.weight_params_read() * precision_bytes(w);
}

ScaleResult evaluate_scale(const ModelShape& m, const Accelerator& a, const ScaleQuery& q) {
    ScaleResult r;
    const int batch = std::max(1, q.batch);
    r.kv_bytes_per_token = kv_bytes_per_token(m, q.kv);
    r.kv_bytes_per_conversation = kv_bytes_per_conversation(m, q.context, q.kv);
    r.weight_bytes = weight_bytes(m, q.weights);
    r.weights_fit = r.weight_bytes <= a.memory_bytes;
    if (r.weights_fit && r.kv_bytes_per_conversation > 0)
        r.conversations_fit = std::floor((a.memory_bytes - r.weight_bytes) / r.kv_bytes_per_conversation);
    r.batch_bytes = r.weight_bytes + batch * r.kv_bytes_per_conversation;
    r.batch_fits = r.batch_bytes <= a.memory_bytes;
    const double w_read = weight_bytes_read_per_step(m, q.weights);
    r.bytes_per_step_batch1 = w_read + r.kv_bytes_per_conversation;
    r.bytes_per_step_batch = w_read + batch * r.kv_bytes_per_conversation;
    if (a.bandwidth > 0) {
        r.tokens_per_s_batch1 = a.bandwidth / r.bytes_per_step_batch1;
        r.tokens_per_s_per_seq = a.bandwidth / r.bytes_per_step_batch;
        r.tokens_per_s_batch_total = r.tokens_per_s_per_seq * batch;
    }
    r.beyond_context = m.context > 0 && q.context > m.context;
    return r;
}

double weight_flops_per_token(const ModelShape& m) {
    return m.weight_flops_exact > 0 ? m.weight_flops_exact : 2.0 * m.weight_params_read();
}

double attention_flops_per_token_per_key(const ModelShape& m) {
    const int layers = m.kv_layers();
    if (layers == 0) return 0.0;
    const double d_qk = m.kind == AttentionKind::mla ? m.qk_nope_head_dim + m.qk_rope_head_dim : m.head_dim;
    const double d_v = m.kind == AttentionKind::mla ? m.v_head_dim : m.head_dim;
    return double(layers) * m.n_heads * (2.0 * d_qk + 5.0 + 2.0 * d_v);
}

double attention_flops_per_token(const ModelShape& m, double context) {
    return attention_flops_per_token_per_key(m) * context;
}

double attention_crossover_context(const ModelShape& m) {
    const double per_key = attention_flops_per_token_per_key(m);
    return per_key > 0 ? weight_flops_per_token(m) / per_key : 0.0;
}

double weight_flops_per_token_exact(const ModelConfig& c) {
    const double d = c.d_model, ff = c.d_ff;
    const bool gpt2 = c.arch == Architecture::gpt2;
    double per_layer = 2.0 * d * c.qkv_dim() + (c.qkv_bias ? c.qkv_dim() : 0);  // qkv
    per_layer += 2.0 * c.q_dim() * d + (gpt2 ? d : 0);                          // out
    if (gpt2)
        per_layer += 2.0 * d * ff + ff + 2.0 * ff * d + d;  // up (+bias), down (+bias)
    else
        per_layer += 3.0 * 2.0 * d * ff;                     // gate, up, down
    return per_layer * c.n_layers + 2.0 * d * c.vocab_size;  // + lm_head
}

ModelShape shape_of(const ModelConfig& c, double params, const std::string& name) {
    ModelShape m;
    m.name = name;
    m.kind = c.n_kv_heads == c.n_heads ? AttentionKind::mha
             : c.n_kv_heads == 1       ? AttentionKind::mqa
                                       : AttentionKind::gqa;
    m.params = params;
    m.layers = c.n_layers;
    m.d_model = c.d_model;
    m.n_heads = c.n_heads;
    m.n_kv_heads = c.n_kv_heads;
    m.head_dim = c.head_dim;
    m.context = c.context_length;
    m.loaded = true;
    m.weight_flops_exact = weight_flops_per_token_exact(c);
    return m;
}

ModelShape shape_of(const Model& model, const std::string& name) {
    return shape_of(model.config, double(model.n_params()), name);
}

}  // namespace kvscope
