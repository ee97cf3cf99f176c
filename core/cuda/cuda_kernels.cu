// cuda_kernels.cu — the CUDA backend's kernels: norms, RoPE, activations, residual add, embedding
// gather, KV append, attention over the cache, and the matrix-vector product of decode.
//
// Arithmetic follows the CPU backend (core/engine/cpu_backend.cpp) step for step so the two agree to
// float32 rounding: the same normalisation formulas, the RoPE angle rounded to float before cos/sin, the
// softmax as exp(s - max) / sum. Sums run in a different order (warps and blocks), which is where the
// last bits differ. Accurate expf/tanhf/sqrtf throughout: this build never uses fast-math intrinsics.
#include <algorithm>
#include <cmath>

#include "cuda/cuda_kernels.h"

namespace kvscope::cuda {

namespace {

constexpr int kWarp = 32;

int ceil_div(long long a, long long b) {
    return int((a + b - 1) / b);
}

// Blocks for an elementwise kernel over `count` items: grid-stride loops cover the rest.
int elementwise_blocks(size_t count, int threads) {
    const long long blocks = (static_cast<long long>(count) + threads - 1) / threads;
    return int(blocks < 1 ? 1 : blocks > 65535 ? 65535 : blocks);
}

__device__ float warp_sum(float v) {
    for (int o = kWarp / 2; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ float warp_max(float v) {
    for (int o = kWarp / 2; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum (or max) that every thread receives. blockDim.x is a multiple of 32; `red` holds 32
// floats. The leading barrier lets the same `red` serve consecutive reductions.
template <bool kMax>
__device__ float block_reduce(float v, float* red) {
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    v = kMax ? warp_max(v) : warp_sum(v);
    __syncthreads();
    if (lane == 0) red[warp] = v;
    __syncthreads();
    const int n_warps = blockDim.x / kWarp;
    const float neutral = kMax ? -INFINITY : 0.0f;
    v = lane < n_warps ? red[lane] : neutral;
    return kMax ? warp_max(v) : warp_sum(v);
}

// ---- matrix-vector product ----------------------------------------------------------------------------

constexpr int kGemvThreads = 256;  // 8 warps

// Each row of w is summed by `warps_per_row` warps (1, 2, 4 or 8), each taking every warps_per_row-th
// 32-lane slice of the row; the partial sums meet in shared memory. kVec4: 16-byte loads (k % 4 == 0
// and w, x 16-byte aligned).
template <bool kVec4>
__global__ void gemv_kernel(const float* __restrict__ w, const float* __restrict__ x, int m, int k,
                            const float* __restrict__ bias, float* __restrict__ y, int warps_per_row) {
    __shared__ float partial[kGemvThreads / kWarp];
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    const int rows_per_block = (kGemvThreads / kWarp) / warps_per_row;
    const int row = blockIdx.x * rows_per_block + warp / warps_per_row;
    const int part = warp % warps_per_row;
    float acc = 0.0f;
    if (row < m) {
        const float* wr = w + size_t(row) * k;
        const int stride = kWarp * warps_per_row;
        if constexpr (kVec4) {
            const float4* w4 = reinterpret_cast<const float4*>(wr);
            const float4* x4 = reinterpret_cast<const float4*>(x);
            const int k4 = k / 4;
#pragma unroll 4
            for (int j = part * kWarp + lane; j < k4; j += stride) {
                const float4 a = __ldg(w4 + j), b = __ldg(x4 + j);
                acc += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
            }
        } else {
#pragma unroll 4
            for (int j = part * kWarp + lane; j < k; j += stride)
                acc += __ldg(wr + j) * __ldg(x + j);
        }
    }
    acc = warp_sum(acc);
    if (lane == 0) partial[warp] = acc;
    __syncthreads();
    if (row < m && part == 0 && lane == 0) {
        float sum = 0.0f;
        for (int p = 0; p < warps_per_row; ++p)
            sum += partial[warp + p];
        y[row] = bias ? sum + bias[row] : sum;
    }
}

__global__ void add_bias_kernel(float* __restrict__ y, size_t count, int m, const float* __restrict__ bias) {
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count;
         i += size_t(gridDim.x) * blockDim.x)
        y[i] += bias[i % m];
}

// ---- norms ---------------------------------------------------------------------------------------------

constexpr int kNormThreads = 256;

// One block per row: y = x / sqrt(mean(x²) + eps) · w.
__global__ void rmsnorm_kernel(const float* __restrict__ x, int d, const float* __restrict__ w, float eps,
                               float* __restrict__ y) {
    __shared__ float red[kWarp];
    const float* xr = x + size_t(blockIdx.x) * d;
    float* yr = y + size_t(blockIdx.x) * d;
    float ss = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x)
        ss += xr[j] * xr[j];
    ss = block_reduce<false>(ss, red);
    const float inv = 1.0f / sqrtf(ss / float(d) + eps);
    for (int j = threadIdx.x; j < d; j += blockDim.x)
        yr[j] = w[j] * (xr[j] * inv);
}

// One block per row: y = (x − mean) / sqrt(var + eps) · w + b, the variance from the centred values.
__global__ void layernorm_kernel(const float* __restrict__ x, int d, const float* __restrict__ w,
                                 const float* __restrict__ b, float eps, float* __restrict__ y) {
    __shared__ float red[kWarp];
    const float* xr = x + size_t(blockIdx.x) * d;
    float* yr = y + size_t(blockIdx.x) * d;
    float sum = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x)
        sum += xr[j];
    const float mean = block_reduce<false>(sum, red) / float(d);
    float ss = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        const float c = xr[j] - mean;
        ss += c * c;
    }
    const float inv = 1.0f / sqrtf(block_reduce<false>(ss, red) / float(d) + eps);
    for (int j = threadIdx.x; j < d; j += blockDim.x)
        yr[j] = (xr[j] - mean) * inv * w[j] + b[j];
}

// ---- RoPE ----------------------------------------------------------------------------------------------

// One block per row; a thread per (head, pair). The angle is the float32 product float(pos) ·
// inv_freq[j] (as PyTorch and the CPU backend round it); cos and sin are taken in double and rounded to
// float, as the CPU does, so both rotate by the same float pair.
__global__ void rope_kernel(float* __restrict__ x, int ld, int n_heads, int hd, int pos0,
                            const float* __restrict__ inv_freq, bool interleaved) {
    const int i = blockIdx.x, half = hd / 2;
    const float pos = float(pos0 + i);
    float* row = x + size_t(i) * ld;
    for (int t = threadIdx.x; t < n_heads * half; t += blockDim.x) {
        const int h = t / half, j = t % half;
        const float angle = __fmul_rn(pos, inv_freq[j]);
        double s, c;
        sincos(double(angle), &s, &c);
        const float cs = float(c), sn = float(s);
        float* v = row + h * hd;
        const int a = interleaved ? 2 * j : j;
        const int b = interleaved ? 2 * j + 1 : j + half;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * cs - x1 * sn;
        v[b] = x0 * sn + x1 * cs;
    }
}

// ---- elementwise ---------------------------------------------------------------------------------------

constexpr int kElementwiseThreads = 256;

__global__ void swiglu_kernel(const float* __restrict__ gate, const float* __restrict__ up, size_t count,
                              float* __restrict__ out) {
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count;
         i += size_t(gridDim.x) * blockDim.x) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

__global__ void gelu_tanh_kernel(float* __restrict__ x, size_t count, float c) {
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count;
         i += size_t(gridDim.x) * blockDim.x) {
        const float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(c * (v + 0.044715f * v * v * v)));
    }
}

