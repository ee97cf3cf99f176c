// forward.h — one forward pass of a transformer over n new tokens, in math order.
//
// The tokens occupy positions pos0 .. pos0+n−1; their K and V rows are appended to `cache` (which must
// hold exactly pos0 rows and have room for n more), and every query row attends over the cache. The
// logits of rows logits_from .. n−1 are left on the host in `logits`; attention rows from
// attention_from on are copied to `attention` (one LayerAttention per layer) when asked.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/device_weights.h"
#include "engine/ops.h"
#include "kvscope/kv_cache.h"
#include "kvscope/trace.h"

namespace kvscope {

// Activations of one forward pass, in the backend's memory; grown as needed and reused across steps.
struct Scratch {
    Status reserve(Backend& backend, const ModelConfig& config, int rows, int logit_rows, int prob_rows,
                   int prob_keys, bool want_probs);

    std::unique_ptr<Buffer> x;       // [rows, d]        the residual stream
    std::unique_ptr<Buffer> xn;      // [rows, d]        normalised input of a block
    std::unique_ptr<Buffer> qkv;     // [rows, qkv_dim]  fused projections
    std::unique_ptr<Buffer> att;     // [rows, q_dim]    attention output before o_proj
    std::unique_ptr<Buffer> proj;    // [rows, d]        o_proj / down_proj output
    std::unique_ptr<Buffer> gate;    // [rows, d_ff]
    std::unique_ptr<Buffer> up;      // [rows, d_ff]
    std::unique_ptr<Buffer> logits;  // [logit_rows, vocab]
    std::unique_ptr<Buffer> probs;   // [n_heads, prob_rows, prob_keys]
    int rows = 0, logit_rows = 0;
    size_t probs_size = 0;
};

struct ForwardRequest {
    std::span<const int32_t> tokens;  // n new tokens (host)
    int pos0 = 0;             // cache row of the first token (== its position unless rows were evicted)
    int position0 = -1;       // position of the first token in the text; −1: pos0
    int logits_from = 0;      // first row whose logits are computed (n−1: the last only)
    int attention_from = -1;  // first row whose attention is recorded; −1: none
    // Hand the attention rows over compact (trace.h), a layer at a time: a long prefill's float squares
    // of every layer are never held at once.
    bool compact_attention = false;
    const std::atomic<bool>* cancel = nullptr;
};

struct ForwardResult {
    std::vector<float> logits;              // [n − logits_from, vocab]
    std::vector<LayerAttention> attention;  // per layer, when recorded
};

Result<ForwardResult> forward(const ModelConfig& config, const DeviceWeights& weights, KVCache& cache,
                              Scratch& scratch, Backend& backend, CountedOps& ops,
                              const ForwardRequest& request);

}  // namespace kvscope
