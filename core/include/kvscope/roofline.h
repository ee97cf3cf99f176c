// roofline.h — this machine's roofs, measured, and where each engine step sits under them.
//
// The roofline model: a step that does F FLOPs while moving B bytes has arithmetic intensity I = F / B
// (FLOPs per byte). It can run no faster than min(peak FLOP/s, I · bandwidth): left of the ridge
// (I < peak / bandwidth) memory bounds it, right of it the arithmetic does. Decode with a cache moves all
// the weights for one token (I ≈ 0.5 FLOP/byte in f32): far left. Prefill of n tokens reuses each weight
// n times (I ≈ n / 2): far right. Uncached decode recomputes the whole sequence: it moves right as it
// grows, doing more work for the same bytes — work a cache would have saved.
//
// What is measured, once (kept by the app in its settings, "measure again" redoes it):
//   peak FLOP/s   the backend's own matmul (the engine's GEMM: Eigen on the CPU threads, cuBLAS on CUDA)
//                 on [512 × 1024] · [1024 × 1024]ᵀ float32, best of several runs, 2·m·k·n FLOPs each;
//   bandwidth     the backend's measure_bandwidth(): on the CPU a read of a buffer larger than the last
//                 level cache the OS reports (what decode does: read every weight once), best of several;
//   a ladder      (CPU) read bandwidth over buffers of 1 MiB … 256 MiB: a model and cache smaller than the
//                 caches are read from the caches, faster than DRAM. The roof for a working set W is the
//                 ladder's value at the smallest size ≥ W; "cache-resident" when it beats DRAM by 25%.
//   triad         (CPU) the STREAM triad a = b + s·c over the same large buffers, 12 bytes per element
//                 (STREAM's convention), to compare with an independent STREAM run.
// A step's point, from the counters the engine counted (counters.h):
//   bytes = weights read + KV read + KV written (activations not counted), FLOPs = all of the step's,
//   achieved = FLOPs / the step's wall time.
#pragma once

#include <string>
#include <vector>

#include "kvscope/backend.h"
#include "kvscope/counters.h"
#include "kvscope/status.h"

namespace kvscope {

struct BandwidthAt {
    double bytes = 0;      // buffer read
    double bandwidth = 0;  // bytes per second
};

struct MachinePeaks {
    std::string device;     // the backend's name
    double peak_flops = 0;  // FLOP/s
    std::string flops_method;
    double bandwidth = 0;  // bytes per second from the memory past the caches (DRAM, HBM)
    std::string bandwidth_method;
    double triad_bandwidth = 0;       // CPU: STREAM-convention triad, bytes per second (0: not measured)
    double llc_bytes = 0;             // CPU: last-level cache size the OS reports (0: unknown)
    std::vector<BandwidthAt> ladder;  // CPU: read bandwidth by buffer size, ascending

    bool valid() const { return peak_flops > 0 && bandwidth > 0; }
    double ridge() const { return bandwidth > 0 ? peak_flops / bandwidth : 0; }  // FLOPs per byte
    // The bandwidth reading `working_set` bytes reaches: the ladder's value at the smallest size that
    // holds it, or the DRAM bandwidth past the ladder.
    double bandwidth_for(double working_set) const;
    bool cache_resident(double working_set) const { return bandwidth_for(working_set) > 1.25 * bandwidth; }
    // min(peak, intensity · bandwidth), with the DRAM roof or the roof of a working set.
    double attainable(double intensity) const;
    double attainable(double intensity, double working_set) const;
};

// Measures the roofs of `backend` (a few seconds). host_threads: threads for the CPU's ladder and triad
// (the CPU backend's own count; ignored on CUDA).
Result<MachinePeaks> measure_machine_peaks(Backend& backend, int host_threads);

// Host memory kernels, `threads` threads, best of `reps` passes after one warm-up pass (bytes per second).
double measure_host_read_bandwidth(size_t bytes, int threads, int reps);

// A buffer allocated and touched once, to measure host read bandwidth again and again. Why not a fresh
// buffer each time: on a virtual machine a freed GiB goes back to the host, and the guest's memory-bound
// work right after runs slowly while it does (a GPT-2-small decode step after a fresh 1 GiB read moved
// 5-9 GB/s, ~40 after a read of a kept buffer). `kvscope-cli roofline --paired` reads one between steps.
class HostReadBuffer {
  public:
    explicit HostReadBuffer(size_t bytes);  // empty() when the memory could not be had
    bool empty() const { return m_data.empty(); }
    size_t bytes() const { return m_data.size() * sizeof(float); }
    double measure(int threads, int reps) const;  // bytes per second, as measure_host_read_bandwidth

  private:
    std::vector<float> m_data;
};
// What the CPU's bandwidth roof reads: twice the last-level cache the OS reports, 256 MiB to 1 GiB.
size_t host_roof_read_bytes();
double measure_host_triad_bandwidth(size_t bytes_per_array, int threads, int reps);
// The last-level cache of this CPU as the OS reports it (sysconf), 0 when unknown.
size_t host_llc_bytes();

struct RooflinePoint {
    double flops = 0;
    double bytes = 0;    // weights read + KV read + KV written
    double seconds = 0;  // wall time of the step
    double intensity() const { return bytes > 0 ? flops / bytes : 0; }
    double achieved() const { return seconds > 0 ? flops / seconds : 0; }  // FLOP/s
    double achieved_bandwidth() const { return seconds > 0 ? bytes / seconds : 0; }
};
RooflinePoint roofline_point(const Counters& step);

}  // namespace kvscope
