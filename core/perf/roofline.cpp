// roofline.cpp — measuring the roofs (kvscope/roofline.h) and placing a step under them.
#include "kvscope/roofline.h"

#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <new>
#include <random>
#include <thread>

namespace kvscope {

namespace {
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs body(begin, end) over [0, n) split into `threads` contiguous slices, one thread each.
template <typename F>
void split(size_t n, int threads, F body) {
    std::vector<std::thread> workers;
    for (int t = 1; t < threads; ++t)
        workers.emplace_back(
            [&, t] { body(n * size_t(t) / size_t(threads), n * size_t(t + 1) / size_t(threads)); });
    body(0, n / size_t(threads));
    for (auto& w : workers)
        w.join();
}

std::string mib_text(double bytes) {
    return std::to_string(static_cast<long long>(bytes / (1024.0 * 1024.0))) + " MiB";
}
}  // namespace

size_t host_llc_bytes() {
    for (int name : {_SC_LEVEL4_CACHE_SIZE, _SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE}) {
        const long v = sysconf(name);
        if (v > 0) return size_t(v);
    }
    return 0;
}

HostReadBuffer::HostReadBuffer(size_t bytes) {
    try {
        // Touched here, so the passes measure reads, not page faults.
        m_data.assign(std::max<size_t>(bytes / sizeof(float), 1024), 1.0f);
    } catch (const std::bad_alloc&) {
        m_data.clear();
    }
}

double HostReadBuffer::measure(int threads, int reps) const {
    if (m_data.empty()) return 0;
    threads = std::max(1, threads);
    const size_t n = m_data.size();
    std::vector<float> sums(size_t(threads) * 16, 0.0f);  // a cache line each: no false sharing
    double best = 1e30;
    for (int rep = 0; rep <= reps; ++rep) {
        const auto t0 = Clock::now();
        split(n, threads, [&](size_t begin, size_t end) {
            const int t = int(begin * size_t(threads) / n);
            sums[size_t(t) * 16] +=
                Eigen::Map<const Eigen::ArrayXf>(m_data.data() + begin, Eigen::Index(end - begin)).sum();
        });
        const double t = seconds_since(t0);
        if (rep > 0) best = std::min(best, t);  // the first pass warms the caches and the threads
    }
    volatile float sink = sums[0];
    (void)sink;
    return double(n) * sizeof(float) / best;
}

double measure_host_read_bandwidth(size_t bytes, int threads, int reps) {
    return HostReadBuffer(bytes).measure(threads, reps);
}

size_t host_roof_read_bytes() {
    return std::clamp<size_t>(2 * host_llc_bytes(), size_t(256) << 20, size_t(1) << 30);
}

double measure_host_triad_bandwidth(size_t bytes_per_array, int threads, int reps) {
    threads = std::max(1, threads);
    const size_t n = std::max<size_t>(bytes_per_array / sizeof(float), 1024);
    std::vector<float> a, b, c;
    try {
        a.assign(n, 0.0f);
        b.assign(n, 1.0f);
        c.assign(n, 2.0f);
    } catch (const std::bad_alloc&) {
        return 0;
    }
    const float s = 3.0f;
    double best = 1e30;
    for (int rep = 0; rep <= reps; ++rep) {
        const auto t0 = Clock::now();
        split(n, threads, [&](size_t begin, size_t end) {
            const Eigen::Index len = Eigen::Index(end - begin);
            Eigen::Map<Eigen::ArrayXf>(a.data() + begin, len) =
                Eigen::Map<const Eigen::ArrayXf>(b.data() + begin, len) +
                s * Eigen::Map<const Eigen::ArrayXf>(c.data() + begin, len);
        });
        const double t = seconds_since(t0);
        if (rep > 0) best = std::min(best, t);
    }
    volatile float sink = a[n / 2];
    (void)sink;
    return 3.0 * double(n) * sizeof(float) / best;  // STREAM counts 2 reads + 1 write, no write-allocate
}

double MachinePeaks::bandwidth_for(double working_set) const {
    for (const BandwidthAt& b : ladder)
        if (b.bytes >= working_set) return std::max(b.bandwidth, bandwidth);
    return bandwidth;
}

double MachinePeaks::attainable(double intensity) const {
    return std::min(peak_flops, intensity * bandwidth);
}

double MachinePeaks::attainable(double intensity, double working_set) const {
    return std::min(peak_flops, intensity * bandwidth_for(working_set));
}

Result<MachinePeaks> measure_machine_peaks(Backend& backend, int host_threads) {
    MachinePeaks p;
    p.device = backend.name();

    // Peak FLOP/s: the backend's own matmul, as the engine calls it.
    constexpr int m = 512, k = 1024, n = 1024;
    auto x = backend.allocate(size_t(m) * k);
    auto w = backend.allocate(size_t(n) * k);
    auto y = backend.allocate(size_t(m) * n);
    if (!x || !w || !y) return Status::error("measuring peak FLOP/s: cannot allocate the GEMM's 6 MiB");
    {
        auto stream = backend.make_stream();
        std::vector<float> host(size_t(n) * k);
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        for (float& v : host)
            v = u(rng);
        stream->upload(x.value()->data(), host.data(), size_t(m) * k);
        stream->upload(w.value()->data(), host.data(), size_t(n) * k);
        stream->synchronize();
        double best = 1e30;
        for (int rep = 0; rep < 9; ++rep) {
            const auto t0 = Clock::now();
            stream->matmul(x.value()->data(), m, k, w.value()->data(), n, nullptr, y.value()->data());
            stream->synchronize();
            const double t = seconds_since(t0);
            if (rep > 0) best = std::min(best, t);
        }
        KVSCOPE_TRY(stream->error().with_context("measuring peak FLOP/s"));
        p.peak_flops = 2.0 * m * k * n / best;
        p.flops_method = "the backend's matmul [512 x 1024] x [1024 x 1024], best of 8";
    }

    auto bw = backend.measure_bandwidth();
    if (!bw) return bw.status();
    p.bandwidth = bw->gb_per_s * 1e9;
    p.bandwidth_method = bw->method;

    if (backend.host_memory()) {
        p.llc_bytes = double(host_llc_bytes());
        for (size_t mib : {1, 2, 4, 8, 16, 32, 64, 128, 256}) {
            const size_t bytes = mib << 20;
            const int reps = int(std::clamp<size_t>((size_t(512) << 20) / bytes, 3, 64));
            p.ladder.push_back({double(bytes), measure_host_read_bandwidth(bytes, host_threads, reps)});
        }
        const size_t big = std::clamp<size_t>(size_t(p.llc_bytes), size_t(128) << 20, size_t(512) << 20);
        p.triad_bandwidth = measure_host_triad_bandwidth(big, host_threads, 5);
        (void)mib_text;
    }
    return p;
}

RooflinePoint roofline_point(const Counters& step) {
    const OpCounters t = step.total();
    RooflinePoint p;
    p.flops = double(t.flops);
    p.bytes = double(t.weight_bytes + t.kv_read + t.kv_written);
    p.seconds = step.wall_seconds;
    return p;
}

}  // namespace kvscope