__global__ void add_kernel(float* __restrict__ y, const float* __restrict__ x, size_t count) {
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count;
         i += size_t(gridDim.x) * blockDim.x)
        y[i] += x[i];
}

// One block per token: y[i, :] = table[ids[i], :].
__global__ void embed_kernel(const int32_t* __restrict__ ids, const float* __restrict__ table, int d,
                             float* __restrict__ y) {
    const float* src = table + size_t(ids[blockIdx.x]) * d;
    float* dst = y + size_t(blockIdx.x) * d;
    for (int j = threadIdx.x; j < d; j += blockDim.x)
        dst[j] = src[j];
}

// One block per (token, KV head): the token's K and V slices become row pos0 + i of that head's blocks.
__global__ void kv_write_kernel(const float* __restrict__ k, const float* __restrict__ v, int ld, int hd,
                                float* __restrict__ k_cache, float* __restrict__ v_cache, int capacity,
                                int pos0) {
    const int i = blockIdx.x, h = blockIdx.y;
    const size_t src = size_t(i) * ld + size_t(h) * hd;
    const size_t dst = (size_t(h) * capacity + pos0 + i) * hd;
    for (int j = threadIdx.x; j < hd; j += blockDim.x) {
        k_cache[dst + j] = k[src + j];
        v_cache[dst + j] = v[src + j];
    }
}

