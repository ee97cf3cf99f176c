// ops.h — one helper per op: it runs the op on the stream, times it, and counts its FLOPs and bytes from
// the shapes it was given, following the conventions written in kvscope/counters.h. The forward pass calls
// only these, so nothing it does goes uncounted and nothing is counted that it did not do.
#pragma once

#include "engine/device_weights.h"
#include "kvscope/backend.h"
#include "kvscope/counters.h"

namespace kvscope {

class CountedOps {
  public:
    CountedOps(Stream& stream, Counters& counters) : m_stream(stream), m_counters(counters) {}
    Stream& stream() { return m_stream; }

    // y[n, m] = x[n, k] · Wᵀ (+ b)
    void matmul(OpClass op, const float* x, int n, const DeviceTensor& w, const DeviceTensor& bias, float* y);
    void rmsnorm(const float* x, int n, int d, const DeviceTensor& w, float eps, float* y);
    void layernorm(const float* x, int n, int d, const DeviceTensor& w, const DeviceTensor& b, float eps,
                   float* y);
    void rope(float* x, int n, int ld, int n_heads, int hd, int pos0, float theta, RopeLayout layout);
    void swiglu(const float* gate, const float* up, int n, int d_ff, float* out);
    void gelu_tanh(float* x, int n, int d_ff);
    void residual(float* y, const float* x, int n, int d);
    void embed(const int32_t* ids, int n, const DeviceTensor& table, float* y);
    void add_positions(float* y, const DeviceTensor& pos_embd, int pos0, int n);
    // pos0 is the cache row of the first new token; row_bytes one head's K (or V) row in the cache's
    // storage (0: float32, 4·hd), for the KV byte counts.
    void kv_write(const float* k, const float* v, int n, int ld, int n_kv_heads, int hd, float* k_cache,
                  float* v_cache, int capacity, int pos0, uint64_t row_bytes = 0);
    void attention(const float* q, int n, int ld, int n_heads, int n_kv_heads, int hd, const float* k_cache,
                   const float* v_cache, int capacity, int pos0, float* out, float* probs,
                   int probs_row_begin, uint64_t row_bytes = 0);

  private:
    OpCounters& at(OpClass op) { return m_counters[op]; }
    Stream& m_stream;
    Counters& m_counters;
};

}  // namespace kvscope
