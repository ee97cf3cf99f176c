// cuda_backend.cpp — the CUDA backend: weights, KV cache and activations in device memory; cuBLAS for the
// matrix products of prefill, our own kernels (cuda_kernels.cu) for everything else; CUDA events for the
// time per op class; pinned staging for what the trace copies back.
//
// Built as a module (libkvscope_cuda.so) that kvscope_core loads when a CUDA device is asked for; its only
// entry point is kvscope_cuda_module() at the end (engine/cuda_module.h).
//
// One CudaStream per session: its own cudaStream_t, cuBLAS handle, event pool and staging buffers, so two
// sessions on two threads share the device and the weights but nothing mutable. Nothing here blocks the
// host except synchronize(), take_op_seconds() and the rare growth of a scratch buffer. Errors are kept
// (the first one wins), later ops are skipped, and error() reports it after synchronize().
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cuda/cuda_kernels.h"
#include "engine/cuda_module.h"
#include "engine/rope_freq.h"
#include "kvscope/backend.h"

namespace kvscope {

namespace {

std::string cuda_message(cudaError_t e) {
    return std::string(cudaGetErrorString(e)) + " (" + cudaGetErrorName(e) + ")";
}

// Sessions may run on any thread, and the current device is per thread: every entry point selects ours.
// The cache spares the driver call when this thread already has it.
cudaError_t use_device(int device) {
    thread_local int current = -1;
    if (current == device) return cudaSuccess;
    const cudaError_t e = cudaSetDevice(device);
    if (e == cudaSuccess) current = device;
    return e;
}

std::string mib(uint64_t bytes) {
    return std::to_string((bytes + (1u << 19)) >> 20) + " MiB";
}

struct DeviceInfo {
    int ordinal = 0;
    std::string name;
    int sm_count = 1;
    int cc_major = 0, cc_minor = 0;
    uint64_t total_bytes = 0;
};

// Device bytes held through this backend: its Buffers and every stream's scratch.
using ByteCounter = std::shared_ptr<std::atomic<uint64_t>>;

class DeviceBuffer final : public Buffer {
  public:
    DeviceBuffer(float* data, size_t n, int device, ByteCounter total)
        : m_device(device), m_total(std::move(total)) {
        m_data = data;
        m_size = n;
        *m_total += n * sizeof(float);
    }
    ~DeviceBuffer() override {
        use_device(m_device);
        cudaFree(m_data);
        *m_total -= m_size * sizeof(float);
    }

  private:
    int m_device;
    ByteCounter m_total;
};

// A growable device array owned by a stream (ids, RoPE frequencies, attention partials).
template <typename T>
class DeviceArray {
  public:
    DeviceArray() = default;
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    ~DeviceArray() { reset(); }
    T* data() const { return m_data; }
    // Keeps the contents only when no growth is needed. cudaFree waits for the device, so work queued on
    // the old array finishes first.
    cudaError_t reserve(size_t n, const ByteCounter& total) {
        if (n <= m_size) return cudaSuccess;
        reset();
        void* p = nullptr;
        const cudaError_t e = cudaMalloc(&p, n * sizeof(T));
        if (e != cudaSuccess) return e;
        m_data = static_cast<T*>(p);
        m_size = n;
        m_total = total;
        *m_total += n * sizeof(T);
        return cudaSuccess;
    }
    void reset() {
        if (!m_data) return;
        cudaFree(m_data);
        *m_total -= m_size * sizeof(T);
        m_data = nullptr;
        m_size = 0;
    }

