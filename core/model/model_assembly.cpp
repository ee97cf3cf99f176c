#include "model/model_assembly.h"

#include <set>

namespace kvscope {

namespace {

struct Assembler {
    const TensorSource& source;
    const WeightNames& names;
    std::set<std::string> taken;  // to report what the file holds and the model does not use

    Status take(Tensor& out, const std::string& name, std::vector<int64_t> shape, Layout layout) {
        taken.insert(name);
        auto t = take_tensor(source, name, shape, layout);
        if (!t) return t.status();
        out = std::move(t.value());
        return Status::ok();
    }
    Status linear(Tensor& out, int layer, LayerTensor which, int64_t rows, int64_t cols) {
        return take(out, names.layer(layer, which), {rows, cols}, names.linear_layout);
    }
    Status vector(Tensor& out, int layer, LayerTensor which, int64_t n) {
        return take(out, names.layer(layer, which), {n}, Layout::as_stored);
    }
};

}  // namespace

Result<std::shared_ptr<Model>> assemble_model(const ModelConfig& c, const TensorSource& source,
                                              const WeightNames& names) {
    auto model = std::make_shared<Model>();
    model->config = c;
    Assembler a{source, names, {}};
    const int64_t d = c.d_model, V = c.vocab_size;
    const bool gpt2 = c.arch == Architecture::gpt2;

    KVSCOPE_TRY(a.take(model->tok_embd, names.tok_embd, {V, d}, Layout::as_stored));
    if (gpt2) KVSCOPE_TRY(a.take(model->pos_embd, names.pos_embd, {c.context_length, d}, Layout::as_stored));

    model->layers.resize(c.n_layers);
    for (int i = 0; i < c.n_layers; ++i) {
        LayerWeights& L = model->layers[i];
        KVSCOPE_TRY(a.vector(L.attn_norm, i, LayerTensor::attn_norm, d));
        if (gpt2) KVSCOPE_TRY(a.vector(L.attn_norm_bias, i, LayerTensor::attn_norm_bias, d));

        if (!names.layer(i, LayerTensor::wqkv).empty()) {
            KVSCOPE_TRY(a.linear(L.wqkv, i, LayerTensor::wqkv, c.qkv_dim(), d));
            if (c.qkv_bias) KVSCOPE_TRY(a.vector(L.bqkv, i, LayerTensor::bqkv, c.qkv_dim()));
        } else {
            Tensor wq, wk, wv;
            KVSCOPE_TRY(a.linear(wq, i, LayerTensor::wq, c.q_dim(), d));
            KVSCOPE_TRY(a.linear(wk, i, LayerTensor::wk, c.kv_dim(), d));
            KVSCOPE_TRY(a.linear(wv, i, LayerTensor::wv, c.kv_dim(), d));
            L.wqkv = concat_rows(wq.name + "+k+v", {&wq, &wk, &wv});
            if (c.qkv_bias) {
                Tensor bq, bk, bv;
                KVSCOPE_TRY(a.vector(bq, i, LayerTensor::bq, c.q_dim()));
                KVSCOPE_TRY(a.vector(bk, i, LayerTensor::bk, c.kv_dim()));
                KVSCOPE_TRY(a.vector(bv, i, LayerTensor::bv, c.kv_dim()));
                L.bqkv = concat_rows(bq.name + "+k+v", {&bq, &bk, &bv});
            }
        }
        KVSCOPE_TRY(a.linear(L.wo, i, LayerTensor::wo, d, c.q_dim()));
        if (gpt2) KVSCOPE_TRY(a.vector(L.bo, i, LayerTensor::bo, d));

        KVSCOPE_TRY(a.vector(L.ffn_norm, i, LayerTensor::ffn_norm, d));
        if (gpt2) KVSCOPE_TRY(a.vector(L.ffn_norm_bias, i, LayerTensor::ffn_norm_bias, d));
        if (!gpt2) KVSCOPE_TRY(a.linear(L.w_gate, i, LayerTensor::w_gate, c.d_ff, d));
        KVSCOPE_TRY(a.linear(L.w_up, i, LayerTensor::w_up, c.d_ff, d));
        if (gpt2) KVSCOPE_TRY(a.vector(L.b_up, i, LayerTensor::b_up, c.d_ff));
        KVSCOPE_TRY(a.linear(L.w_down, i, LayerTensor::w_down, d, c.d_ff));
        if (gpt2) KVSCOPE_TRY(a.vector(L.b_down, i, LayerTensor::b_down, d));
    }

    KVSCOPE_TRY(a.take(model->out_norm, names.out_norm, {d}, Layout::as_stored));
    if (gpt2) KVSCOPE_TRY(a.take(model->out_norm_bias, names.out_norm_bias, {d}, Layout::as_stored));
    if (c.tied_embeddings || names.lm_head.empty() || !source.contains(names.lm_head)) {
        if (!c.tied_embeddings && !names.lm_head.empty())
            return Status::error("tensor '" + names.lm_head + "' not found in " + source.where);
        model->lm_head = model->tok_embd;  // same storage; counted once in n_params()
        model->config.tied_embeddings = true;
    } else {
        KVSCOPE_TRY(a.take(model->lm_head, names.lm_head, {V, d}, Layout::as_stored));
    }
    KVSCOPE_TRY(model->validate());

    // Not an error (checkpoints carry buffers such as GPT-2's attn.bias masks, or an lm_head beside tied
    // embeddings), but never silent: a tensor the model ignores may be one the user expected to matter.
    std::vector<std::string> unused;
    for (const auto& [name, raw] : source.all())
        if (!a.taken.count(name))
            unused.push_back("'" + name + "' (" + dtype_name(raw.dtype) + " " + shape_string(raw.shape) +
                             ")");
    for (const auto& [name, dtype] : source.skipped())
        unused.push_back("'" + name + "' (" + dtype + ", not a float type)");
    if (!unused.empty()) {
        constexpr size_t kListed = 8;
        std::string list;
        for (size_t i = 0; i < unused.size() && i < kListed; ++i)
            list += (i ? ", " : "") + unused[i];
        if (unused.size() > kListed) list += " and " + std::to_string(unused.size() - kListed) + " more";
        model->notes.push_back(source.where + ": " + std::to_string(unused.size()) + " tensor" +
                               (unused.size() == 1 ? " is" : "s are") +
                               " in the file but not used by the model: " + list);
    }
    return model;
}

}  // namespace kvscope
