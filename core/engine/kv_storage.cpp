// kv_storage.cpp — the element codecs of the KV cache (see kv_storage.h for the layout and the bound).
#include "kvscope/kv_storage.h"

#include <Eigen/Core>
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

namespace kvscope {

const char* kv_element_name(KVElement e) {
    switch (e) {
        case KVElement::f32:
            return "f32";
        case KVElement::f16:
            return "f16";
        case KVElement::bf16:
            return "bf16";
        case KVElement::int8:
            return "int8";
        case KVElement::int4:
            return "int4";
    }
    return "?";
}

Result<KVElement> parse_kv_element(const std::string& name) {
    for (KVElement e : {KVElement::f32, KVElement::f16, KVElement::bf16, KVElement::int8, KVElement::int4})
        if (name == kv_element_name(e)) return e;
    return Status::error("unknown KV element type '" + name + "' (expected f32, f16, bf16, int8 or int4)");
}

int KVStorage::bits() const {
    switch (element) {
        case KVElement::f32:
            return 32;
        case KVElement::f16:
        case KVElement::bf16:
            return 16;
        case KVElement::int8:
            return 8;
        case KVElement::int4:
            return 4;
    }
    return 32;
}

int KVStorage::groups_per_row(int head_dim) const {
    return integer() ? (head_dim + group_size - 1) / group_size : 0;
}

uint64_t KVStorage::bytes_per_row(int head_dim) const {
    const uint64_t hd = uint64_t(head_dim);
    switch (element) {
        case KVElement::f32:
            return hd * 4;
        case KVElement::f16:
        case KVElement::bf16:
            return hd * 2;
        case KVElement::int8:
            return hd + 8ull * groups_per_row(head_dim);
        case KVElement::int4:
            return (hd + 1) / 2 + 8ull * groups_per_row(head_dim);
    }
    return hd * 4;
}

std::string KVStorage::describe() const {
    std::string s = kv_element_name(element);
    if (integer()) s += " (groups of " + std::to_string(group_size) + ")";
    return s;
}

namespace {

// Codes of an integer row live first, then (scale, min) per group.
void encode_groups(const float* in, int hd, int group, int bits, uint8_t* out) {
    const int levels = (1 << bits) - 1;
    const int n_groups = (hd + group - 1) / group;
    const size_t code_bytes = bits == 8 ? size_t(hd) : size_t(hd + 1) / 2;
    if (bits == 4) std::memset(out, 0, code_bytes);
    float* params = reinterpret_cast<float*>(out + code_bytes);  // unaligned-safe via memcpy below
    for (int g = 0; g < n_groups; ++g) {
        const int b = g * group, e = std::min(hd, b + group);
        float lo = in[b], hi = in[b];
        for (int i = b; i < e; ++i) {
            lo = std::min(lo, in[i]);
            hi = std::max(hi, in[i]);
        }
        const float scale = (hi - lo) / float(levels);
        const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
        for (int i = b; i < e; ++i) {
            const int q = std::clamp(int(std::lrint((in[i] - lo) * inv)), 0, levels);
            if (bits == 8)
                out[i] = uint8_t(q);
            else
                out[i / 2] |= uint8_t(q << ((i & 1) * 4));
        }
        const float pair[2] = {scale, lo};
        std::memcpy(reinterpret_cast<uint8_t*>(params) + size_t(g) * 8, pair, 8);
    }
}

void decode_groups(const uint8_t* in, int hd, int group, int bits, float* out) {
    const int n_groups = (hd + group - 1) / group;
    const size_t code_bytes = bits == 8 ? size_t(hd) : size_t(hd + 1) / 2;
    for (int g = 0; g < n_groups; ++g) {
        float pair[2];
        std::memcpy(pair, in + code_bytes + size_t(g) * 8, 8);
        const int b = g * group, e = std::min(hd, b + group);
        for (int i = b; i < e; ++i) {
            const int q = bits == 8 ? in[i] : (in[i / 2] >> ((i & 1) * 4)) & 0xF;
            out[i] = pair[1] + float(q) * pair[0];
        }
    }
}

}  // namespace

void KVStorage::encode_row(const float* in, int hd, uint8_t* out) const {
    switch (element) {
        case KVElement::f32:
            std::memcpy(out, in, size_t(hd) * 4);
            return;
        case KVElement::f16:
            for (int i = 0; i < hd; ++i) {
                const uint16_t bits = Eigen::numext::bit_cast<uint16_t>(Eigen::half(in[i]));
                std::memcpy(out + 2 * i, &bits, 2);
            }
            return;
        case KVElement::bf16:
            for (int i = 0; i < hd; ++i) {
                const uint16_t bits = Eigen::numext::bit_cast<uint16_t>(Eigen::bfloat16(in[i]));
                std::memcpy(out + 2 * i, &bits, 2);
            }
            return;
        case KVElement::int8:
            encode_groups(in, hd, group_size, 8, out);
            return;
        case KVElement::int4:
            encode_groups(in, hd, group_size, 4, out);
            return;
    }
}

void KVStorage::decode_row(const uint8_t* in, int hd, float* out) const {
    switch (element) {
        case KVElement::f32:
            std::memcpy(out, in, size_t(hd) * 4);
            return;
        case KVElement::f16:
            for (int i = 0; i < hd; ++i) {
                uint16_t bits;
                std::memcpy(&bits, in + 2 * i, 2);
                out[i] = float(Eigen::numext::bit_cast<Eigen::half>(bits));
            }
            return;
        case KVElement::bf16:
            for (int i = 0; i < hd; ++i) {
                uint16_t bits;
                std::memcpy(&bits, in + 2 * i, 2);
                out[i] = float(Eigen::numext::bit_cast<Eigen::bfloat16>(bits));
            }
            return;
        case KVElement::int8:
            decode_groups(in, hd, group_size, 8, out);
            return;
        case KVElement::int4:
            decode_groups(in, hd, group_size, 4, out);
            return;
    }
}

float KVStorage::error_bound(std::span<const float> group) const {
    if (group.empty() || element == KVElement::f32) return 0.0f;
    float lo = group[0], hi = group[0];
    for (float x : group) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
    }
    const float big = std::max(std::abs(lo), std::abs(hi));
    // half an ulp: 10 fraction bits (subnormal halves are spaced 2^-24 apart)
    if (element == KVElement::f16) return std::max(std::ldexp(big, -11), std::ldexp(1.0f, -25));
    if (element == KVElement::bf16) return std::ldexp(big, -8);  // 7 fraction bits
    const float levels = float((1 << bits()) - 1);
    return (hi - lo) / (2.0f * levels) + 4.0f * big * std::numeric_limits<float>::epsilon();
}

}  // namespace kvscope
