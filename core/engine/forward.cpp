// forward.cpp — the forward pass of the llama and gpt2 families, one readable pass in math order.
#include "engine/forward.h"

#include <cassert>

namespace kvscope {

Status Scratch::reserve(Backend& backend, const ModelConfig& c, int need_rows, int need_logit_rows,
                        int prob_rows, int prob_keys, bool want_probs) {
    auto grow = [&](std::unique_ptr<Buffer>& b, size_t n) -> Status {
        if (b && b->size() >= n) return Status::ok();
        b.reset();
        auto r = backend.allocate(n);
        if (!r) return r.status().with_context("activation buffers");
        b = std::move(r.value());
        return Status::ok();
    };
    if (need_rows > rows) {
        // Grow geometrically so a sequence that grows one token at a time reallocates rarely.
        const int r = std::max(need_rows, std::min(rows * 2, std::max(need_rows, 16)));
        KVSCOPE_TRY(grow(x, size_t(r) * c.d_model));
        KVSCOPE_TRY(grow(xn, size_t(r) * c.d_model));
        KVSCOPE_TRY(grow(qkv, size_t(r) * c.qkv_dim()));
        KVSCOPE_TRY(grow(att, size_t(r) * c.q_dim()));
        KVSCOPE_TRY(grow(proj, size_t(r) * c.d_model));
        KVSCOPE_TRY(grow(gate, size_t(r) * c.d_ff));
        KVSCOPE_TRY(grow(up, size_t(r) * c.d_ff));
        rows = r;
    }
    if (need_logit_rows > logit_rows) {
        KVSCOPE_TRY(grow(logits, size_t(need_logit_rows) * c.vocab_size));
        logit_rows = need_logit_rows;
    }
    if (want_probs) {
        const size_t n = size_t(c.n_heads) * prob_rows * prob_keys;
        if (n > probs_size) {
            KVSCOPE_TRY(grow(probs, n));
            probs_size = n;
        }
    }
    return Status::ok();
}

Result<ForwardResult> forward(const ModelConfig& c, const DeviceWeights& w, KVCache& cache, Scratch& s,
                              Backend& backend, CountedOps& ops, const ForwardRequest& req) {
    const int n = static_cast<int>(req.tokens.size());
    const int pos0 = req.pos0;
    assert(n > 0 && "forward() needs at least one token");
    assert(cache.length() == pos0 && "forward(): the cache must hold exactly the tokens before pos0");
    assert(cache.room() >= n && "forward(): the caller must check the cache has room");
    assert(req.logits_from >= 0 && req.logits_from < n);

    const int d = c.d_model, hd = c.head_dim, qkv_dim = c.qkv_dim();
    // pos0 is the cache row of the first token; its position in the text may be later (rows evicted).
    const int position0 = req.position0 < 0 ? pos0 : req.position0;
    // RoPE by position, or (a re-indexed cache) by row in the cache.
    const int rope_pos0 = cache.policy().reindex ? pos0 : position0;
    const int keys = pos0 + n;
    const bool want_probs = req.attention_from >= 0 && req.attention_from < n;
    const int prob_rows = want_probs ? n - req.attention_from : 0;
    const int logit_rows = n - req.logits_from;
    KVSCOPE_TRY(s.reserve(backend, c, n, logit_rows, prob_rows, keys, want_probs));
    Stream& st = ops.stream();

    float* x = s.x->data();        // [n, d]
    float* xn = s.xn->data();      // [n, d]
    float* qkv = s.qkv->data();    // [n, qkv_dim]: q | k | v per row
    float* att = s.att->data();    // [n, q_dim]
    float* proj = s.proj->data();  // [n, d]
    float* gate = s.gate->data();  // [n, d_ff]
    float* up = s.up->data();      // [n, d_ff]

    ForwardResult result;

    // ---- embeddings ------------------------------------------------------------------------------
    ops.embed(req.tokens.data(), n, w.tok_embd, x);
    if (c.arch == Architecture::gpt2) ops.add_positions(x, w.pos_embd, position0, n);

    // ---- transformer blocks -------------------------------------------------------------------------
    for (int l = 0; l < c.n_layers; ++l) {
        if (req.cancel && req.cancel->load(std::memory_order_relaxed)) {
            st.synchronize();  // deliver the attention rows in flight before `result` goes away
            return Status::error("cancelled");
        }
        const DeviceLayer& L = w.layers[l];

        // attention: xn = norm(x); q,k,v = xn·Wqkvᵀ; rope(q, k); append k, v; attend; x += att·Woᵀ
        if (c.arch == Architecture::gpt2)
            ops.layernorm(x, n, d, L.attn_norm, L.attn_norm_bias, c.norm_eps, xn);
        else
            ops.rmsnorm(x, n, d, L.attn_norm, c.norm_eps, xn);
        ops.matmul(OpClass::qkv, xn, n, L.wqkv, L.bqkv, qkv);
        float* q = qkv;
        float* k = qkv + c.q_dim();
        float* v = qkv + c.q_dim() + c.kv_dim();
        if (cache.wants_pre_rope_k()) cache.stash_pre_rope_k(st, k, n, qkv_dim);
        if (c.rope_layout != RopeLayout::none) {
            ops.rope(q, n, qkv_dim, c.n_heads, hd, rope_pos0, c.rope_theta, c.rope_layout);
            ops.rope(k, n, qkv_dim, c.n_kv_heads, hd, rope_pos0, c.rope_theta, c.rope_layout);
        }
        ops.kv_write(k, v, n, qkv_dim, c.n_kv_heads, hd, cache.k_layer(l), cache.v_layer(l), cache.capacity(),
                     pos0, cache.row_bytes());
        // A variant cache stores the rows in its element type; the attention then reads them as stored.
        cache.commit_rows(st, l, pos0, n, position0, c.rope_theta, c.rope_layout);
        float* probs = want_probs ? s.probs->data() : nullptr;
        ops.attention(q, n, qkv_dim, c.n_heads, c.n_kv_heads, hd, cache.k_layer(l), cache.v_layer(l),
                      cache.capacity(), pos0, att, probs, want_probs ? req.attention_from : 0,
                      cache.row_bytes());
        if (want_probs) {
            LayerAttention la;
            la.row_begin = pos0 + req.attention_from;
            la.n_rows = prob_rows;
            la.n_keys = keys;
            la.probs.resize(size_t(c.n_heads) * prob_rows * keys);
            // No synchronize here: the next layer's attention overwrites the buffer only after this copy
            // (streams run in order), so the GPU keeps running while the rows travel; they are read on
            // the host after the synchronize() below.
            st.download(la.probs.data(), probs, la.probs.size());
            if (req.compact_attention) {
                st.synchronize();  // compacting reads the rows on the host now
                la = compact_attention(std::move(la), c.n_heads);
            }
            result.attention.push_back(std::move(la));
        }
        ops.matmul(OpClass::out_proj, att, n, L.wo, L.bo, proj);
        ops.residual(x, proj, n, d);

        // MLP: xn = norm(x); llama: down(silu(gate·xn) ⊙ up·xn); gpt2: down(gelu(up·xn)); x += mlp
        if (c.arch == Architecture::gpt2) {
            ops.layernorm(x, n, d, L.ffn_norm, L.ffn_norm_bias, c.norm_eps, xn);
            ops.matmul(OpClass::mlp, xn, n, L.w_up, L.b_up, up);
            ops.gelu_tanh(up, n, c.d_ff);
            ops.matmul(OpClass::mlp, up, n, L.w_down, L.b_down, proj);
        } else {
            ops.rmsnorm(x, n, d, L.ffn_norm, c.norm_eps, xn);
            ops.matmul(OpClass::mlp, xn, n, L.w_gate, {}, gate);
            ops.matmul(OpClass::mlp, xn, n, L.w_up, {}, up);
            ops.swiglu(gate, up, n, c.d_ff, gate);
            ops.matmul(OpClass::mlp, gate, n, L.w_down, {}, proj);
        }
        ops.residual(x, proj, n, d);
    }
    cache.set_length(pos0 + n);

    // ---- final norm and logits, for the rows asked for -----------------------------------------------
    const float* last = x + size_t(req.logits_from) * d;
    if (c.arch == Architecture::gpt2)
        ops.layernorm(last, logit_rows, d, w.out_norm, w.out_norm_bias, c.norm_eps, xn);
    else
        ops.rmsnorm(last, logit_rows, d, w.out_norm, c.norm_eps, xn);
    ops.matmul(OpClass::lm_head, xn, logit_rows, w.lm_head, {}, s.logits->data());
    result.logits.resize(size_t(logit_rows) * c.vocab_size);
    st.download(result.logits.data(), s.logits->data(), result.logits.size());
    st.synchronize();
    KVSCOPE_TRY(st.error().with_context("forward pass"));
    return result;
}

}  // namespace kvscope
