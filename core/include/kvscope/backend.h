// backend.h — where the arithmetic of a forward pass runs: the CPU (Eigen) or a CUDA GPU.
//
// A Backend owns a device and its memory (weights are uploaded once and shared by every session on it).
// A Stream is one session's queue of ops on that device: every op of the forward pass, the op timers,
// and the copies back to the host that the trace needs. Two sessions on two threads use two Streams.
// All pointers a Stream takes are in the backend's memory (host memory for the CPU), row-major float32.
// Streams may run asynchronously, but always in the order ops were issued: a buffer may be overwritten by
// the next op right after a download() from it, and the host copy is valid after synchronize(). A failure
// on an asynchronous stream (a kernel, a copy, an allocation) is kept by error(); later ops are skipped.
// This header knows nothing of models or sessions; core/engine drives it, tests/ compare backends op by op.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kvscope/counters.h"
#include "kvscope/model.h"
#include "kvscope/status.h"

namespace kvscope {

enum class DeviceKind { cpu, cuda };
const char* device_kind_name(DeviceKind kind);

// A float32 buffer in a backend's memory; freed with it.
class Buffer {
  public:
    virtual ~Buffer() = default;
    float* data() const { return m_data; }
    size_t size() const { return m_size; }  // floats

  protected:
    float* m_data = nullptr;
    size_t m_size = 0;
};

// A memory bandwidth figure and how it was measured (what was read and written, over how many bytes).
struct MemoryBandwidth {
    double gb_per_s = 0.0;  // 1e9 bytes per second
    std::string method;     // e.g. "read kernel over 1024 MiB, best of 5 (bytes read)"
};

class Stream {
  public:
    virtual ~Stream() = default;

    // --- memory ------------------------------------------------------------------------------------
    virtual void upload(float* dst, const float* host_src, size_t n) = 0;  // host_src reusable on return
    // host_dst is written by the next synchronize() at the latest, and must live until then.
    virtual void download(float* host_dst, const float* src, size_t n) = 0;
    virtual void fill_zero(float* dst, size_t n) = 0;
    virtual void synchronize() = 0;
    // The first failure of this stream, reported once synchronize() has returned; ok on the CPU.
    virtual Status error() const { return Status::ok(); }

    // --- ops (shapes beside each; ld = row stride in floats) -------------------------------------------
    // y[n, m] = x[n, k] · w[m, k]ᵀ (+ bias[m])
    virtual void matmul(const float* x, int n, int k, const float* w, int m, const float* bias, float* y) = 0;
    // y[n, m] = x[n, k] · w_in_out[k, m] (+ bias[m]): the same product with the weight stored [in, out]
    // (GPT-2's Conv1D, used in place from a mapped file).
    virtual void matmul_in_out(const float* x, int n, int k, const float* w_in_out, int m, const float* bias,
                               float* y) = 0;
    // y[n, d] = x / rms(x) · w
    virtual void rmsnorm(const float* x, int n, int d, const float* w, float eps, float* y) = 0;
    // y[n, d] = (x − mean) / std · w + b
    virtual void layernorm(const float* x, int n, int d, const float* w, const float* b, float eps,
                           float* y) = 0;
    // Rotates, in place, n_heads heads of hd dims in each row of x[n, ld]; row i is at position pos0 + i.
    virtual void rope(float* x, int n, int ld, int n_heads, int hd, int pos0, float theta,
                      RopeLayout layout) = 0;
    // out[count] = silu(gate) · up
    virtual void swiglu(const float* gate, const float* up, size_t count, float* out) = 0;
    // x[count] = gelu_tanh(x)
    virtual void gelu_tanh(float* x, size_t count) = 0;
    // y[count] += x
    virtual void add(float* y, const float* x, size_t count) = 0;
    // y[n, d] = table[ids[i], :]; ids are on the host (0 <= id < table rows: the session checks them)
    virtual void embed(const int32_t* host_ids, int n, const float* table, int d, float* y) = 0;
    // Copies K and V rows (n rows of n_kv_heads·hd in k[n, ld] and v[n, ld]) into the per-head cache
    // blocks k_cache, v_cache: [n_kv_heads][capacity][hd], at rows pos0 .. pos0+n−1.
    virtual void kv_write(const float* k, const float* v, int n, int ld, int n_kv_heads, int hd,
                          float* k_cache, float* v_cache, int capacity, int pos0) = 0;
    // Causal attention of n query rows q[n, ld] (n_heads heads of hd) over the cache blocks; query row i is
    // at position pos0 + i and attends keys 0 .. pos0 + i. Query head h reads KV head h / (n_heads /
    // n_kv_heads) without copying it. out[n, n_heads·hd]. When probs is not null it receives the softmax
    // rows of query rows probs_row_begin .. n−1: [n_heads][n − probs_row_begin][pos0 + n], zero right of
    // the diagonal.
    virtual void attention(const float* q, int n, int ld, int n_heads, int n_kv_heads, int hd,
                           const float* k_cache, const float* v_cache, int capacity, int pos0, float scale,
                           float* out, float* probs, int probs_row_begin) = 0;

    // --- timing -------------------------------------------------------------------------------------
    // Brackets the ops of one class; take_op_seconds() (after synchronize) returns the time spent per
    // class since the last call and resets it.
    virtual void begin_op(OpClass op) = 0;
    virtual void end_op(OpClass op) = 0;
    virtual std::array<double, kOpClassCount> take_op_seconds() = 0;
};

class Backend {
  public:
    virtual ~Backend() = default;
    virtual DeviceKind kind() const = 0;
    virtual std::string name() const = 0;  // "CPU (Eigen, 2 threads)", "CUDA: NVIDIA H100 80GB HBM3"
    virtual bool host_memory() const = 0;  // buffers are plain host memory
    virtual Result<std::unique_ptr<Buffer>> allocate(size_t n_floats) = 0;
    virtual std::unique_ptr<Stream> make_stream() = 0;
    virtual uint64_t bytes_allocated() const = 0;  // device memory held by this backend's buffers
    // Measures the memory bandwidth this device reaches now, the roofline of a memory-bound decode step.
    // Takes a second or so and allocates a large buffer for the duration; says how it measured.
    virtual Result<MemoryBandwidth> measure_bandwidth() = 0;
};

// The CPU backend. threads = 0: all hardware threads.
std::shared_ptr<Backend> make_cpu_backend(int threads = 0);
// The CUDA backend on device `ordinal`, or why it is unavailable (no GPU, no driver, built without CUDA).
Result<std::shared_ptr<Backend>> make_cuda_backend(int ordinal = 0);
// Whether this build has CUDA support compiled in, and whether a device is usable right now.
bool cuda_compiled();
Status cuda_available();
// Picks a backend by kind; CUDA falls back to nothing (the error says why), never silently to CPU.
Result<std::shared_ptr<Backend>> make_backend(DeviceKind kind, int threads = 0);
// "auto": the CUDA backend when a device is usable, else the CPU; `why_not_cuda` (if given) receives the
// reason the CPU was chosen (empty when CUDA was), so a caller can say so rather than fall back silently.
std::shared_ptr<Backend> make_auto_backend(int threads = 0, std::string* why_not_cuda = nullptr);

}  // namespace kvscope
