// cpu_backend.cpp — the reference backend: Eigen for the arithmetic, and a small pool of its own
// (ChunkRunner) to use every core where the work is large enough to pay for the threads (the matrix
// products, attention heads). Every other backend is checked against this one op by op.
//
// Why not OpenMP: its workers spin at barriers. When the two cores are shared (the app runs two sessions
// and a GUI; CI runs tests side by side) a spinning worker steals the slice its descheduled partner needs:
// GPT-2-small decode went from 115 ms to 468 ms per token with two OpenMP threads on a loaded machine.
// We split each op into one static chunk per thread, and a worker spins only briefly, yielding, before
// it sleeps (ChunkRunner says why it spins at all).
#include <sched.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <type_traits>
#include <vector>

#include "engine/rope_freq.h"
#include "kvscope/backend.h"
#include "kvscope/roofline.h"

namespace kvscope {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapRowMatrix = Eigen::Map<RowMatrix>;
using MapConstRowMatrix = Eigen::Map<const RowMatrix>;
using MapVector = Eigen::Map<Eigen::VectorXf>;
using MapConstVector = Eigen::Map<const Eigen::VectorXf>;
using MapArray = Eigen::Map<Eigen::ArrayXf>;
using MapConstArray = Eigen::Map<const Eigen::ArrayXf>;
using MapStrided = Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>>;
using MapConstStrided = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;

// Below this many multiply-adds an op runs on one thread: handing half of it to a worker costs more than it
// saves. A hand-off to a worker that is awake costs ~3 µs, ~90 µs to one that has gone to sleep
// (ChunkRunner). The embedded model's products (at most 1024 x 192) stay on one thread: splitting its
// lm_head made its decode slower; GPT-2-small's smallest (768 x 768) pays, and so does its attention over
// 256 tokens (12 heads x 256 x 64): together they took cached decode from 63% to ~75% of the read roof.
constexpr int64_t kParallelWork = 1 << 18;
constexpr int64_t kParallelAttention = 1 << 17;

// Runs f(0) .. f(n_chunks − 1): chunk 0 on the calling thread, chunk i on worker i.
//
// Why not Eigen's pool (which this was): it puts an idle worker to sleep at once, and on a virtual machine
// waking a sleeping thread costs ~100 µs (its idle vCPU halted; the host must schedule it back). A
// GPT-2-small decode step is ~50 products of ~100 µs each, so the wake-ups cost as much as the products:
// two threads decoded at 24 GB/s where the same products on threads that stay awake ran at 39 GB/s
// (closing note of issue 15). So a worker that has finished spins for a short while (kSpin) before it
// sleeps: the next product of the same step finds it awake. Why not spin until the next job as OpenMP
// does: when the cores are shared (two sessions and a GUI; tests side by side) a spinning worker takes
// the core its partner needs; ours yields the core in its spin (sched_yield) and sleeps after kSpin.
class ChunkRunner {
  public:
    explicit ChunkRunner(int threads) : m_threads(std::max(1, threads)) {
        for (int i = 1; i < m_threads; ++i)
            m_workers.emplace_back([this, i] { work(i); });
    }
    ~ChunkRunner() {
        m_stop.store(true, std::memory_order_relaxed);
        m_generation.fetch_add(1, std::memory_order_release);
        m_generation.notify_all();
        for (std::thread& w : m_workers)
            w.join();
    }
    ChunkRunner(const ChunkRunner&) = delete;
    ChunkRunner& operator=(const ChunkRunner&) = delete;

    int threads() const { return m_threads; }

    template <typename F>
    void run(int n_chunks, F&& f) {
        assert(n_chunks <= m_threads && "run: one chunk per thread at most");
        if (n_chunks <= 1 || m_workers.empty()) {
            for (int i = 0; i < n_chunks; ++i)
                f(i);
            return;
        }
        // Every worker answers every job (those past n_chunks with nothing to do), so no worker can still
        // be reading m_job when the next one is written.
        m_job = {[](void* ctx, int i) { (*static_cast<std::remove_reference_t<F>*>(ctx))(i); }, &f, n_chunks};
        m_pending.store(int(m_workers.size()), std::memory_order_relaxed);
        m_generation.fetch_add(1, std::memory_order_release);
        m_generation.notify_all();
        f(0);
        int left;
        spin_until([&] { return (left = m_pending.load(std::memory_order_acquire)) == 0; });
        while (left != 0) {
            m_pending.wait(left, std::memory_order_acquire);
            left = m_pending.load(std::memory_order_acquire);
        }
    }