// ---- attention -----------------------------------------------------------------------------------------
//
// Block (i, h, split) takes query row i of head h over its range of keys [kb, ke) (ke <= pos0 + i + 1:
// causal), in tiles of kAttnTile keys: thread t scores key t of the tile against q, then the tile's
// probabilities weight the V rows into an accumulator, rescaled whenever the running maximum grows
// (online softmax). With one split the block finishes the row itself: out = acc / sum, and the raw
// scores it left in `probs` become exp(s − max) / sum. With several, each block leaves (acc, max, sum)
// in scratch and attention_combine_kernel merges them. Query head h reads KV head h / group in place.

constexpr int kAttnThreads = 128;
constexpr int kAttnTile = kAttnThreads;  // one key per thread in the scoring pass
constexpr int kMinKeysPerSplit = 64;     // below this a split costs more than it overlaps
constexpr int kMaxSplits = 64;

struct AttnKernelArgs {
    AttentionArgs a;
    int s_total;  // pos0 + n: keys of the last row, the probs row length
    int group;    // query heads per KV head
    int lanes;    // value pass: parallel key lanes (blockDim / hd, at least 1)
    int splits, chunk;
    float* part_acc;  // [n_heads][n][splits][hd]
    float* part_ms;   // [n_heads][n][splits][2]: running max, sum
    bool vec4;        // hd % 4 == 0 and the cache 16-byte aligned
};

__device__ float* probs_row(const AttentionArgs& a, int s_total, int h, int i) {
    const int prob_rows = a.n - a.probs_row_begin;
    return a.probs + (size_t(h) * prob_rows + (i - a.probs_row_begin)) * s_total;
}

