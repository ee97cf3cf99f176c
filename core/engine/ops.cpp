#include "engine/ops.h"

#include <cmath>

namespace kvscope {

namespace {
// Brackets one op with the stream's timer.
struct Timed {
    Timed(Stream& s, OpClass op) : stream(s), op(op) { stream.begin_op(op); }
    ~Timed() { stream.end_op(op); }
    Stream& stream;
    OpClass op;
};

uint64_t stored(const DeviceTensor& t) {
    return t ? t.host->stored_bytes : 0;
}
}  // namespace

void CountedOps::matmul(OpClass op, const float* x, int n, const DeviceTensor& w, const DeviceTensor& bias,
                        float* y) {
    const int m = static_cast<int>(w.host->rows()), k = static_cast<int>(w.host->cols());
    auto& c = at(op);
    c.flops += 2ull * n * k * m + (bias ? uint64_t(n) * m : 0);
    c.weight_bytes += stored(w) + stored(bias);
    c.calls += 1;
    Timed t(m_stream, op);
    if (w.in_out)
        m_stream.matmul_in_out(x, n, k, w.data, m, bias ? bias.data : nullptr, y);
    else
        m_stream.matmul(x, n, k, w.data, m, bias ? bias.data : nullptr, y);
}

void CountedOps::rmsnorm(const float* x, int n, int d, const DeviceTensor& w, float eps, float* y) {
    auto& c = at(OpClass::norm);
    c.flops += 4ull * n * d;
    c.weight_bytes += stored(w);
    c.calls += 1;
    Timed t(m_stream, OpClass::norm);
    m_stream.rmsnorm(x, n, d, w.data, eps, y);
}

void CountedOps::layernorm(const float* x, int n, int d, const DeviceTensor& w, const DeviceTensor& b,
                           float eps, float* y) {
    auto& c = at(OpClass::norm);
    c.flops += 7ull * n * d;
    c.weight_bytes += stored(w) + stored(b);
    c.calls += 1;
    Timed t(m_stream, OpClass::norm);
    m_stream.layernorm(x, n, d, w.data, b.data, eps, y);
}

void CountedOps::rope(float* x, int n, int ld, int n_heads, int hd, int pos0, float theta,
                      RopeLayout layout) {
    auto& c = at(OpClass::rope);
    c.flops += 3ull * n * n_heads * hd;
    c.calls += 1;
    Timed t(m_stream, OpClass::rope);
    m_stream.rope(x, n, ld, n_heads, hd, pos0, theta, layout);
}

void CountedOps::swiglu(const float* gate, const float* up, int n, int d_ff, float* out) {
    auto& c = at(OpClass::activation);
    c.flops += 5ull * n * d_ff;
    c.calls += 1;
    Timed t(m_stream, OpClass::activation);
    m_stream.swiglu(gate, up, size_t(n) * d_ff, out);
}

void CountedOps::gelu_tanh(float* x, int n, int d_ff) {
    auto& c = at(OpClass::activation);
    c.flops += 9ull * n * d_ff;
    c.calls += 1;
    Timed t(m_stream, OpClass::activation);
    m_stream.gelu_tanh(x, size_t(n) * d_ff);
}

void CountedOps::residual(float* y, const float* x, int n, int d) {
    auto& c = at(OpClass::residual);
    c.flops += uint64_t(n) * d;
    c.calls += 1;
    Timed t(m_stream, OpClass::residual);
    m_stream.add(y, x, size_t(n) * d);
}

void CountedOps::embed(const int32_t* ids, int n, const DeviceTensor& table, float* y) {
    const int d = static_cast<int>(table.host->cols());
    auto& c = at(OpClass::embedding);
    // A lookup reads only the rows it gathers, at the table's stored width.
    c.weight_bytes += stored(table) / uint64_t(table.host->rows()) * n;
    c.calls += 1;
    Timed t(m_stream, OpClass::embedding);
    m_stream.embed(ids, n, table.data, d, y);
}

void CountedOps::add_positions(float* y, const DeviceTensor& pos_embd, int pos0, int n) {
    const int d = static_cast<int>(pos_embd.host->cols());
    auto& c = at(OpClass::embedding);
    c.flops += uint64_t(n) * d;
    c.weight_bytes += stored(pos_embd) / uint64_t(pos_embd.host->rows()) * n;
    c.calls += 1;
    Timed t(m_stream, OpClass::embedding);
    m_stream.add(y, pos_embd.data + int64_t(pos0) * d, size_t(n) * d);
}

void CountedOps::kv_write(const float* k, const float* v, int n, int ld, int n_kv_heads, int hd,
                          float* k_cache, float* v_cache, int capacity, int pos0, uint64_t row_bytes) {
    auto& c = at(OpClass::kv_write);
    if (row_bytes == 0) row_bytes = 4ull * hd;
    c.kv_written += 2ull * n * n_kv_heads * row_bytes;
    c.calls += 1;
    Timed t(m_stream, OpClass::kv_write);
    m_stream.kv_write(k, v, n, ld, n_kv_heads, hd, k_cache, v_cache, capacity, pos0);
}

void CountedOps::attention(const float* q, int n, int ld, int n_heads, int n_kv_heads, int hd,
                           const float* k_cache, const float* v_cache, int capacity, int pos0, float* out,
                           float* probs, int probs_row_begin, uint64_t row_bytes) {
    auto& c = at(OpClass::attention);
    // Query row i sees s_i = pos0 + i + 1 keys: sum over rows = n·pos0 + n(n+1)/2.
    const uint64_t keys_seen = uint64_t(n) * pos0 + uint64_t(n) * (n + 1) / 2;
    c.flops += uint64_t(n_heads) * keys_seen * (2ull * hd + 5 + 2ull * hd);
    // Each KV head's rows up to the longest span are read once (GQA groups share them).
    if (row_bytes == 0) row_bytes = 4ull * hd;
    c.kv_read += 2ull * n_kv_heads * uint64_t(pos0 + n) * row_bytes;
    c.calls += 1;
    const float scale = 1.0f / std::sqrt(float(hd));
    Timed t(m_stream, OpClass::attention);
    m_stream.attention(q, n, ld, n_heads, n_kv_heads, hd, k_cache, v_cache, capacity, pos0, scale, out, probs,
                       probs_row_begin);
}

}  // namespace kvscope