  private:
    using Clock = std::chrono::steady_clock;
    static constexpr auto kSpin = std::chrono::microseconds(500);

    struct Job {
        void (*call)(void* ctx, int chunk) = nullptr;
        void* ctx = nullptr;
        int chunks = 0;
    };

    // Polls done() for up to kSpin, yielding the core between polls; true when done() came true.
    template <typename Done>
    static bool spin_until(Done&& done) {
        const Clock::time_point deadline = Clock::now() + kSpin;
        for (int round = 0;; ++round) {
            for (int i = 0; i < 64; ++i)
                if (done()) return true;
            if ((round & 7) == 7) {
                if (Clock::now() >= deadline) return false;
                sched_yield();
            }
        }
    }

    void work(int index) {
        uint32_t seen = 0;
        for (;;) {
            uint32_t now = seen;
            if (!spin_until([&] { return (now = m_generation.load(std::memory_order_acquire)) != seen; }))
                while ((now = m_generation.load(std::memory_order_acquire)) == seen)
                    m_generation.wait(seen, std::memory_order_acquire);
            seen = now;
            if (m_stop.load(std::memory_order_relaxed)) return;
            if (index < m_job.chunks) m_job.call(m_job.ctx, index);
            if (m_pending.fetch_sub(1, std::memory_order_acq_rel) == 1) m_pending.notify_one();
        }
    }

    int m_threads;
    Job m_job;
    std::atomic<uint32_t> m_generation{0};  // bumped once per job; workers wait for it to move
    std::atomic<int> m_pending{0};          // workers yet to answer the current job
    std::atomic<bool> m_stop{false};
    std::vector<std::thread> m_workers;
};

// Splits [0, n) into `chunks` nearly equal ranges; returns range i.
inline std::pair<int, int> chunk_range(int n, int chunks, int i) {
    const int base = n / chunks, extra = n % chunks;
    const int begin = i * base + std::min(i, extra);
    return {begin, begin + base + (i < extra ? 1 : 0)};
}

// Zeroed host memory aligned to 64 bytes (a cache line, an AVX-512 register). Eigen's vectorised sums
// peel unaligned leading elements, so where a buffer starts changes the order of a sum and its rounding:
// aligning every buffer alike makes a computation's result independent of where its buffers landed (the
// paged and the contiguous KV cache agree bit for bit only so).
class HostBuffer final : public Buffer {
  public:
    static constexpr size_t kAlignment = 64;
    HostBuffer(size_t n, std::shared_ptr<std::atomic<uint64_t>> total) : m_total(std::move(total)) {
        const size_t bytes =
            std::max<size_t>(kAlignment, (n * sizeof(float) + kAlignment - 1) / kAlignment * kAlignment);
        m_storage.reset(static_cast<float*>(std::aligned_alloc(kAlignment, bytes)));
        if (!m_storage) throw std::bad_alloc();
        std::memset(m_storage.get(), 0, bytes);
        m_data = m_storage.get();
        m_size = n;
        *m_total += n * sizeof(float);
    }
    ~HostBuffer() override { *m_total -= m_size * sizeof(float); }

  private:
    struct Free {
        void operator()(float* p) const { std::free(p); }
    };
    std::unique_ptr<float, Free> m_storage;
    std::shared_ptr<std::atomic<uint64_t>> m_total;
};

class CpuStream final : public Stream {
  public:
    explicit CpuStream(int threads) : m_runner(threads) {}

    void upload(float* dst, const float* src, size_t n) override { std::memcpy(dst, src, n * sizeof(float)); }
    void download(float* dst, const float* src, size_t n) override {
        std::memcpy(dst, src, n * sizeof(float));
    }
    void fill_zero(float* dst, size_t n) override { std::memset(dst, 0, n * sizeof(float)); }
    void synchronize() override {}

    void matmul(const float* x, int n, int k, const float* w, int m, const float* bias, float* y) override {
        // Each thread takes a slice of W's rows (of y's columns): every weight is read once, by one thread.
        const int chunks = int64_t(n) * m * k >= kParallelWork ? std::min(m_runner.threads(), m) : 1;
        m_runner.run(chunks, [&](int i) {
            const auto [r0, r1] = chunk_range(m, chunks, i);
            MapConstRowMatrix W(w + int64_t(r0) * k, r1 - r0, k);
            if (n == 1) {
                MapVector(y + r0, r1 - r0).noalias() = W * MapConstVector(x, k);
            } else {
                MapStrided Y(y + r0, n, r1 - r0, Eigen::OuterStride<>(m));
                Y.noalias() = MapConstRowMatrix(x, n, k) * W.transpose();
            }
        });
        if (bias) {
            MapRowMatrix Y(y, n, m);
            Y.rowwise() += MapConstVector(bias, m).transpose();
        }
    }

