// trace.cpp — the two forms of a layer's attention rows (trace.h): full float32, or compact half precision
// with the causal zeros left out.
#include "kvscope/trace.h"

#include <cstring>

#include "model/dtype.h"

namespace kvscope {

float half_to_float(uint16_t bits) {
    return f16_to_f32(bits);
}

uint16_t float_to_half(float value) {
    return f32_to_f16(value);
}

float LayerAttention::weight(int head, int r, int key) const {
    if (key < 0 || key >= n_keys) return 0.0f;
    if (!compact()) return row(head, r)[key];
    return key < row_keys(r) ? half_to_float(half_row(head, r)[key]) : 0.0f;
}

void LayerAttention::read_row(int head, int r, float* out) const {
    if (!compact()) {
        std::memcpy(out, row(head, r), size_t(n_keys) * sizeof(float));
        return;
    }
    const int keys = row_keys(r);
    const uint16_t* in = half_row(head, r);
    for (int k = 0; k < keys; ++k)
        out[k] = half_to_float(in[k]);
    std::fill(out + keys, out + n_keys, 0.0f);
}

bool LayerAttention::well_formed(int n_heads) const {
    if (n_rows <= 0 || n_keys <= 0 || row_begin < 0 || n_heads <= 0) return false;
    if (!compact()) return probs.size() == size_t(n_heads) * n_rows * n_keys;
    return n_keys >= row_begin + n_rows && half.size() == size_t(n_heads) * compact_row_offset(n_rows);
}

LayerAttention compact_attention(LayerAttention full, int n_heads) {
    if (full.compact() || full.probs.empty() || full.n_keys < full.row_begin + full.n_rows) return full;
    LayerAttention c;
    c.row_begin = full.row_begin;
    c.n_rows = full.n_rows;
    c.n_keys = full.n_keys;
    size_t total = 0;
    for (int r = 0; r < full.n_rows; ++r)
        total += size_t(full.row_keys(r));
    c.half.resize(total * size_t(n_heads));
    uint16_t* out = c.half.data();
    for (int h = 0; h < n_heads; ++h)
        for (int r = 0; r < full.n_rows; ++r) {
            const float* in = full.row(h, r);
            const int keys = full.row_keys(r);
            for (int k = 0; k < keys; ++k)
                *out++ = float_to_half(in[k]);
        }
    return c;
}

}  // namespace kvscope
