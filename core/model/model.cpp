#include <map>
#include <set>

#include "kvscope/model.h"
#include "model/weight_builder.h"

namespace kvscope {

const char* architecture_name(Architecture arch) {
    return arch == Architecture::gpt2 ? "gpt2" : "llama";
}

const char* rope_layout_name(RopeLayout layout) {
    switch (layout) {
        case RopeLayout::interleaved:
            return "interleaved";
        case RopeLayout::rotate_half:
            return "rotate-half";
        default:
            return "none";
    }
}

int64_t Tensor::numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return shape.empty() ? 0 : n;
}

std::vector<float> Tensor::row_major_values() const {
    if (!in_out) return std::vector<float>(data(), data() + numel());
    const int64_t out = rows(), in = cols();
    std::vector<float> values(static_cast<size_t>(numel()));
    for (int64_t i = 0; i < in; ++i)
        for (int64_t o = 0; o < out; ++o)
            values[size_t(o * in + i)] = data()[i * out + o];
    return values;
}

Status ModelConfig::validate() const {
    auto positive = [](const char* name, int v) -> Status {
        if (v <= 0) return Status::error(std::string(name) + " must be positive, got " + std::to_string(v));
        return Status::ok();
    };
    KVSCOPE_TRY(positive("n_layers", n_layers));
    KVSCOPE_TRY(positive("d_model", d_model));
    KVSCOPE_TRY(positive("n_heads", n_heads));
    KVSCOPE_TRY(positive("n_kv_heads", n_kv_heads));
    KVSCOPE_TRY(positive("head_dim", head_dim));
    KVSCOPE_TRY(positive("d_ff", d_ff));
    KVSCOPE_TRY(positive("vocab_size", vocab_size));
    KVSCOPE_TRY(positive("context_length", context_length));
    if (n_heads % n_kv_heads != 0)
        return Status::error("n_heads (" + std::to_string(n_heads) + ") is not a multiple of n_kv_heads (" +
                             std::to_string(n_kv_heads) + ")");
    if (arch == Architecture::gpt2 && n_heads * head_dim != d_model)
        return Status::error("gpt2: n_embd (" + std::to_string(d_model) + ") is not n_head (" +
                             std::to_string(n_heads) + ") x head size");
    if (arch == Architecture::gpt2 && n_kv_heads != n_heads)
        return Status::error("gpt2 has as many KV heads as query heads");
    if (rope_layout != RopeLayout::none && head_dim % 2 != 0)
        return Status::error("head_dim (" + std::to_string(head_dim) + ") must be even for RoPE");
    if (!(norm_eps > 0.0f) || norm_eps > 1.0f)
        return Status::error("norm epsilon " + std::to_string(norm_eps) + " is out of range");
    if (rope_layout != RopeLayout::none && !(rope_theta > 1.0f))
        return Status::error("rope_theta " + std::to_string(rope_theta) + " is out of range");
    const uint64_t big = 1ull << 20;
    if (uint64_t(d_model) > big || uint64_t(d_ff) > big || uint64_t(vocab_size) > (1ull << 24) ||
        uint64_t(context_length) > (1ull << 22) || n_layers > 4096)
        return Status::error("sizes are implausibly large (d_model " + std::to_string(d_model) + ", d_ff " +
                             std::to_string(d_ff) + ", vocab " + std::to_string(vocab_size) + ", context " +
                             std::to_string(context_length) + ", layers " + std::to_string(n_layers) + ")");
    return Status::ok();
}

namespace {

template <typename F>
void for_each_tensor(const Model& m, F&& f) {
    f(m.tok_embd);
    f(m.pos_embd);
    for (const auto& L : m.layers) {
        for (const Tensor* t : {&L.attn_norm, &L.attn_norm_bias, &L.wqkv, &L.bqkv, &L.wo, &L.bo, &L.ffn_norm,
                                &L.ffn_norm_bias, &L.w_gate, &L.w_up, &L.b_up, &L.w_down, &L.b_down})
            f(*t);
    }
    f(m.out_norm);
    f(m.out_norm_bias);
    f(m.lm_head);
}

}  // namespace

