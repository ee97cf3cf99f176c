// batch_forward.cpp — the forward pass of forward.cpp, over the stacked rows of several sequences.
#include "engine/batch_forward.h"

#include <algorithm>
#include <cassert>

namespace kvscope {

namespace {

Status grow(Backend& backend, std::unique_ptr<Buffer>& b, size_t n) {
    if (b && b->size() >= n) return Status::ok();
    b.reset();
    auto r = backend.allocate(n);
    if (!r) return r.status().with_context("paged attention working buffer");
    b = std::move(r.value());
    return Status::ok();
}

// Copies a sequence's first `keys` rows of one layer, block by block through its table, into
// gk, gv: [n_kv_heads][keys][head_dim] (the layout the attention op reads).
void gather_blocks(const ModelConfig& c, const BlockPool& pool, const std::vector<int>& blocks, int layer,
                   int keys, float* gk, float* gv, Stream& st) {
    const int bs = pool.block_size(), hd = c.head_dim;
    for (int j = 0; j * bs < keys; ++j) {
        const int rows = std::min(bs, keys - j * bs);
        const float* kb = pool.k_block(layer, blocks[size_t(j)]);
        const float* vb = pool.v_block(layer, blocks[size_t(j)]);
        for (int h = 0; h < c.n_kv_heads; ++h) {
            // One head's rows of the block are [rows, hd] with stride hd: kv_write with one head copies them.
            const size_t src = size_t(h) * bs * hd;
            st.kv_write(kb + src, vb + src, rows, hd, 1, hd, gk + size_t(h) * keys * hd,
                        gv + size_t(h) * keys * hd, keys, j * bs);
        }
    }
}

}  // namespace

void copy_block(const ModelConfig& c, BlockPool& pool, int from, int to, CountedOps& ops) {
    // A block of one layer is [n_kv_heads][block_size][head_dim] contiguous: one copy of all its rows.
    const int rows = c.n_kv_heads * pool.block_size();
    for (int l = 0; l < c.n_layers; ++l)
        ops.kv_write(pool.k_block(l, from), pool.v_block(l, from), rows, c.head_dim, 1, c.head_dim,
                     pool.k_block(l, to), pool.v_block(l, to), rows, 0);
}

void copy_prefix(const ModelConfig& c, const KVCache& from, KVCache& to, int n_rows, CountedOps& ops) {
    assert(n_rows <= from.length() && n_rows <= to.capacity() && "copy_prefix: rows outside the caches");
    const int hd = c.head_dim;
    for (int l = 0; l < c.n_layers; ++l)
        for (int h = 0; h < c.n_kv_heads; ++h)
            ops.kv_write(from.k_layer(l) + size_t(h) * from.capacity() * hd,
                         from.v_layer(l) + size_t(h) * from.capacity() * hd, n_rows, hd, 1, hd,
                         to.k_layer(l) + size_t(h) * to.capacity() * hd,
                         to.v_layer(l) + size_t(h) * to.capacity() * hd, to.capacity(), 0);
    to.set_length(n_rows);
}

Result<std::vector<std::vector<float>>> batch_forward(const ModelConfig& c, const DeviceWeights& w,
                                                      BlockPool* pool, std::span<const BatchSegment> segs,
                                                      BatchScratch& bs, Backend& backend, CountedOps& ops,
                                                      const std::atomic<bool>* cancel) {
    assert(!segs.empty() && "batch_forward needs at least one sequence");
    const int d = c.d_model, hd = c.head_dim, qkv_dim = c.qkv_dim(), q_dim = c.q_dim();
    // Row offsets of each segment in the stacked rows, and of its logit rows.
    std::vector<int> row0(segs.size() + 1, 0), logit0(segs.size() + 1, 0);
    int max_keys = 0;
    std::vector<int32_t> ids;
    for (size_t s = 0; s < segs.size(); ++s) {
        const BatchSegment& g = segs[s];
        const int n = static_cast<int>(g.tokens.size());
        assert(n > 0 && g.logits_from >= 0 && g.logits_from < n);
        assert((g.contiguous != nullptr) != (g.blocks != nullptr) && "a segment needs exactly one cache");
        assert((!g.contiguous || (g.contiguous->length() == g.pos0 && g.contiguous->room() >= n)) &&
               "batch_forward: a contiguous cache must hold exactly pos0 rows and have room");
        assert((!g.blocks || (pool && int(g.blocks->size()) * pool->block_size() >= g.pos0 + n)) &&
               "batch_forward: the block table must cover the new rows");
        row0[s + 1] = row0[s] + n;
        logit0[s + 1] = logit0[s] + (n - g.logits_from);
        if (g.blocks) max_keys = std::max(max_keys, g.pos0 + n);
        ids.insert(ids.end(), g.tokens.begin(), g.tokens.end());
    }
    const int rows = row0.back(), logit_rows = logit0.back();
    Scratch& s = bs.activations;
    KVSCOPE_TRY(s.reserve(backend, c, rows, logit_rows, 0, 0, false));
    if (max_keys > 0) {
        const size_t need = size_t(c.n_kv_heads) * size_t(max_keys) * size_t(hd);
        if (need > bs.gather_size) {
            KVSCOPE_TRY(grow(backend, bs.gather_k, need));
            KVSCOPE_TRY(grow(backend, bs.gather_v, need));
            bs.gather_size = need;
        }
    }
    Stream& st = ops.stream();

    float* x = s.x->data();        // [rows, d]
    float* xn = s.xn->data();      // [rows, d]
    float* qkv = s.qkv->data();    // [rows, qkv_dim]: q | k | v per row
    float* att = s.att->data();    // [rows, q_dim]
    float* proj = s.proj->data();  // [rows, d]
    float* gate = s.gate->data();  // [rows, d_ff]
    float* up = s.up->data();      // [rows, d_ff]

    // ---- embeddings (all rows at once; gpt2's learned positions per sequence) -------------------------
    ops.embed(ids.data(), rows, w.tok_embd, x);
    if (c.arch == Architecture::gpt2)
        for (size_t g = 0; g < segs.size(); ++g)
            ops.add_positions(x + size_t(row0[g]) * d, w.pos_embd, segs[g].pos0, row0[g + 1] - row0[g]);

    // ---- transformer blocks -------------------------------------------------------------------------
    for (int l = 0; l < c.n_layers; ++l) {
        if (cancel && cancel->load(std::memory_order_relaxed)) {
            st.synchronize();
            return Status::error("cancelled");
        }
        const DeviceLayer& L = w.layers[size_t(l)];
        if (c.arch == Architecture::gpt2)
            ops.layernorm(x, rows, d, L.attn_norm, L.attn_norm_bias, c.norm_eps, xn);
        else
            ops.rmsnorm(x, rows, d, L.attn_norm, c.norm_eps, xn);
        ops.matmul(OpClass::qkv, xn, rows, L.wqkv, L.bqkv, qkv);

        // Per sequence: its positions, its cache.
        for (size_t g = 0; g < segs.size(); ++g) {
            const BatchSegment& seg = segs[g];
            const int n = row0[g + 1] - row0[g], pos0 = seg.pos0;
            float* q = qkv + size_t(row0[g]) * qkv_dim;
            float* k = q + q_dim;
            float* v = k + c.kv_dim();
            if (c.rope_layout != RopeLayout::none) {
                ops.rope(q, n, qkv_dim, c.n_heads, hd, pos0, c.rope_theta, c.rope_layout);
                ops.rope(k, n, qkv_dim, c.n_kv_heads, hd, pos0, c.rope_theta, c.rope_layout);
            }
            float* out = att + size_t(row0[g]) * q_dim;
            if (seg.contiguous) {
                KVCache& cache = *seg.contiguous;
                ops.kv_write(k, v, n, qkv_dim, c.n_kv_heads, hd, cache.k_layer(l), cache.v_layer(l),
                             cache.capacity(), pos0);
                ops.attention(q, n, qkv_dim, c.n_heads, c.n_kv_heads, hd, cache.k_layer(l), cache.v_layer(l),
                              cache.capacity(), pos0, out, nullptr, 0);
                continue;
            }
            // Paged: append each run of rows that falls in one block, then attend through the table.
            const int bsz = pool->block_size();
            for (int i = 0; i < n;) {
                const int p = pos0 + i, blk = (*seg.blocks)[size_t(p / bsz)];
                const int cnt = std::min(bsz - p % bsz, n - i);
                ops.kv_write(k + size_t(i) * qkv_dim, v + size_t(i) * qkv_dim, cnt, qkv_dim, c.n_kv_heads, hd,
                             pool->k_block(l, blk), pool->v_block(l, blk), bsz, p % bsz);
                i += cnt;
            }
            const int keys = pos0 + n;
            float* gk = bs.gather_k->data();
            float* gv = bs.gather_v->data();
            st.begin_op(OpClass::attention);  // the walk through the table is part of attention's time
            gather_blocks(c, *pool, *seg.blocks, l, keys, gk, gv, st);
            st.end_op(OpClass::attention);
            ops.attention(q, n, qkv_dim, c.n_heads, c.n_kv_heads, hd, gk, gv, keys, pos0, out, nullptr, 0);
        }
        ops.matmul(OpClass::out_proj, att, rows, L.wo, L.bo, proj);
        ops.residual(x, proj, rows, d);

        if (c.arch == Architecture::gpt2) {
            ops.layernorm(x, rows, d, L.ffn_norm, L.ffn_norm_bias, c.norm_eps, xn);
            ops.matmul(OpClass::mlp, xn, rows, L.w_up, L.b_up, up);
            ops.gelu_tanh(up, rows, c.d_ff);
            ops.matmul(OpClass::mlp, up, rows, L.w_down, L.b_down, proj);
        } else {
            ops.rmsnorm(x, rows, d, L.ffn_norm, c.norm_eps, xn);
            ops.matmul(OpClass::mlp, xn, rows, L.w_gate, {}, gate);
            ops.matmul(OpClass::mlp, xn, rows, L.w_up, {}, up);
            ops.swiglu(gate, up, rows, c.d_ff, gate);
            ops.matmul(OpClass::mlp, gate, rows, L.w_down, {}, proj);
        }
        ops.residual(x, proj, rows, d);
    }
    for (const BatchSegment& seg : segs)
        if (seg.contiguous) seg.contiguous->set_length(seg.pos0 + int(seg.tokens.size()));

    // ---- final norm of the rows asked for (stacked), then one lm_head over them -------------------------
    for (size_t g = 0; g < segs.size(); ++g) {
        const float* first = x + size_t(row0[g] + segs[g].logits_from) * d;
        const int n = logit0[g + 1] - logit0[g];
        float* dst = xn + size_t(logit0[g]) * d;
        if (c.arch == Architecture::gpt2)
            ops.layernorm(first, n, d, w.out_norm, w.out_norm_bias, c.norm_eps, dst);
        else
            ops.rmsnorm(first, n, d, w.out_norm, c.norm_eps, dst);
    }
    ops.matmul(OpClass::lm_head, xn, logit_rows, w.lm_head, {}, s.logits->data());
    std::vector<std::vector<float>> logits(segs.size());
    for (size_t g = 0; g < segs.size(); ++g) {
        logits[g].resize(size_t(logit0[g + 1] - logit0[g]) * c.vocab_size);
        st.download(logits[g].data(), s.logits->data() + size_t(logit0[g]) * c.vocab_size, logits[g].size());
    }
    st.synchronize();
    KVSCOPE_TRY(st.error().with_context("batched forward pass"));
    return logits;
}

}  // namespace kvscope