__global__ void attention_kernel(AttnKernelArgs p) {
    const AttentionArgs& a = p.a;
    const int i = blockIdx.x, h = blockIdx.y, split = blockIdx.z;
    const int hd = a.hd, tid = threadIdx.x;
    const int g = h / p.group;
    const int s_i = a.pos0 + i + 1;
    const int kb = split * p.chunk;
    const int ke = min(kb + p.chunk, s_i);
    const bool keep_probs = a.probs != nullptr && i >= a.probs_row_begin;
    float* prow = keep_probs ? probs_row(a, p.s_total, h, i) : nullptr;

    extern __shared__ float4 shared4[];              // float4 for the 16-byte alignment of q_s
    float* q_s = reinterpret_cast<float*>(shared4);  // [hd_padded]
    const int hd_padded = (hd + 3) / 4 * 4;
    float* p_s = q_s + hd_padded;     // [kAttnTile]
    float* acc = p_s + kAttnTile;     // [lanes][hd]
    float* red = acc + p.lanes * hd;  // [32]

    const float* qrow = a.q + size_t(i) * a.ld + size_t(h) * hd;
    for (int d = tid; d < hd; d += blockDim.x)
        q_s[d] = qrow[d];
    for (int d = tid; d < p.lanes * hd; d += blockDim.x)
        acc[d] = 0.0f;
    __syncthreads();

    const float* K = a.k_cache + size_t(g) * a.capacity * hd;
    const float* V = a.v_cache + size_t(g) * a.capacity * hd;
    float m_run = -INFINITY, l_run = 0.0f;
    for (int t0 = kb; t0 < ke; t0 += kAttnTile) {
        const int count = min(kAttnTile, ke - t0);
        float s = -INFINITY;
        if (tid < count) {
            const float* kr = K + size_t(t0 + tid) * hd;
            float dot = 0.0f;
            if (p.vec4) {
                const float4* k4 = reinterpret_cast<const float4*>(kr);
                const float4* q4 = reinterpret_cast<const float4*>(q_s);
                for (int d = 0; d < hd / 4; ++d) {
                    const float4 kv = __ldg(k4 + d), qv = q4[d];
                    dot += kv.x * qv.x + kv.y * qv.y + kv.z * qv.z + kv.w * qv.w;
                }
            } else {
                for (int d = 0; d < hd; ++d)
                    dot += __ldg(kr + d) * q_s[d];
            }
            s = dot * a.scale;
            if (prow) prow[t0 + tid] = s;  // raw; normalised once the row's max and sum are known
        }
        const float m_new = fmaxf(m_run, block_reduce<true>(s, red));
        const float alpha = expf(m_run - m_new);  // 0 on the first tile (m_run = −inf)
        const float e = tid < count ? expf(s - m_new) : 0.0f;
        p_s[tid] = e;
        l_run = l_run * alpha + block_reduce<false>(e, red);  // its barriers also publish p_s
        m_run = m_new;
        if (hd <= blockDim.x) {
            // Thread (lane, d): dim d over keys lane, lane + lanes, ... of the tile.
            if (tid < p.lanes * hd) {
                const int lane = tid / hd, d = tid % hd;
                float o = acc[tid] * alpha;
                for (int t = lane; t < count; t += p.lanes)
                    o += p_s[t] * __ldg(V + size_t(t0 + t) * hd + d);
                acc[tid] = o;
            }
        } else {
            for (int d = tid; d < hd; d += blockDim.x) {
                float o = acc[d] * alpha;
                for (int t = 0; t < count; ++t)
                    o += p_s[t] * __ldg(V + size_t(t0 + t) * hd + d);
                acc[d] = o;
            }
        }
        __syncthreads();  // p_s is rewritten by the next tile
    }

    const size_t part = (size_t(h) * a.n + i) * p.splits + split;
    for (int d = tid; d < hd; d += blockDim.x) {
        float o = 0.0f;
        for (int lane = 0; lane < p.lanes; ++lane)
            o += acc[lane * hd + d];
        if (p.splits == 1)
            a.out[size_t(i) * a.n_heads * hd + size_t(h) * hd + d] = o / l_run;
        else
            p.part_acc[part * hd + d] = o;
    }
    if (p.splits > 1) {
        if (tid == 0) {
            p.part_ms[part * 2] = m_run;
            p.part_ms[part * 2 + 1] = l_run;
        }
        return;
    }
    if (prow) {
        __syncthreads();  // the raw scores written by every thread are visible block-wide
        for (int j = tid; j < p.s_total; j += blockDim.x)
            prow[j] = j < s_i ? expf(prow[j] - m_run) / l_run : 0.0f;
    }
}

// Block (i, h): merges the splits of one query row. Each split's (acc, max, sum) is rescaled to the
// row's maximum; empty splits (sum 0) weigh nothing.
__global__ void attention_combine_kernel(AttnKernelArgs p) {
    const AttentionArgs& a = p.a;
    const int i = blockIdx.x, h = blockIdx.y, tid = threadIdx.x, hd = a.hd;
    const int s_i = a.pos0 + i + 1;
    const size_t base = (size_t(h) * a.n + i) * p.splits;
    float m = -INFINITY;
    for (int z = 0; z < p.splits; ++z)
        if (p.part_ms[(base + z) * 2 + 1] > 0.0f) m = fmaxf(m, p.part_ms[(base + z) * 2]);
    float l = 0.0f;
    for (int z = 0; z < p.splits; ++z) {
        const float lz = p.part_ms[(base + z) * 2 + 1];
        if (lz > 0.0f) l += lz * expf(p.part_ms[(base + z) * 2] - m);
    }
    for (int d = tid; d < hd; d += blockDim.x) {
        float o = 0.0f;
        for (int z = 0; z < p.splits; ++z) {
            if (p.part_ms[(base + z) * 2 + 1] > 0.0f)
                o += p.part_acc[(base + z) * hd + d] * expf(p.part_ms[(base + z) * 2] - m);
        }
        a.out[size_t(i) * a.n_heads * hd + size_t(h) * hd + d] = o / l;
    }
    if (a.probs != nullptr && i >= a.probs_row_begin) {
        float* prow = probs_row(a, p.s_total, h, i);
        for (int j = tid; j < p.s_total; j += blockDim.x)
            prow[j] = j < s_i ? expf(prow[j] - m) / l : 0.0f;
    }
}

