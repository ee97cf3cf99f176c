// naive_ops.h — every op of kvscope::Stream written the plainest way: scalar loops, sums in double,
// straight from the formulas in kvscope/backend.h and kvscope/counters.h. The independent reference each
// backend's ops are checked against (the CPU backend here, the CUDA backend on a GPU machine). Slow on
// purpose: nothing here is clever enough to share a mistake with the backends.
#pragma once

#include <cstdint>
#include <vector>

#include "kvscope/model.h"

namespace kvscope::naive {

using Floats = std::vector<float>;

// y[n, m] = x[n, k] · w[m, k]ᵀ (+ bias[m])
Floats matmul(const Floats& x, int n, int k, const Floats& w, int m, const Floats* bias);
Floats rmsnorm(const Floats& x, int n, int d, const Floats& w, float eps);
Floats layernorm(const Floats& x, int n, int d, const Floats& w, const Floats& b, float eps);
// In place on x[n, ld]: n_heads heads of hd dims per row, row i at position pos0 + i. The frequencies
// and the angle are rounded to float32 as PyTorch computes them; the rotation is done in double.
void rope(Floats& x, int n, int ld, int n_heads, int hd, int pos0, float theta, RopeLayout layout);
Floats swiglu(const Floats& gate, const Floats& up);
Floats gelu_tanh(const Floats& x);
Floats add(const Floats& y, const Floats& x);
Floats embed(const std::vector<int32_t>& ids, const Floats& table, int d);
// Writes rows pos0.. of the [n_kv_heads][capacity][hd] blocks k_cache, v_cache.
void kv_write(const Floats& k, const Floats& v, int n, int ld, int n_kv_heads, int hd, Floats& k_cache,
              Floats& v_cache, int capacity, int pos0);
// Causal attention over the cache; out [n, n_heads·hd]; probs (when not null) [n_heads][n − probs_row_begin]
// [pos0 + n], zero right of the diagonal.
void attention(const Floats& q, int n, int ld, int n_heads, int n_kv_heads, int hd, const Floats& k_cache,
               const Floats& v_cache, int capacity, int pos0, float scale, Floats& out, Floats* probs,
               int probs_row_begin);

}  // namespace kvscope::naive
