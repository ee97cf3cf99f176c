// cuda_kernels.h — the CUDA backend's own kernels (everything but the matrix products of prefill, which
// cuBLAS runs), as plain C++ launchers so that cuda_backend.cpp is ordinary C++.
//
// Every launcher enqueues its kernel on `stream` and returns the launch error (cudaSuccess when the
// launch was accepted; faults inside a kernel surface at the next synchronize). Shapes and layouts are
// those of kvscope::Stream (core/include/kvscope/backend.h): row-major float32, `ld` = row stride in
// floats, K/V cache blocks [n_kv_heads][capacity][head_dim]. Each kernel has a CPU twin: the same op in
// core/engine/cpu_backend.cpp, and a plain scalar one in tests/parity/naive_ops.cpp that both are
// checked against (kvscope_parity).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace kvscope::cuda {

// y[m] = w[m, k] · x[k] (+ bias[m]): the matrix-vector product of a decode step. Memory-bound: each
// row of w is read once with 16-byte loads; a row is split over several warps when there are too few
// rows to keep every multiprocessor busy. `sm_count` sizes that split.
cudaError_t gemv(const float* w, const float* x, int m, int k, const float* bias, float* y, int sm_count,
                 cudaStream_t stream);
// y[n, m] += bias[m] (after a cuBLAS product).
cudaError_t add_bias(float* y, int n, int m, const float* bias, cudaStream_t stream);

cudaError_t rmsnorm(const float* x, int n, int d, const float* w, float eps, float* y, cudaStream_t stream);
cudaError_t layernorm(const float* x, int n, int d, const float* w, const float* b, float eps, float* y,
                      cudaStream_t stream);
// inv_freq[hd / 2] is in device memory, computed on the host in float32 exactly as the CPU does.
cudaError_t rope(float* x, int n, int ld, int n_heads, int hd, int pos0, const float* inv_freq,
                 bool interleaved, cudaStream_t stream);
cudaError_t swiglu(const float* gate, const float* up, size_t count, float* out, cudaStream_t stream);
// c = sqrt(2 / pi) as the CPU rounds it (passed in so both use the same float).
cudaError_t gelu_tanh(float* x, size_t count, float c, cudaStream_t stream);
cudaError_t add(float* y, const float* x, size_t count, cudaStream_t stream);
// ids: device memory.
cudaError_t embed(const int32_t* ids, int n, const float* table, int d, float* y, cudaStream_t stream);
cudaError_t kv_write(const float* k, const float* v, int n, int ld, int n_kv_heads, int hd, float* k_cache,
                     float* v_cache, int capacity, int pos0, cudaStream_t stream);

// Attention over the cache, split over the keys when there are too few (head, query row) pairs to fill
// the GPU (decode: flash-decoding). See attention_plan() for the split and the scratch it needs.
struct AttentionArgs {
    const float* q = nullptr;  // [n, ld]: n_heads heads of hd per row
    int n = 0, ld = 0, n_heads = 0, n_kv_heads = 0, hd = 0;
    const float* k_cache = nullptr;  // [n_kv_heads][capacity][hd]
    const float* v_cache = nullptr;
    int capacity = 0, pos0 = 0;
    float scale = 1.0f;
    float* out = nullptr;    // [n, n_heads * hd]
    float* probs = nullptr;  // [n_heads][n - probs_row_begin][pos0 + n], or null
    int probs_row_begin = 0;
};

struct AttentionPlan {
    int splits = 1;             // key ranges per (head, row); 1: no partials, no combine pass
    int chunk = 0;              // keys per range
    size_t scratch_floats = 0;  // partial results needed when splits > 1
};

AttentionPlan attention_plan(const AttentionArgs& a, int sm_count);
// `scratch` holds plan.scratch_floats floats of device memory (null when none are needed).
cudaError_t attention(const AttentionArgs& a, const AttentionPlan& plan, float* scratch, cudaStream_t stream);

// Reads `n` floats (n a multiple of 4, 16-byte aligned) and writes one partial sum per block to
// `sums[blocks]`, so nothing can be optimised away: the device's read bandwidth.
cudaError_t read_bandwidth_kernel(const float* data, size_t n, float* sums, int blocks, cudaStream_t stream);

// Checks that this build carries code the device can run (cudaErrorNoKernelImageForDevice otherwise).
cudaError_t probe_kernels();

}  // namespace kvscope::cuda