// ---- bandwidth -----------------------------------------------------------------------------------------

__global__ void read_kernel(const float4* __restrict__ data, size_t n4, float* __restrict__ sums) {
    __shared__ float red[kWarp];
    float acc = 0.0f;
    // Unrolled so that each thread has several 16-byte loads in flight, as a streaming kernel should.
#pragma unroll 4
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n4;
         i += size_t(gridDim.x) * blockDim.x) {
        const float4 v = __ldg(data + i);
        acc += (v.x + v.y) + (v.z + v.w);
    }
    acc = block_reduce<false>(acc, red);
    if (threadIdx.x == 0) sums[blockIdx.x] = acc;
}

bool aligned16(const void* p) {
    return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

}  // namespace

cudaError_t gemv(const float* w, const float* x, int m, int k, const float* bias, float* y, int sm_count,
                 cudaStream_t stream) {
    // Enough warps to keep every multiprocessor streaming (about 64 resident warps each), but no more
    // warps per row than leave each lane at least one 16-byte load.
    const long long want_warps = 64ll * (sm_count > 0 ? sm_count : 1);
    int warps_per_row = 1;
    while (warps_per_row < 8 && static_cast<long long>(m) * warps_per_row < want_warps &&
           k >= kWarp * 4 * warps_per_row * 2)
        warps_per_row *= 2;
    const int rows_per_block = (kGemvThreads / kWarp) / warps_per_row;
    const int blocks = ceil_div(m, rows_per_block);
    if (k % 4 == 0 && aligned16(w) && aligned16(x))
        gemv_kernel<true><<<blocks, kGemvThreads, 0, stream>>>(w, x, m, k, bias, y, warps_per_row);
    else
        gemv_kernel<false><<<blocks, kGemvThreads, 0, stream>>>(w, x, m, k, bias, y, warps_per_row);
    return cudaGetLastError();
}

cudaError_t add_bias(float* y, int n, int m, const float* bias, cudaStream_t stream) {
    const size_t count = size_t(n) * m;
    add_bias_kernel<<<elementwise_blocks(count, kElementwiseThreads), kElementwiseThreads, 0, stream>>>(
        y, count, m, bias);
    return cudaGetLastError();
}

cudaError_t rmsnorm(const float* x, int n, int d, const float* w, float eps, float* y, cudaStream_t stream) {
    rmsnorm_kernel<<<n, kNormThreads, 0, stream>>>(x, d, w, eps, y);
    return cudaGetLastError();
}

cudaError_t layernorm(const float* x, int n, int d, const float* w, const float* b, float eps, float* y,
                      cudaStream_t stream) {
    layernorm_kernel<<<n, kNormThreads, 0, stream>>>(x, d, w, b, eps, y);
    return cudaGetLastError();
}

cudaError_t rope(float* x, int n, int ld, int n_heads, int hd, int pos0, const float* inv_freq,
                 bool interleaved, cudaStream_t stream) {
    const int pairs = n_heads * (hd / 2);
    const int threads = pairs >= 256 ? 256 : std::max(kWarp, (pairs + kWarp - 1) / kWarp * kWarp);
    rope_kernel<<<n, threads, 0, stream>>>(x, ld, n_heads, hd, pos0, inv_freq, interleaved);
    return cudaGetLastError();
}

cudaError_t swiglu(const float* gate, const float* up, size_t count, float* out, cudaStream_t stream) {
    swiglu_kernel<<<elementwise_blocks(count, kElementwiseThreads), kElementwiseThreads, 0, stream>>>(
        gate, up, count, out);
    return cudaGetLastError();
}

cudaError_t gelu_tanh(float* x, size_t count, float c, cudaStream_t stream) {
    gelu_tanh_kernel<<<elementwise_blocks(count, kElementwiseThreads), kElementwiseThreads, 0, stream>>>(
        x, count, c);
    return cudaGetLastError();
}