    void matmul_in_out(const float* x, int n, int k, const float* w, int m, const float* bias,
                       float* y) override {
        // W is [k, m] row-major. Decode (n = 1) reads every weight once per token and little else, so how W
        // is read sets its speed (blocked_gemv_in_out). A product of more rows gives each thread a band of
        // W's columns (of y's columns), so again every weight is read once, by one thread; a band is a
        // strided view: rows of W, m floats apart.
        const int chunks = int64_t(n) * m * k >= kParallelWork ? std::min(m_runner.threads(), m) : 1;
        if (n == 1) {
            blocked_gemv_in_out(x, k, w, m, y, chunks);
        } else {
            m_runner.run(chunks, [&](int i) {
                const auto [c0, c1] = chunk_range(m, chunks, i);
                MapConstStrided W(w + c0, k, c1 - c0, Eigen::OuterStride<>(m));
                MapStrided Y(y + c0, n, c1 - c0, Eigen::OuterStride<>(m));
                Y.noalias() = MapConstRowMatrix(x, n, k) * W;
            });
        }
        if (bias) {
            MapRowMatrix Y(y, n, m);
            Y.rowwise() += MapConstVector(bias, m).transpose();
        }
    }

    void rmsnorm(const float* x, int n, int d, const float* w, float eps, float* y) override {
        MapConstVector wv(w, d);
        for (int i = 0; i < n; ++i) {
            MapConstVector xi(x + int64_t(i) * d, d);
            const float mean_sq = xi.squaredNorm() / float(d);
            const float inv = 1.0f / std::sqrt(mean_sq + eps);
            MapVector(y + int64_t(i) * d, d) = wv.cwiseProduct(xi * inv);
        }
    }

    void layernorm(const float* x, int n, int d, const float* w, const float* b, float eps,
                   float* y) override {
        MapConstVector wv(w, d), bv(b, d);
        for (int i = 0; i < n; ++i) {
            MapConstVector xi(x + int64_t(i) * d, d);
            const float mean = xi.mean();
            Eigen::VectorXf centred = xi.array() - mean;
            const float var = centred.squaredNorm() / float(d);
            const float inv = 1.0f / std::sqrt(var + eps);
            MapVector(y + int64_t(i) * d, d) = (centred * inv).cwiseProduct(wv) + bv;
        }
    }

    void rope(float* x, int n, int ld, int n_heads, int hd, int pos0, float theta,
              RopeLayout layout) override {
        const int half = hd / 2;
        ensure_inv_freq(theta, hd);
        std::vector<float> cos_t(half), sin_t(half);
        for (int i = 0; i < n; ++i) {
            // The angle is rounded to float before cos/sin, as PyTorch computes it (float32 positions x
            // float32 inverse frequencies), so our rotations match the references to ~1e-7.
            const float pos = float(pos0 + i);
            for (int j = 0; j < half; ++j) {
                const float angle = pos * m_inv_freq[j];
                cos_t[j] = float(std::cos(double(angle)));
                sin_t[j] = float(std::sin(double(angle)));
            }
            float* row = x + int64_t(i) * ld;
            for (int h = 0; h < n_heads; ++h) {
                float* v = row + h * hd;
                for (int j = 0; j < half; ++j) {
                    const int a = layout == RopeLayout::interleaved ? 2 * j : j;
                    const int b = layout == RopeLayout::interleaved ? 2 * j + 1 : j + half;
                    const float x0 = v[a], x1 = v[b];
                    v[a] = x0 * cos_t[j] - x1 * sin_t[j];
                    v[b] = x0 * sin_t[j] + x1 * cos_t[j];
                }
            }
        }
    }

    // The activations use Eigen's vectorised exp and tanh (within a few ulp of std's): with std::tanh one
    // element at a time, GPT-2-small's GELU took 178 of a 256-token prefill's 761 ms on one thread.
    void swiglu(const float* gate, const float* up, size_t count, float* out) override {
        const auto g = MapConstArray(gate, Eigen::Index(count));
        MapArray(out, Eigen::Index(count)) = g / (1.0f + (-g).exp()) * MapConstArray(up, Eigen::Index(count));
    }

