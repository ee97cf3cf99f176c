// flop_groups.h — the counters' op classes in the three groups the complexity story needs.
//
//   attention   the attention proper: scores q·kᵀ, softmax, weighted sum of values (counters.h counts
//               2·hd·s, 5·s and 2·hd·s per query head and row over s keys). Per token it grows with the
//               context: cached ∝ n (one query over n keys); uncached, which reruns every row, ∝ n².
//   weights     every product with a weight matrix: the Q,K,V projection, the output projection, the MLP,
//               the lm_head: constant per token row, whatever the context.
//   other       embedding, norms, RoPE, KV writes, activation, residual adds: small, linear in the rows.
// The groups are sums of what the op helpers counted (core/engine/ops.cpp); nothing here is estimated.
#pragma once

#include <cstdint>

#include "kvscope/counters.h"

namespace kvscope {

enum class FlopGroup : uint8_t { attention, weights, other };

constexpr FlopGroup flop_group(OpClass op) {
    switch (op) {
        case OpClass::attention:
            return FlopGroup::attention;
        case OpClass::qkv:
        case OpClass::out_proj:
        case OpClass::mlp:
        case OpClass::lm_head:
            return FlopGroup::weights;
        default:
            return FlopGroup::other;
    }
}

inline uint64_t flops_in(const Counters& c, FlopGroup group) {
    uint64_t f = 0;
    for (int i = 0; i < kOpClassCount; ++i)
        if (flop_group(static_cast<OpClass>(i)) == group) f += c.by_op[i].flops;
    return f;
}

// The attention op's FLOPs in its three parts. The helper counts n_heads · keys · (2·hd + 5 + 2·hd) in one
// sum; the parts are that sum's terms, recovered exactly from the head dimension.
enum class AttentionPart : uint8_t { scores, softmax, values };
inline uint64_t attention_part(const Counters& c, AttentionPart part, int head_dim) {
    const uint64_t total = c[OpClass::attention].flops;
    const uint64_t per_head_key = 4ull * uint64_t(head_dim) + 5;  // FLOPs per query head and key
    const uint64_t head_keys = total / per_head_key;
    return part == AttentionPart::softmax ? 5 * head_keys : 2ull * uint64_t(head_dim) * head_keys;
}

}  // namespace kvscope