  private:
    T* m_data = nullptr;
    size_t m_size = 0;
    ByteCounter m_total;
};

// Page-locked host memory: the only kind the GPU copies to and from without the host waiting.
class PinnedArray {
  public:
    PinnedArray() = default;
    PinnedArray(const PinnedArray&) = delete;
    PinnedArray& operator=(const PinnedArray&) = delete;
    ~PinnedArray() { reset(); }
    char* data() const { return m_data; }
    size_t size() const { return m_size; }
    cudaError_t reserve(size_t bytes) {
        if (bytes <= m_size) return cudaSuccess;
        reset();
        void* p = nullptr;
        const cudaError_t e = cudaHostAlloc(&p, bytes, cudaHostAllocDefault);
        if (e != cudaSuccess) return e;
        m_data = static_cast<char*>(p);
        m_size = bytes;
        return cudaSuccess;
    }
    void reset() {
        if (m_data) cudaFreeHost(m_data);
        m_data = nullptr;
        m_size = 0;
    }

  private:
    char* m_data = nullptr;
    size_t m_size = 0;
};

class CudaStream final : public Stream {
  public:
    CudaStream(const DeviceInfo& info, ByteCounter bytes) : m_info(info), m_bytes(std::move(bytes)) {
        if (!check(use_device(m_info.ordinal), "selecting the device")) return;
        if (!check(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking), "creating a stream")) return;
        if (!check_blas(cublasCreate(&m_blas), "cublasCreate")) return;
        if (!check_blas(cublasSetStream(m_blas, m_stream), "cublasSetStream")) return;
        // The default math mode keeps float32 products in float32 (no TF32 tensor cores): the results must
        // match the CPU's to float32 rounding, not to TF32's 10-bit mantissa.
        if (!check_blas(cublasSetMathMode(m_blas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode")) return;
        check(cudaEventCreateWithFlags(&m_ids_copied, cudaEventDisableTiming), "creating an event");
    }

    ~CudaStream() override {
        if (use_device(m_info.ordinal) != cudaSuccess) return;
        if (m_stream) cudaStreamSynchronize(m_stream);
        for (cudaEvent_t e : m_events)
            cudaEventDestroy(e);
        if (m_ids_copied) cudaEventDestroy(m_ids_copied);
        if (m_blas) cublasDestroy(m_blas);
        if (m_stream) cudaStreamDestroy(m_stream);
    }

    // --- memory ------------------------------------------------------------------------------------

    // From pageable memory the copy returns once the source is staged, so host_src is free on return.
    void upload(float* dst, const float* host_src, size_t n) override {
        if (!ready()) return;
        check(cudaMemcpyAsync(dst, host_src, n * sizeof(float), cudaMemcpyHostToDevice, m_stream), "upload");
    }

    void download(float* host_dst, const float* src, size_t n) override {
        if (!ready()) return;
        const size_t bytes = n * sizeof(float);
        if (bytes > kMaxStagingBytes) {
            // Too big to stage (e.g. every attention row of a long uncached step): straight into pageable
            // memory, which makes this call wait for the stream. Rare, and correct.
            check(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, m_stream), "download");
            return;
        }
        if (m_staging_used + bytes > m_staging.size()) {
            synchronize();  // delivers what is staged, frees the whole staging buffer
            if (!ready()) return;
            const size_t want = std::min(kMaxStagingBytes, std::max(bytes, 2 * m_staging.size()));
            if (!check(m_staging.reserve(want), "allocating pinned staging memory")) return;
        }
        if (!check(cudaMemcpyAsync(m_staging.data() + m_staging_used, src, bytes, cudaMemcpyDeviceToHost,
                                   m_stream),
                   "download"))
            return;
        m_pending.push_back({host_dst, m_staging_used, bytes});
        m_staging_used += (bytes + 255) / 256 * 256;
    }

    void fill_zero(float* dst, size_t n) override {
        if (!ready()) return;
        check(cudaMemsetAsync(dst, 0, n * sizeof(float), m_stream), "fill_zero");
    }

    void synchronize() override {
        m_boundary = -1;  // the GPU idles from here to the next op: that gap belongs to no op
        if (!m_stream || use_device(m_info.ordinal) != cudaSuccess) return;
        const bool ok = check(cudaStreamSynchronize(m_stream), "a kernel or copy");
        if (ok && !m_failed)
            for (const Pending& p : m_pending)
                std::memcpy(p.host_dst, m_staging.data() + p.offset, p.bytes);
        m_pending.clear();
        m_staging_used = 0;
    }

    Status error() const override { return m_error; }

    // --- ops ---------------------------------------------------------------------------------------

    void matmul(const float* x, int n, int k, const float* w, int m, const float* bias, float* y) override {
        if (!ready()) return;
        if (n == 1) {
            check(cuda::gemv(w, x, m, k, bias, y, m_info.sm_count, m_stream), "gemv");
            return;
        }
        // Row-major y[n, m] = x[n, k] · w[m, k]ᵀ is, read column-major as cuBLAS does, yᵀ[m, n] = op(w)·xᵀ
        // with w seen as a [k, m] column-major matrix (lda = k) transposed, x as [k, n] (ldb = k).
        const float one = 1.0f, zero = 0.0f;
        if (!check_blas(cublasSgemm(m_blas, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, w, k, x, k, &zero, y, m),
                        "cublasSgemm"))
            return;
        if (bias) check(cuda::add_bias(y, n, m, bias, m_stream), "bias");
    }

    void matmul_in_out(const float* x, int n, int k, const float* w, int m, const float* bias,
                       float* y) override {
        if (!ready()) return;
        // Row-major w[k, m] is column-major [m, k] (lda = m): yᵀ[m, n] = w · xᵀ with no transposes. (The
        // engine uploads weights as [out, in], so sessions use matmul(); this serves the op checks.)
        const float one = 1.0f, zero = 0.0f;
        if (!check_blas(cublasSgemm(m_blas, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, w, m, x, k, &zero, y, m),
                        "cublasSgemm"))
            return;
        if (bias) check(cuda::add_bias(y, n, m, bias, m_stream), "bias");
    }

    void rmsnorm(const float* x, int n, int d, const float* w, float eps, float* y) override {
        if (!ready()) return;
        check(cuda::rmsnorm(x, n, d, w, eps, y, m_stream), "rmsnorm");
    }

    void layernorm(const float* x, int n, int d, const float* w, const float* b, float eps,
                   float* y) override {
        if (!ready()) return;
        check(cuda::layernorm(x, n, d, w, b, eps, y, m_stream), "layernorm");
    }

    void rope(float* x, int n, int ld, int n_heads, int hd, int pos0, float theta,
              RopeLayout layout) override {
        if (!ready()) return;
        if (theta != m_theta || hd != m_hd) {
            // Queued after the kernels that used the old table, so they still read theirs.
            m_inv_freq_host = rope_inv_freq(theta, hd);
            if (!check(m_inv_freq.reserve(m_inv_freq_host.size(), m_bytes), "allocating RoPE frequencies"))
                return;
            if (!check(
                    cudaMemcpyAsync(m_inv_freq.data(), m_inv_freq_host.data(),
                                    m_inv_freq_host.size() * sizeof(float), cudaMemcpyHostToDevice, m_stream),
                    "uploading RoPE frequencies"))
                return;
            m_theta = theta;
            m_hd = hd;
        }
        check(cuda::rope(x, n, ld, n_heads, hd, pos0, m_inv_freq.data(), layout == RopeLayout::interleaved,
                         m_stream),
              "rope");
    }

    void swiglu(const float* gate, const float* up, size_t count, float* out) override {
        if (!ready()) return;
        check(cuda::swiglu(gate, up, count, out, m_stream), "swiglu");
    }

    void gelu_tanh(float* x, size_t count) override {
        if (!ready()) return;
        const float c = std::sqrt(2.0f / float(M_PI));  // as the CPU backend rounds it
        check(cuda::gelu_tanh(x, count, c, m_stream), "gelu_tanh");
    }

    void add(float* y, const float* x, size_t count) override {
        if (!ready()) return;
        check(cuda::add(y, x, count, m_stream), "add");
    }

    // The ids are on the host: staged through pinned memory and copied in stream order. The pinned buffer
    // is refilled only after the previous copy out of it has happened (an event, long past by then).
    void embed(const int32_t* host_ids, int n, const float* table, int d, float* y) override {
        if (!ready()) return;
        if (m_ids_in_flight && !check(cudaEventSynchronize(m_ids_copied), "waiting for the last token ids"))
            return;
        const size_t bytes = size_t(n) * sizeof(int32_t);
        if (!check(m_ids_host.reserve(bytes), "allocating pinned memory for token ids")) return;
        if (!check(m_ids_device.reserve(size_t(n), m_bytes), "allocating device memory for token ids"))
            return;
        std::memcpy(m_ids_host.data(), host_ids, bytes);
        if (!check(cudaMemcpyAsync(m_ids_device.data(), m_ids_host.data(), bytes, cudaMemcpyHostToDevice,
                                   m_stream),
                   "copying token ids"))
            return;
        if (!check(cudaEventRecord(m_ids_copied, m_stream), "recording an event")) return;
        m_ids_in_flight = true;
        check(cuda::embed(m_ids_device.data(), n, table, d, y, m_stream), "embed");
    }

    void kv_write(const float* k, const float* v, int n, int ld, int n_kv_heads, int hd, float* k_cache,
                  float* v_cache, int capacity, int pos0) override {
        if (!ready()) return;
        check(cuda::kv_write(k, v, n, ld, n_kv_heads, hd, k_cache, v_cache, capacity, pos0, m_stream),
              "kv_write");
    }

    void attention(const float* q, int n, int ld, int n_heads, int n_kv_heads, int hd, const float* k_cache,
                   const float* v_cache, int capacity, int pos0, float scale, float* out, float* probs,
                   int probs_row_begin) override {
        if (!ready()) return;
        cuda::AttentionArgs a;
        a.q = q;
        a.n = n;
        a.ld = ld;
        a.n_heads = n_heads;
        a.n_kv_heads = n_kv_heads;
        a.hd = hd;
        a.k_cache = k_cache;
        a.v_cache = v_cache;
        a.capacity = capacity;
        a.pos0 = pos0;
        a.scale = scale;
        a.out = out;
        a.probs = probs;
        a.probs_row_begin = probs_row_begin;
        const cuda::AttentionPlan plan = cuda::attention_plan(a, m_info.sm_count);
        if (plan.scratch_floats > 0 &&
            !check(m_attention_scratch.reserve(plan.scratch_floats, m_bytes), "allocating attention scratch"))
            return;
        check(cuda::attention(a, plan, m_attention_scratch.data(), m_stream), "attention");
    }

    // --- timing -------------------------------------------------------------------------------------
    //
    // An event before and after each op; consecutive ops share the event between them (the stream runs
    // them back to back, so one op's end is the next one's start), halving the events recorded. The pairs
    // are resolved after the stream has finished, in take_op_seconds().

    void begin_op(OpClass op) override {
        if (m_failed || !check(use_device(m_info.ordinal), "selecting the device")) return;
        m_open_begin = m_boundary >= 0 ? m_boundary : record_event();
    }

    void end_op(OpClass op) override {
        if (m_failed || m_open_begin < 0) return;
        const int end = record_event();
        if (end < 0) return;
        m_marks.push_back({op, m_open_begin, end});
        m_open_begin = -1;
        m_boundary = end;
        if (m_marks.size() >= kMaxMarks) fold_marks();  // a caller that never takes the times
    }

    std::array<double, kOpClassCount> take_op_seconds() override {
        fold_marks();
        auto s = m_seconds;
        m_seconds.fill(0.0);
        return s;
    }

  private:
    static constexpr size_t kMaxStagingBytes = size_t(64) << 20;
    static constexpr size_t kMaxMarks = 1 << 14;

    struct Pending {
        float* host_dst;
        size_t offset, bytes;
    };
    struct Mark {
        OpClass op;
        int begin, end;  // indices into m_events
    };

    // Every op and copy starts here. Work issued outside begin_op/end_op ends the run of back-to-back
    // ops: the next op's start then needs its own event.
    bool ready() {
        if (m_open_begin < 0) m_boundary = -1;
        return !m_failed && check(use_device(m_info.ordinal), "selecting the device");
    }

    bool check(cudaError_t e, const char* what) {
        if (e == cudaSuccess) return true;
        if (!m_failed) {
            m_failed = true;
            m_error = Status::error("CUDA error in " + std::string(what) + " on " + m_info.name + ": " +
                                    cuda_message(e));
        }
        return false;
    }

    bool check_blas(cublasStatus_t s, const char* what) {
        if (s == CUBLAS_STATUS_SUCCESS) return true;
        if (!m_failed) {
            m_failed = true;
            m_error = Status::error(std::string(what) + " failed on " + m_info.name + ": " +
                                    cublasGetStatusString(s));
        }
        return false;
    }

    int record_event() {
        if (m_events_used == m_events.size()) {
            cudaEvent_t e = nullptr;
            if (!check(cudaEventCreate(&e), "creating a timing event")) return -1;
            m_events.push_back(e);
        }
        const int index = int(m_events_used);
        if (!check(cudaEventRecord(m_events[m_events_used], m_stream), "recording a timing event")) return -1;
        ++m_events_used;
        return index;
    }

    // Adds the recorded op times to m_seconds and recycles the events (waits for the last one).
    void fold_marks() {
        if (!m_failed && !m_marks.empty() && use_device(m_info.ordinal) == cudaSuccess &&
            check(cudaEventSynchronize(m_events[m_events_used - 1]), "waiting for the timing events")) {
            for (const Mark& mark : m_marks) {
                float ms = 0.0f;
                if (!check(cudaEventElapsedTime(&ms, m_events[mark.begin], m_events[mark.end]),
                           "reading a timer"))
                    break;
                m_seconds[static_cast<int>(mark.op)] += double(ms) * 1e-3;
            }
        }
        m_marks.clear();
        m_events_used = 0;
        m_boundary = -1;
        m_open_begin = -1;
    }

    DeviceInfo m_info;
    ByteCounter m_bytes;
    cudaStream_t m_stream = nullptr;
    cublasHandle_t m_blas = nullptr;
    bool m_failed = false;
    Status m_error;

    // downloads staged in pinned memory, delivered by synchronize()
    PinnedArray m_staging;
    size_t m_staging_used = 0;
    std::vector<Pending> m_pending;

    // embed: host ids -> pinned -> device
    PinnedArray m_ids_host;
    DeviceArray<int32_t> m_ids_device;
    cudaEvent_t m_ids_copied = nullptr;
    bool m_ids_in_flight = false;

    // rope: inverse frequencies of the last (theta, head_dim)
    DeviceArray<float> m_inv_freq;
    std::vector<float> m_inv_freq_host;
    float m_theta = 0.0f;
    int m_hd = 0;

    DeviceArray<float> m_attention_scratch;  // split-key partials (decode)

    // timing
    std::vector<cudaEvent_t> m_events;
    size_t m_events_used = 0;
    std::vector<Mark> m_marks;
    int m_open_begin = -1, m_boundary = -1;
    std::array<double, kOpClassCount> m_seconds{};
};

class CudaBackend final : public Backend {
  public:
    explicit CudaBackend(DeviceInfo info) : m_info(std::move(info)) {}
    DeviceKind kind() const override { return DeviceKind::cuda; }
    std::string name() const override {
        return "CUDA: " + m_info.name + " (sm_" + std::to_string(m_info.cc_major) +
               std::to_string(m_info.cc_minor) + ", " + mib(m_info.total_bytes) + ")";
    }
    bool host_memory() const override { return false; }

