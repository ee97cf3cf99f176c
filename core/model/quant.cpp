// quant.cpp — ggml's block-quantized weight types, widened to float32 (and Q8_0 written, for GGUF).
//
// Every type stores a run of weights as a block of fixed size; "half" is an IEEE binary16 scale. Layouts
// (ggml-common.h), byte offsets from the start of a block, y the float32 weights:
//
// Q8_0 — 32 weights in 34 bytes
//   [0, 2)    half d
//   [2, 34)   int8 qs[32]
//   y[j] = d · qs[j]
//
// Q4_0 — 32 weights in 18 bytes
//   [0, 2)    half d
//   [2, 18)   u8 qs[16]: byte j holds weight j in its low nibble and weight j + 16 in its high nibble
//   y[j] = d · ((qs[j] & 0xF) − 8),   y[j + 16] = d · ((qs[j] >> 4) − 8)            (j < 16)
//
// The K-quants hold 256 weights in a super-block of 8 sub-blocks of 32 (Q4_K, Q5_K) or 16 of 16 (Q6_K).
//
// Q4_K — 256 weights in 144 bytes
//   [0, 2)    half d       scale of the sub-block scales
//   [2, 4)    half dmin    scale of the sub-block mins
//   [4, 16)   u8 scales[12]: eight 6-bit scales sc[0..7] and eight 6-bit mins m[0..7], packed:
//               j < 4:  sc[j] = scales[j] & 63,                m[j] = scales[j + 4] & 63
//               j ≥ 4:  sc[j] = (scales[j + 4] & 0xF) | ((scales[j − 4] >> 6) << 4)
//                        m[j] = (scales[j + 4] >> 4)  | ((scales[j]     >> 6) << 4)
//   [16, 144) u8 qs[128]: four chunks of 32 bytes; chunk c holds sub-block 2c in its low nibbles and
//             sub-block 2c + 1 in its high nibbles
//   for sub-block s (weights 32s .. 32s + 31), q its 4-bit value:  y = d · sc[s] · q − dmin · m[s]
//
// Q5_K — 256 weights in 176 bytes
//   [0, 2) half d, [2, 4) half dmin, [4, 16) u8 scales[12]   as in Q4_K
//   [16, 48)  u8 qh[32]: the fifth bit; bit s of qh[l] belongs to weight l of sub-block s
//   [48, 176) u8 qs[128]: low 4 bits, nibbles arranged as in Q4_K
//   q = low nibble + 16 · ((qh[l] >> s) & 1);   y = d · sc[s] · q − dmin · m[s]
//
// Q6_K — 256 weights in 210 bytes
//   [0, 128)   u8 ql[128]: low 4 bits
//   [128, 192) u8 qh[64]: high 2 bits
//   [192, 208) int8 scales[16]: one per 16 weights
//   [208, 210) half d
//   Two halves of 128 weights; half h uses ql[64h ..], qh[32h ..], scales[8h ..]. For l < 32, with
//   H = qh[32h + l]:
//     weight 128h + l      : q = (ql[64h + l]      & 0xF) | ((H >> 0 & 3) << 4), scale index 8h + l/16
//     weight 128h + l + 32 : q = (ql[64h + l + 32] & 0xF) | ((H >> 2 & 3) << 4), scale index 8h + l/16 + 2
//     weight 128h + l + 64 : q = (ql[64h + l]      >> 4)  | ((H >> 4 & 3) << 4), scale index 8h + l/16 + 4
//     weight 128h + l + 96 : q = (ql[64h + l + 32] >> 4)  | ((H >> 6 & 3) << 4), scale index 8h + l/16 + 6
//   y = d · scales[index] · (q − 32)
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include "model/dtype.h"

