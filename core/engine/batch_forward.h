// batch_forward.h — one forward pass over the new tokens of several sequences at once (a batch).
//
// The rows of every sequence are stacked: [rows of sequence 0 | rows of sequence 1 | ...]. Everything that
// does not mix positions (embeddings, norms, the Q/K/V, output and MLP projections, the lm_head) runs once
// over all rows, so each weight matrix is read once per step however many sequences decode: that is what
// batching buys. RoPE, the K/V append and attention run per sequence, at its own positions, over its own
// cache: either a contiguous KVCache (each sequence reserved its maximum length up front) or its block
// table in a BlockPool (paged). Paged attention walks the block table block by block, copying each block's
// rows into a working buffer with the engine's kv_write op, then runs the same attention op as the
// contiguous cache over it: the arithmetic, and so the logits, are the contiguous cache's bit for bit,
// on any backend.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/device_weights.h"
#include "engine/forward.h"
#include "engine/ops.h"
#include "kvscope/kv_cache.h"
#include "kvscope/paged_cache.h"

namespace kvscope {

struct BatchSegment {
    std::span<const int32_t> tokens;  // n new tokens (host), at positions pos0 .. pos0 + n − 1
    int pos0 = 0;
    int logits_from = 0;  // first of its rows whose logits are computed
    // Where its K/V live: a contiguous cache holding exactly pos0 rows, or a block table whose blocks
    // already cover pos0 + n positions and are private from pos0 on (copy-on-write done by the caller).
    KVCache* contiguous = nullptr;
    const std::vector<int>* blocks = nullptr;
};

struct BatchScratch {
    Scratch activations;
    std::unique_ptr<Buffer> gather_k, gather_v;  // [n_kv_heads][keys][head_dim] of one sequence
    size_t gather_size = 0;
};

// Logits per segment: [n − logits_from, vocab] each, on the host.
Result<std::vector<std::vector<float>>> batch_forward(const ModelConfig& config, const DeviceWeights& weights,
                                                      BlockPool* pool, std::span<const BatchSegment> segments,
                                                      BatchScratch& scratch, Backend& backend,
                                                      CountedOps& ops, const std::atomic<bool>* cancel);

// Copies rows [0, n_rows) of every layer's K and V from one block (or contiguous cache) to another,
// with the engine's kv_write op: the copy-on-write of a shared block, or a copied prefix.
void copy_block(const ModelConfig& config, BlockPool& pool, int from, int to, CountedOps& ops);
void copy_prefix(const ModelConfig& config, const KVCache& from, KVCache& to, int n_rows, CountedOps& ops);

}  // namespace kvscope