    Result<std::unique_ptr<Buffer>> allocate(size_t n) override {
        if (const cudaError_t e = use_device(m_info.ordinal); e != cudaSuccess)
            return Status::error("selecting CUDA device " + std::to_string(m_info.ordinal) + ": " +
                                 cuda_message(e));
        void* p = nullptr;
        const cudaError_t e = cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(float));
        if (e != cudaSuccess) {
            size_t free_bytes = 0, total_bytes = 0;
            cudaMemGetInfo(&free_bytes, &total_bytes);
            return Status::error("out of device memory allocating " + std::to_string(n * sizeof(float)) +
                                 " bytes on " + m_info.name + " (" + mib(free_bytes) + " free of " +
                                 mib(total_bytes) + "): " + cuda_message(e));
        }
        return std::unique_ptr<Buffer>(
            std::make_unique<DeviceBuffer>(static_cast<float*>(p), n, m_info.ordinal, m_bytes));
    }

    std::unique_ptr<Stream> make_stream() override { return std::make_unique<CudaStream>(m_info, m_bytes); }
    uint64_t bytes_allocated() const override { return *m_bytes; }

    // A kernel that only reads (what a decode step mostly does to the weights) over a buffer far larger
    // than the L2 cache; the best of 5 timed passes, after one that warms up.
    Result<MemoryBandwidth> measure_bandwidth() override {
        auto fail = [&](cudaError_t e, const char* what) {
            return Status::error("measuring bandwidth on " + m_info.name + ": " + what + ": " +
                                 cuda_message(e));
        };
        if (cudaError_t e = use_device(m_info.ordinal); e != cudaSuccess)
            return fail(e, "selecting the device");
        size_t free_bytes = 0, total_bytes = 0;
        if (cudaError_t e = cudaMemGetInfo(&free_bytes, &total_bytes); e != cudaSuccess)
            return fail(e, "cudaMemGetInfo");
        const size_t bytes = std::min(size_t(1) << 30, free_bytes / 4) / 4096 * 4096;
        if (bytes < (size_t(64) << 20))
            return Status::error("measuring bandwidth on " + m_info.name + ": only " + mib(free_bytes) +
                                 " of device memory free");
        const int blocks = 4 * m_info.sm_count;
        float* data = nullptr;
        float* sums = nullptr;
        cudaStream_t stream = nullptr;
        cudaEvent_t start = nullptr, stop = nullptr;
        auto cleanup = [&] {
            if (stream) cudaStreamSynchronize(stream);
            if (start) cudaEventDestroy(start);
            if (stop) cudaEventDestroy(stop);
            if (stream) cudaStreamDestroy(stream);
            cudaFree(data);
            cudaFree(sums);
        };
        auto run = [&]() -> Result<MemoryBandwidth> {
            if (cudaError_t e = cudaMalloc(reinterpret_cast<void**>(&data), bytes); e != cudaSuccess)
                return fail(e, "cudaMalloc");
            if (cudaError_t e = cudaMalloc(reinterpret_cast<void**>(&sums), blocks * sizeof(float));
                e != cudaSuccess)
                return fail(e, "cudaMalloc");
            if (cudaError_t e = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking); e != cudaSuccess)
                return fail(e, "creating a stream");
            if (cudaError_t e = cudaEventCreate(&start); e != cudaSuccess)
                return fail(e, "creating an event");
            if (cudaError_t e = cudaEventCreate(&stop); e != cudaSuccess) return fail(e, "creating an event");
            if (cudaError_t e = cudaMemsetAsync(data, 0, bytes, stream); e != cudaSuccess)
                return fail(e, "cudaMemset");
            double best = 1e30;
            for (int rep = 0; rep < 6; ++rep) {
                cudaEventRecord(start, stream);
                if (cudaError_t e =
                        cuda::read_bandwidth_kernel(data, bytes / sizeof(float), sums, blocks, stream);
                    e != cudaSuccess)
                    return fail(e, "launching the read kernel");
                cudaEventRecord(stop, stream);
                if (cudaError_t e = cudaEventSynchronize(stop); e != cudaSuccess)
                    return fail(e, "the read kernel");
                float ms = 0.0f;
                cudaEventElapsedTime(&ms, start, stop);
                if (rep > 0) best = std::min(best, double(ms) * 1e-3);
            }
            MemoryBandwidth bw;
            bw.gb_per_s = double(bytes) / best / 1e9;
            bw.method = "read kernel over " + mib(bytes) + ", best of 5 (bytes read)";
            return bw;
        };
        auto result = run();
        cleanup();
        return result;
    }