namespace kvscope {

namespace {

float half_at(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return f16_to_f32(h);
}

void dequantize_q8_0(const uint8_t* b, float* y) {
    const float d = half_at(b);
    const auto* qs = reinterpret_cast<const int8_t*>(b + 2);
    for (int j = 0; j < 32; ++j)
        y[j] = d * float(qs[j]);
}

void dequantize_q4_0(const uint8_t* b, float* y) {
    const float d = half_at(b);
    const uint8_t* qs = b + 2;
    for (int j = 0; j < 16; ++j) {
        y[j] = d * float(int(qs[j] & 0xF) - 8);
        y[j + 16] = d * float(int(qs[j] >> 4) - 8);
    }
}

// The 6-bit scale and min of sub-block j of a Q4_K / Q5_K super-block.
void k_scale_min(int j, const uint8_t* scales, int& sc, int& m) {
    if (j < 4) {
        sc = scales[j] & 63;
        m = scales[j + 4] & 63;
    } else {
        sc = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4);
        m = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
    }
}

// Q4_K (qh == nullptr) and Q5_K share everything but the fifth bit.
void dequantize_q4_q5_k(const uint8_t* b, const uint8_t* qh, const uint8_t* qs, float* y) {
    const float d = half_at(b), dmin = half_at(b + 2);
    const uint8_t* scales = b + 4;
    for (int s = 0; s < 8; ++s) {
        int sc, m;
        k_scale_min(s, scales, sc, m);
        const float scale = d * float(sc), offset = dmin * float(m);
        const uint8_t* chunk = qs + 32 * (s / 2);
        const int shift = (s % 2) * 4;
        for (int l = 0; l < 32; ++l) {
            int q = (chunk[l] >> shift) & 0xF;
            if (qh && (qh[l] >> s & 1)) q += 16;
            y[32 * s + l] = scale * float(q) - offset;
        }
    }
}

void dequantize_q6_k(const uint8_t* b, float* y) {
    const uint8_t* ql = b;
    const uint8_t* qh = b + 128;
    const auto* scales = reinterpret_cast<const int8_t*>(b + 192);
    const float d = half_at(b + 208);
    for (int h = 0; h < 2; ++h) {
        const uint8_t* L = ql + 64 * h;
        const uint8_t* H = qh + 32 * h;
        const int8_t* S = scales + 8 * h;
        float* out = y + 128 * h;
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = ((L[l] & 0xF) | ((H[l] >> 0 & 3) << 4)) - 32;
            const int q2 = ((L[l + 32] & 0xF) | ((H[l] >> 2 & 3) << 4)) - 32;
            const int q3 = ((L[l] >> 4) | ((H[l] >> 4 & 3) << 4)) - 32;
            const int q4 = ((L[l + 32] >> 4) | ((H[l] >> 6 & 3) << 4)) - 32;
            out[l] = d * float(S[is]) * float(q1);
            out[l + 32] = d * float(S[is + 2]) * float(q2);
            out[l + 64] = d * float(S[is + 4]) * float(q3);
            out[l + 96] = d * float(S[is + 6]) * float(q4);
        }
    }
}

}  // namespace

Status dequantize_blocks(DType type, const uint8_t* src, uint64_t n, float* dst) {
    const uint64_t block = uint64_t(dtype_block_size(type)), bytes = uint64_t(dtype_block_bytes(type));
    if (block <= 1) return Status::error(std::string(dtype_name(type)) + " is not a block-quantized type");
    if (n % block != 0)
        return Status::error(std::to_string(n) + " elements do not fill whole " + dtype_name(type) +
                             " blocks of " + std::to_string(block));
    for (uint64_t i = 0; i < n / block; ++i) {
        const uint8_t* b = src + i * bytes;
        float* y = dst + i * block;
        switch (type) {
            case DType::q8_0:
                dequantize_q8_0(b, y);
                break;
            case DType::q4_0:
                dequantize_q4_0(b, y);
                break;
            case DType::q4_k:
                dequantize_q4_q5_k(b, nullptr, b + 16, y);
                break;
            case DType::q5_k:
                dequantize_q4_q5_k(b, b + 16, b + 48, y);
                break;
            case DType::q6_k:
                dequantize_q6_k(b, y);
                break;
            default:
                return Status::error(std::string("dequantizing ") + dtype_name(type) + " is not supported");
        }
    }
    return Status::ok();
}

void quantize_q8_0(const float* x, uint64_t n, uint8_t* dst) {
    assert(n % 32 == 0 && "quantize_q8_0: n must be a whole number of 32-weight blocks");
    for (uint64_t i = 0; i < n / 32; ++i) {
        const float* v = x + 32 * i;
        uint8_t* b = dst + 34 * i;
        float amax = 0.0f;
        for (int j = 0; j < 32; ++j)
            amax = std::max(amax, std::fabs(v[j]));
        // The largest magnitude maps to ±127; the scale is stored as half, the rounding uses the float
        // scale (as ggml's reference quantizer does, so our bytes equal llama.cpp's).
        const float d = amax / 127.0f;
        const float inv = d != 0.0f ? 1.0f / d : 0.0f;
        const uint16_t dh = f32_to_f16(d);
        std::memcpy(b, &dh, 2);
        for (int j = 0; j < 32; ++j)
            b[2 + j] = uint8_t(int8_t(std::lround(v[j] * inv)));
    }
}

}  // namespace kvscope