uint64_t Model::n_params() const {
    std::set<const float*> seen;
    uint64_t n = 0;
    for_each_tensor(*this, [&](const Tensor& t) {
        if (!t.empty() && seen.insert(t.data()).second) n += static_cast<uint64_t>(t.numel());
    });
    return n;
}

uint64_t Model::stored_bytes() const {
    std::set<const float*> seen;
    uint64_t n = 0;
    for_each_tensor(*this, [&](const Tensor& t) {
        if (!t.empty() && seen.insert(t.data()).second) n += t.stored_bytes;
    });
    return n;
}

DType Model::main_dtype() const {
    std::map<DType, uint64_t> bytes;
    for_each_tensor(*this, [&](const Tensor& t) {
        if (!t.empty()) bytes[t.stored_dtype] += t.stored_bytes;
    });
    DType best = DType::f32;
    uint64_t most = 0;
    for (auto [dt, b] : bytes)
        if (b > most) most = b, best = dt;
    return best;
}

Status Model::validate() const {
    const ModelConfig& c = config;
    KVSCOPE_TRY(c.validate());
    const bool gpt2 = c.arch == Architecture::gpt2;
    auto expect = [](const Tensor& t, const char* what, std::vector<int64_t> shape, bool required) -> Status {
        if (t.empty()) {
            if (required) return Status::error(std::string("missing tensor: ") + what);
            return Status::ok();
        }
        if (t.shape != shape)
            return Status::error("tensor '" + t.name + "' (" + what + ") has shape " + shape_string(t.shape) +
                                 ", expected " + shape_string(shape));
        return Status::ok();
    };
    const int64_t d = c.d_model;
    KVSCOPE_TRY(expect(tok_embd, "token embedding", {c.vocab_size, d}, true));
    KVSCOPE_TRY(expect(pos_embd, "position embedding", {c.context_length, d}, gpt2));
    if (static_cast<int>(layers.size()) != c.n_layers)
        return Status::error("model has " + std::to_string(layers.size()) + " layers, config says " +
                             std::to_string(c.n_layers));
    for (const auto& L : layers) {
        KVSCOPE_TRY(expect(L.attn_norm, "attention norm", {d}, true));
        KVSCOPE_TRY(expect(L.attn_norm_bias, "attention norm bias", {d}, gpt2));
        KVSCOPE_TRY(expect(L.wqkv, "fused QKV", {c.qkv_dim(), d}, true));
        KVSCOPE_TRY(expect(L.bqkv, "QKV bias", {c.qkv_dim()}, c.qkv_bias));
        KVSCOPE_TRY(expect(L.wo, "attention output", {d, c.q_dim()}, true));
        KVSCOPE_TRY(expect(L.bo, "attention output bias", {d}, gpt2));
        KVSCOPE_TRY(expect(L.ffn_norm, "MLP norm", {d}, true));
        KVSCOPE_TRY(expect(L.ffn_norm_bias, "MLP norm bias", {d}, gpt2));
        KVSCOPE_TRY(expect(L.w_gate, "MLP gate", {c.d_ff, d}, !gpt2));
        KVSCOPE_TRY(expect(L.w_up, "MLP up", {c.d_ff, d}, true));
        KVSCOPE_TRY(expect(L.b_up, "MLP up bias", {c.d_ff}, gpt2));
        KVSCOPE_TRY(expect(L.w_down, "MLP down", {d, c.d_ff}, true));
        KVSCOPE_TRY(expect(L.b_down, "MLP down bias", {d}, gpt2));
    }
    KVSCOPE_TRY(expect(out_norm, "final norm", {d}, true));
    KVSCOPE_TRY(expect(out_norm_bias, "final norm bias", {d}, gpt2));
    KVSCOPE_TRY(expect(lm_head, "lm_head", {c.vocab_size, d}, true));
    return Status::ok();
}

}  // namespace kvscope
