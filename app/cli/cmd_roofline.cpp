// kvscope-cli roofline [MODEL] — this machine's roofs (peak FLOP/s of the backend's GEMM, memory bandwidth,
// CPU: read bandwidth by buffer size) and where real steps of the model sit under them: the prefill of a
// prompt, cached decode steps after it, and uncached decode steps (which recompute the whole sequence).
// Formulas and what is measured: kvscope/roofline.h.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "cli_common.h"
#include "commands.h"
#include "kvscope/roofline.h"

namespace kvscope::cli {

namespace {

struct RooflineOptions {
    ModelOptions model;
    int prompt = 256;
    int decode_steps = 8;
    int uncached_steps = 2;
    int paired = 0;  // rounds of (the bandwidth roof's read, then one cached decode step)
    std::string json_path;
};

// One round of the paired measurement: the roof's own read, then a cached decode step right after it.
struct PairedRound {
    double roof = 0;    // bytes per second the backend's read measured
    double decode = 0;  // bytes per second the decode step moved
    double ratio() const { return roof > 0 ? decode / roof : 0; }
};

struct Row {
    std::string what;
    int tokens = 0;  // rows run through the layers
    RooflinePoint point;
};

int run_roofline(const RooflineOptions& o) {
    auto loaded = load(o.model);
    if (!loaded) return 1;
    const Model& model = *loaded->model;
    Backend& backend = loaded->engine->backend();
    const int threads =
        o.model.threads > 0 ? o.model.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    std::fprintf(stderr, "measuring the roofs of %s ...\n", backend.name().c_str());
    auto measured = measure_machine_peaks(backend, threads);
    if (!measured) return fail(measured.message());
    const MachinePeaks& peaks = measured.value();

    const ModelConfig& c = model.config;
    const int capacity = o.model.capacity > 0
                             ? o.model.capacity
                             : std::min(c.context_length, SessionOptions::kDefaultMaxCapacity);
    if (o.prompt + o.decode_steps + o.paired > capacity)
        return fail("--prompt " + std::to_string(o.prompt) + " + " +
                    std::to_string(o.decode_steps + o.paired) + " decode steps do not fit the KV cache of " +
                    std::to_string(capacity) + " tokens");
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> pick(0, c.vocab_size - 1);
    std::vector<int32_t> tokens(size_t(o.prompt + o.decode_steps + o.paired));
    for (auto& t : tokens)
        t = pick(rng);

    std::vector<Row> rows;
    std::vector<PairedRound> paired;
    for (SessionMode mode : {SessionMode::cached, SessionMode::uncached}) {
        SessionOptions so;
        so.mode = mode;
        so.capacity = capacity;
        so.trace = TraceOptions::off();
        auto session = Session::create(loaded->engine, so);
        if (!session) return fail(session.message());
        Session& s = *session.value();
        auto pre = s.prefill(std::span<const int32_t>(tokens.data(), size_t(o.prompt)));
        if (!pre) return fail(pre.message());
        if (mode == SessionMode::cached)
            rows.push_back({"prefill", int(pre.value()->counters.tokens_processed),
                            roofline_point(pre.value()->counters)});
        const int steps = mode == SessionMode::cached ? o.decode_steps : o.uncached_steps;
        std::vector<Row> decode;
        for (int i = 0; i < steps; ++i) {
            auto st = s.decode(tokens[size_t(o.prompt + i)]);
            if (!st) return fail(st.message());
            decode.push_back({mode == SessionMode::cached ? "cached decode" : "uncached decode",
                              int(st.value()->counters.tokens_processed),
                              roofline_point(st.value()->counters)});
        }
        // The median step by time stands for the rest (a step on a shared machine can be preempted).
        std::sort(decode.begin(), decode.end(),
                  [](const Row& a, const Row& b) { return a.point.seconds < b.point.seconds; });
        rows.push_back(decode[decode.size() / 2]);
        // Paired: a shared machine's bandwidth drifts by 2x from one minute to the next, so a roof measured
        // before the steps may not be the roof they ran under. Each round measures the roof's read again and
        // runs one cached decode step right after it; their ratio is the step's share of the roof it met.
        // On the CPU the rounds read one buffer, kept (HostReadBuffer says why a fresh one would not do).
        if (mode == SessionMode::cached && o.paired > 0) {
            std::unique_ptr<HostReadBuffer> host_read;
            if (backend.host_memory()) {
                host_read = std::make_unique<HostReadBuffer>(host_roof_read_bytes());
                if (host_read->empty())
                    return fail("out of memory allocating " + std::to_string(host_roof_read_bytes() >> 20) +
                                " MiB for the paired bandwidth measurement");
            }
            for (int i = 0; i < o.paired; ++i) {
                double roof = 0;
                if (host_read) {
                    roof = host_read->measure(threads, 5);
                } else {
                    auto bw = backend.measure_bandwidth();
                    if (!bw) return fail(bw.status().message());
                    roof = bw->gb_per_s * 1e9;
                }
                auto st = s.decode(tokens[size_t(o.prompt + o.decode_steps + i)]);
                if (!st) return fail(st.message());
                paired.push_back({roof, roofline_point(st.value()->counters).achieved_bandwidth()});
            }
        }
    }

    const double working_set = double(model.stored_bytes()) + double(c.kv_bytes_per_token()) * o.prompt;
    std::printf("model      %s (%s weights, %s + KV of %d tokens %s)\n", model.source_path.c_str(),
                dtype_name(model.main_dtype()), human_bytes(model.stored_bytes()).c_str(), o.prompt,
                human_bytes(uint64_t(c.kv_bytes_per_token()) * uint64_t(o.prompt)).c_str());
    std::printf("device     %s\n", peaks.device.c_str());
    std::printf("peak       %.1f GFLOP/s: %s\n", peaks.peak_flops / 1e9, peaks.flops_method.c_str());
    std::printf("bandwidth  %.1f GB/s: %s\n", peaks.bandwidth / 1e9, peaks.bandwidth_method.c_str());
    if (peaks.triad_bandwidth > 0)
        std::printf("triad      %.1f GB/s (STREAM convention: 12 bytes per float element)\n",
                    peaks.triad_bandwidth / 1e9);
    if (!peaks.ladder.empty()) {
        std::printf("read by buffer size:");
        for (const BandwidthAt& b : peaks.ladder)
            std::printf("  %.0f MiB %.1f", b.bytes / (1 << 20), b.bandwidth / 1e9);
        std::printf(" GB/s\n");
    }
    std::printf("ridge      %.1f FLOPs/byte (left of it memory bounds a step, right of it arithmetic)\n",
                peaks.ridge());
    const bool resident = peaks.cache_resident(working_set);
    if (resident)
        std::printf(
            "cache      model + cache (%s) fit in the CPU's caches: reading them runs at %.1f GB/s, "
            "not %.1f: the cache-resident roof applies\n",
            human_bytes(uint64_t(working_set)).c_str(), peaks.bandwidth_for(working_set) / 1e9,
            peaks.bandwidth / 1e9);
    std::printf("\n%-16s %7s %12s %12s %10s %9s %12s %12s %8s %8s\n", "step", "tokens", "GFLOP", "MB moved",
                "FLOPs/B", "ms", "GFLOP/s", "roof GFLOP/s", "of roof", "GB/s");
    nlohmann::ordered_json jrows = nlohmann::ordered_json::array();
    for (const Row& r : rows) {
        const RooflinePoint& p = r.point;
        const double roof =
            resident ? peaks.attainable(p.intensity(), working_set) : peaks.attainable(p.intensity());
        std::printf("%-16s %7d %12.3f %12.2f %10.2f %9.2f %12.1f %12.1f %7.0f%% %8.1f\n", r.what.c_str(),
                    r.tokens, p.flops / 1e9, p.bytes / 1e6, p.intensity(), p.seconds * 1e3,
                    p.achieved() / 1e9, roof / 1e9, 100.0 * p.achieved() / roof,
                    p.achieved_bandwidth() / 1e9);
        jrows.push_back({{"step", r.what},
                         {"tokens", r.tokens},
                         {"flops", p.flops},
                         {"bytes", p.bytes},
                         {"seconds", p.seconds},
                         {"intensity", p.intensity()},
                         {"achieved_flops", p.achieved()},
                         {"roof_flops", roof},
                         {"of_roof", p.achieved() / roof},
                         {"achieved_bandwidth", p.achieved_bandwidth()}});
    }
    if (rows.size() >= 2)
        std::printf("\nprefill's intensity is %.0fx cached decode's\n",
                    rows[0].point.intensity() / rows[1].point.intensity());
    nlohmann::ordered_json jpaired = nlohmann::ordered_json::array();
    if (!paired.empty()) {
        std::vector<PairedRound> sorted = paired;
        std::sort(sorted.begin(), sorted.end(),
                  [](const PairedRound& a, const PairedRound& b) { return a.ratio() < b.ratio(); });
        std::printf("\npaired     %d rounds of the roof's read, then one cached decode step:\n",
                    int(paired.size()));
        for (const PairedRound& r : paired) {
            std::printf("           read %6.1f GB/s, decode %6.1f GB/s: %4.0f%%\n", r.roof / 1e9,
                        r.decode / 1e9, 100.0 * r.ratio());
            jpaired.push_back(
                {{"roof_bandwidth", r.roof}, {"decode_bandwidth", r.decode}, {"of_roof", r.ratio()}});
        }
        std::printf(
            "           cached decode at a median %.0f%% of the roof read beside it (%.0f%% to %.0f%%)\n",
            100.0 * sorted[sorted.size() / 2].ratio(), 100.0 * sorted.front().ratio(),
            100.0 * sorted.back().ratio());
    }
    if (!o.json_path.empty()) {
        nlohmann::ordered_json j;
        j["model"] = model.source_path;
        j["device"] = peaks.device;
        j["peak_flops"] = peaks.peak_flops;
        j["flops_method"] = peaks.flops_method;
        j["bandwidth"] = peaks.bandwidth;
        j["bandwidth_method"] = peaks.bandwidth_method;
        j["triad_bandwidth"] = peaks.triad_bandwidth;
        j["llc_bytes"] = peaks.llc_bytes;
        for (const BandwidthAt& b : peaks.ladder)
            j["ladder"].push_back({{"bytes", b.bytes}, {"bandwidth", b.bandwidth}});
        j["working_set_bytes"] = working_set;
        j["cache_resident"] = resident;
        j["steps"] = jrows;
        if (!paired.empty()) j["paired"] = jpaired;
        std::ofstream out(o.json_path);
        out << j.dump(2) << "\n";
        if (!out) return fail(o.json_path + ": write failed");
    }
    return 0;
}

}  // namespace

void add_roofline_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<RooflineOptions>();
    CLI::App* cmd = app.add_subcommand(
        "roofline", "Measure this machine's roofs and place prefill, cached and uncached decode under them");
    o->model.add_to(*cmd);
    cmd->add_option("--prompt", o->prompt, "Prompt tokens of the prefill (default 256)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--decode-steps", o->decode_steps, "Cached decode steps (the median is shown)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--uncached-steps", o->uncached_steps, "Uncached decode steps (the median is shown)")
        ->check(CLI::PositiveNumber);
    cmd->add_option(
           "--paired", o->paired,
           "Rounds of the bandwidth roof measured again, then one cached decode step right after it: "
           "each step against the roof it met (default 0)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--json", o->json_path, "Also write the roofs and points as JSON");
    cmd->callback([o, &exit_code] { exit_code = run_roofline(*o); });
}

}  // namespace kvscope::cli
