// kv_storage.h — how the KV cache stores a value: its element type and layout, and the exact codec.
//
// A cache row is one head's K (or V) for one token: head_dim values. The element types:
//   f32    4 bytes a value, the exact cache (the default; nothing is rounded)
//   f16    IEEE binary16, round to nearest even (Eigen::half)              2 bytes a value
//   bf16   bfloat16 (the top half of a float32), round to nearest even     2 bytes a value
//   int8   asymmetric 8-bit codes in groups of `group_size` values along the row, each group with a
//          float32 scale and a float32 minimum: x ≈ min + q·scale, q in 0..255
//   int4   the same with 4-bit codes, q in 0..15, two codes a byte (low nibble first) along the row
// Groups run along one head's row; the last group of a row is shorter when group_size does not divide
// head_dim (the embedded model's head_dim 48 with groups of 32: one group of 32 and one of 16).
//
// Row layout of the integer types (bytes): [codes: int8 head_dim | int4 ceil(head_dim/2)]
//                                          [per group: float32 scale, float32 min]
// so a row's bytes, scales included, are what bytes_per_row() says and what the counters report.
//
// The dequantization error bound (tested): for a group with values in [lo, hi] and L = 2^bits − 1 levels,
//   |x − x̂| ≤ (hi − lo) / (2·L)   (+ float32 rounding of the arithmetic: ≤ 4 ulp of max(|lo|, |hi|)).
// This header knows nothing of backends or sessions.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "kvscope/status.h"

namespace kvscope {

enum class KVElement : uint8_t { f32, f16, bf16, int8, int4 };
const char* kv_element_name(KVElement e);  // "f32", "f16", "bf16", "int8", "int4"
Result<KVElement> parse_kv_element(const std::string& name);

struct KVStorage {
    KVElement element = KVElement::f32;
    int group_size = 32;  // values per scale (int8/int4 only)

    bool lossy() const { return element != KVElement::f32; }
    bool integer() const { return element == KVElement::int8 || element == KVElement::int4; }
    int bits() const;                        // 32, 16, 16, 8, 4
    int groups_per_row(int head_dim) const;  // integer types: ceil(head_dim / group_size); else 0
    // Bytes of one head's row of head_dim values, scales included.
    uint64_t bytes_per_row(int head_dim) const;
    // Average bytes a value takes, scales included (f32: 4; int4 with head_dim 48, groups of 32: 40/48).
    double bytes_per_value(int head_dim) const { return double(bytes_per_row(head_dim)) / head_dim; }
    std::string describe() const;  // "f32", "int4 (groups of 32)"

    // Encodes one row of head_dim floats into bytes_per_row(head_dim) bytes, and back.
    void encode_row(const float* in, int head_dim, uint8_t* out) const;
    void decode_row(const uint8_t* in, int head_dim, float* out) const;
    // The documented bound on |x − decode(encode(x))| for one group's values (0 for f32; for f16/bf16
    // half an ulp of the largest magnitude at that precision).
    float error_bound(std::span<const float> group) const;
};

}  // namespace kvscope