  private:
    DeviceInfo m_info;
    ByteCounter m_bytes = std::make_shared<std::atomic<uint64_t>>(0);
};

Status cuda_available() {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        std::string reason = cudaGetErrorString(e);
        // Without libcuda at all the runtime says "driver version is insufficient": say what is missing.
        int driver = 0;
        if (e == cudaErrorInsufficientDriver && cudaDriverGetVersion(&driver) == cudaSuccess && driver == 0)
            reason += " (no NVIDIA driver is installed: libcuda.so.1 was not found)";
        return Status::error(reason);
    }
    if (count == 0) return Status::error(cudaGetErrorString(cudaErrorNoDevice));
    return Status::ok();
}

Result<std::shared_ptr<Backend>> make_cuda_backend(int ordinal) {
    KVSCOPE_TRY(cuda_available());
    int count = 0;
    cudaGetDeviceCount(&count);
    if (ordinal < 0 || ordinal >= count)
        return Status::error("CUDA device " + std::to_string(ordinal) + " does not exist (this machine has " +
                             std::to_string(count) + ")");
    cudaDeviceProp prop{};
    if (cudaError_t e = cudaGetDeviceProperties(&prop, ordinal); e != cudaSuccess)
        return Status::error("reading the properties of CUDA device " + std::to_string(ordinal) + ": " +
                             cuda_message(e));
    DeviceInfo info;
    info.ordinal = ordinal;
    info.name = prop.name;
    info.sm_count = std::max(1, prop.multiProcessorCount);
    info.cc_major = prop.major;
    info.cc_minor = prop.minor;
    info.total_bytes = prop.totalGlobalMem;
    if (cudaError_t e = use_device(ordinal); e != cudaSuccess)
        return Status::error("selecting CUDA device " + std::to_string(ordinal) + ": " + cuda_message(e));
    if (cudaError_t e = cuda::probe_kernels(); e != cudaSuccess) {
        if (e == cudaErrorNoKernelImageForDevice || e == cudaErrorInvalidDeviceFunction)
            return Status::error(info.name + " is compute capability " + std::to_string(prop.major) + "." +
                                 std::to_string(prop.minor) + ", and this build carries GPU code for " +
                                 KVSCOPE_CUDA_ARCHITECTURES +
                                 " only (reconfigure with -DCMAKE_CUDA_ARCHITECTURES=" +
                                 std::to_string(prop.major) + std::to_string(prop.minor) + ")");
        return Status::error("loading the CUDA kernels on " + info.name + ": " + cuda_message(e));
    }
    return std::shared_ptr<Backend>(std::make_shared<CudaBackend>(std::move(info)));
}

const CudaModule kModule{CudaModule::kAbiVersion, sizeof(Status), sizeof(Result<std::shared_ptr<Backend>>),
                         &cuda_available, &make_cuda_backend};

}  // namespace
}  // namespace kvscope

// The module's one exported symbol (everything else is hidden): core/engine/cuda_loader.cpp looks it up.
extern "C" __attribute__((visibility("default"))) const kvscope::CudaModule* kvscope_cuda_module() {
    return &kvscope::kModule;
}