cudaError_t add(float* y, const float* x, size_t count, cudaStream_t stream) {
    add_kernel<<<elementwise_blocks(count, kElementwiseThreads), kElementwiseThreads, 0, stream>>>(y, x,
                                                                                                   count);
    return cudaGetLastError();
}

cudaError_t embed(const int32_t* ids, int n, const float* table, int d, float* y, cudaStream_t stream) {
    embed_kernel<<<n, 256, 0, stream>>>(ids, table, d, y);
    return cudaGetLastError();
}

cudaError_t kv_write(const float* k, const float* v, int n, int ld, int n_kv_heads, int hd, float* k_cache,
                     float* v_cache, int capacity, int pos0, cudaStream_t stream) {
    const int threads = hd >= 256 ? 256 : (hd + kWarp - 1) / kWarp * kWarp;
    kv_write_kernel<<<dim3(n, n_kv_heads), threads, 0, stream>>>(k, v, ld, hd, k_cache, v_cache, capacity,
                                                                 pos0);
    return cudaGetLastError();
}

AttentionPlan attention_plan(const AttentionArgs& a, int sm_count) {
    AttentionPlan plan;
    const int s_total = a.pos0 + a.n;
    const long long rows = static_cast<long long>(a.n_heads) * a.n;
    // About four blocks per multiprocessor in flight; split the keys only when the rows alone fall short.
    const long long want_blocks = 4ll * (sm_count > 0 ? sm_count : 1);
    int splits = 1;
    if (rows < want_blocks) {
        splits = static_cast<int>(
            std::min<long long>(ceil_div(want_blocks, rows), ceil_div(s_total, kMinKeysPerSplit)));
        splits = std::max(1, std::min(splits, kMaxSplits));
    }
    plan.chunk = ceil_div(s_total, splits);
    plan.splits = ceil_div(s_total, plan.chunk);
    if (plan.splits > 1) plan.scratch_floats = size_t(rows) * plan.splits * (size_t(a.hd) + 2);
    return plan;
}

cudaError_t attention(const AttentionArgs& a, const AttentionPlan& plan, float* scratch,
                      cudaStream_t stream) {
    AttnKernelArgs p;
    p.a = a;
    p.s_total = a.pos0 + a.n;
    p.group = a.n_heads / a.n_kv_heads;
    p.lanes = a.hd <= kAttnThreads ? kAttnThreads / a.hd : 1;
    p.splits = plan.splits;
    p.chunk = plan.chunk;
    const size_t rows_splits = size_t(a.n_heads) * a.n * plan.splits;
    p.part_acc = plan.splits > 1 ? scratch : nullptr;
    p.part_ms = plan.splits > 1 ? scratch + rows_splits * a.hd : nullptr;
    p.vec4 = a.hd % 4 == 0 && aligned16(a.k_cache) && aligned16(a.v_cache);
    const int hd_padded = (a.hd + 3) / 4 * 4;
    const size_t shared = sizeof(float) * (size_t(hd_padded) + kAttnTile + size_t(p.lanes) * a.hd + kWarp);
    if (shared > 48 * 1024) return cudaErrorInvalidValue;  // head_dim past ~5000: no model has one
    // Rows on x: grid.y and grid.z stop at 65535, a long prompt does not.
    attention_kernel<<<dim3(a.n, a.n_heads, plan.splits), kAttnThreads, shared, stream>>>(p);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess || plan.splits == 1) return err;
    attention_combine_kernel<<<dim3(a.n, a.n_heads), kAttnThreads, 0, stream>>>(p);
    return cudaGetLastError();
}

cudaError_t read_bandwidth_kernel(const float* data, size_t n, float* sums, int blocks, cudaStream_t stream) {
    read_kernel<<<blocks, 512, 0, stream>>>(reinterpret_cast<const float4*>(data), n / 4, sums);
    return cudaGetLastError();
}

cudaError_t probe_kernels() {
    cudaFuncAttributes attr;
    return cudaFuncGetAttributes(&attr, attention_kernel);
}

}  // namespace kvscope::cuda