    void gelu_tanh(float* x, size_t count) override {
        const float c = std::sqrt(2.0f / float(M_PI));
        auto v = MapArray(x, Eigen::Index(count));
        v = 0.5f * v * (1.0f + (c * (v + 0.044715f * v * v * v)).tanh());
    }

    void add(float* y, const float* x, size_t count) override {
        MapVector(y, Eigen::Index(count)) += MapConstVector(x, Eigen::Index(count));
    }

    void embed(const int32_t* ids, int n, const float* table, int d, float* y) override {
        for (int i = 0; i < n; ++i)
            std::memcpy(y + int64_t(i) * d, table + int64_t(ids[i]) * d, d * sizeof(float));
    }

    void kv_write(const float* k, const float* v, int n, int ld, int n_kv_heads, int hd, float* k_cache,
                  float* v_cache, int capacity, int pos0) override {
        for (int h = 0; h < n_kv_heads; ++h) {
            float* kb = k_cache + int64_t(h) * capacity * hd;
            float* vb = v_cache + int64_t(h) * capacity * hd;
            for (int i = 0; i < n; ++i) {
                std::memcpy(kb + int64_t(pos0 + i) * hd, k + int64_t(i) * ld + h * hd, hd * sizeof(float));
                std::memcpy(vb + int64_t(pos0 + i) * hd, v + int64_t(i) * ld + h * hd, hd * sizeof(float));
            }
        }
    }

    void attention(const float* q, int n, int ld, int n_heads, int n_kv_heads, int hd, const float* k_cache,
                   const float* v_cache, int capacity, int pos0, float scale, float* out, float* probs,
                   int probs_row_begin) override {
        const int group = n_heads / n_kv_heads;
        const int s_total = pos0 + n;
        const int prob_rows = n - probs_row_begin;
        const int64_t work = int64_t(n_heads) * n * s_total * hd;
        const int tasks = n_heads * n;  // one (head, query row) pair each
        const int chunks = work >= kParallelAttention ? std::min(m_runner.threads(), tasks) : 1;
        m_runner.run(chunks, [&](int c) {
            const auto [t0, t1] = chunk_range(tasks, chunks, c);
            Eigen::VectorXf scores(s_total);
            for (int t = t0; t < t1; ++t) {
                const int h = t / n, i = t % n;
                const int g = h / group;
                const int s = pos0 + i + 1;  // keys this query may see
                MapConstRowMatrix K(k_cache + int64_t(g) * capacity * hd, s, hd);
                MapConstRowMatrix V(v_cache + int64_t(g) * capacity * hd, s, hd);
                MapConstVector qi(q + int64_t(i) * ld + h * hd, hd);
                auto sc = scores.head(s);
                sc.noalias() = K * qi;
                sc *= scale;
                const float mx = sc.maxCoeff();
                sc = (sc.array() - mx).exp();
                sc /= sc.sum();
                MapVector(out + int64_t(i) * n_heads * hd + h * hd, hd).noalias() = V.transpose() * sc;
                if (probs && i >= probs_row_begin) {
                    float* row = probs + (int64_t(h) * prob_rows + (i - probs_row_begin)) * s_total;
                    std::memcpy(row, sc.data(), s * sizeof(float));
                    std::memset(row + s, 0, (s_total - s) * sizeof(float));
                }
            }
        });
    }

    void begin_op(OpClass op) override { m_started = Clock::now(); }
    void end_op(OpClass op) override {
        m_seconds[static_cast<int>(op)] += std::chrono::duration<double>(Clock::now() - m_started).count();
    }
    std::array<double, kOpClassCount> take_op_seconds() override {
        auto s = m_seconds;
        m_seconds.fill(0.0);
        return s;
    }

  private:
    using Clock = std::chrono::steady_clock;

    // Rows of W per block of blocked_gemv_in_out: 12 blocks for GPT-2-small's 768 rows, 48 for 3072.
    static constexpr int kGemvBlockRows = 64;

    // y[m] = x[k] · W[k, m] read row by row. Column bands (as for n > 1) give each thread short strided
    // runs of each row, which the prefetchers follow badly: two threads read GPT-2's [in, out] weights at
    // 38 GB/s that way and at 49 GB/s in whole rows, beside 52 GB/s for a plain read of the same bytes
    // (closing note of issue 15). So W is cut into blocks of kGemvBlockRows whole rows (contiguous
    // memory), each thread takes a run of blocks, each block sums into its own partial y, and the partials
    // are added in block order. The blocks do not depend on the thread count, so neither do the results.
    void blocked_gemv_in_out(const float* x, int k, const float* w, int m, float* y, int chunks) {
        const int blocks = (k + kGemvBlockRows - 1) / kGemvBlockRows;
        if (blocks == 1) {
            MapVector(y, m).noalias() = MapConstRowMatrix(w, k, m).transpose() * MapConstVector(x, k);
            return;
        }
        m_partials.resize(size_t(blocks) * size_t(m));  // (block, m)
        const int runs = std::min(chunks, blocks);
        m_runner.run(runs, [&](int i) {
            const auto [b0, b1] = chunk_range(blocks, runs, i);
            for (int b = b0; b < b1; ++b) {
                const int r0 = b * kGemvBlockRows, rows = std::min(kGemvBlockRows, k - r0);
                MapVector(m_partials.data() + int64_t(b) * m, m).noalias() =
                    MapConstRowMatrix(w + int64_t(r0) * m, rows, m).transpose() *
                    MapConstVector(x + r0, rows);
            }
        });
        MapVector Y(y, m);
        Y = MapConstVector(m_partials.data(), m);
        for (int b = 1; b < blocks; ++b)
            Y += MapConstVector(m_partials.data() + int64_t(b) * m, m);
    }

    void ensure_inv_freq(float theta, int hd) {
        if (theta == m_theta && hd == m_hd) return;
        m_theta = theta;
        m_hd = hd;
        m_inv_freq = rope_inv_freq(theta, hd);
    }

    ChunkRunner m_runner;
    std::vector<float> m_partials;  // (block, m): blocked_gemv_in_out's partial products
    Clock::time_point m_started;
    std::array<double, kOpClassCount> m_seconds{};
    float m_theta = 0.0f;
    int m_hd = 0;
    std::vector<float> m_inv_freq;
};

class CpuBackend final : public Backend {
    using Clock = std::chrono::steady_clock;

  public:
    explicit CpuBackend(int threads) : m_threads(threads) {}
    DeviceKind kind() const override { return DeviceKind::cpu; }
    std::string name() const override {
        return "CPU (Eigen, " + std::to_string(m_threads) + (m_threads == 1 ? " thread)" : " threads)");
    }
    bool host_memory() const override { return true; }
    Result<std::unique_ptr<Buffer>> allocate(size_t n) override {
        try {
            return std::unique_ptr<Buffer>(std::make_unique<HostBuffer>(n, m_bytes));
        } catch (const std::bad_alloc&) {
            return Status::error("out of memory allocating " + std::to_string(n * sizeof(float)) + " bytes");
        }
    }
    std::unique_ptr<Stream> make_stream() override { return std::make_unique<CpuStream>(m_threads); }
    uint64_t bytes_allocated() const override { return *m_bytes; }

    // A read of a buffer larger than the last-level cache the OS reports (at least 256 MiB, at most 1 GiB):
    // decode reads every weight once per token, so reading is the roof it runs under (roofline.h).
    Result<MemoryBandwidth> measure_bandwidth() override {
        const size_t bytes = host_roof_read_bytes();
        const double b = measure_host_read_bandwidth(bytes, m_threads, 5);
        if (b <= 0)
            return Status::error("out of memory allocating " + std::to_string(bytes >> 20) +
                                 " MiB for the bandwidth measurement");
        MemoryBandwidth bw;
        bw.gb_per_s = b / 1e9;
        bw.method = "read of " + std::to_string(bytes >> 20) + " MiB (last-level cache " +
                    std::to_string(host_llc_bytes() >> 20) + " MiB), " + std::to_string(m_threads) +
                    (m_threads == 1 ? " thread" : " threads") + ", best of 5 (bytes read)";
        return bw;
    }

  private:
    int m_threads;
    std::shared_ptr<std::atomic<uint64_t>> m_bytes = std::make_shared<std::atomic<uint64_t>>(0);
};

}  // namespace

std::shared_ptr<Backend> make_cpu_backend(int threads) {
    if (threads <= 0) threads = std::max(1, int(std::thread::hardware_concurrency()));
    return std::make_shared<CpuBackend>(threads);
}

}  // namespace kvscope
