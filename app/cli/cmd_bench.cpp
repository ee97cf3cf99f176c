// kvscope-cli bench MODEL — cached against uncached decoding at several context lengths.
//
// For each context length L the sequence is first brought to L tokens (untimed), then a few decode steps
// are timed one by one at positions L, L+1, ...; the median step is reported. The cached session appends
// one token to its cache per step; the uncached one runs the whole L+1 tokens through the model every
// step. Each is measured with trace recording on (what the app records) and off. Alongside: the bytes a
// cached step read (weights at their stored dtype + KV), divided by its time, next to the device's memory
// bandwidth as the backend measures it (a read kernel over a buffer larger than the caches), and the
// roofline: those bytes over that bandwidth, the least time a memory-bound step can take.
#include <thread>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "kvscope/prompt_sweep.h"

namespace kvscope::cli {

namespace {

struct BenchOptions {
    ModelOptions model;
    std::vector<int> contexts;
    int decode_steps = 8;
    int uncached_steps = 3;
    std::string json_path;
    bool bandwidth = true;
    bool uncached = true;
    std::string record = "both";
    std::vector<int> prompt_lengths;  // the time-to-first-token sweep instead of the context table
};

struct Measure {
    double ms_per_token = 0.0;  // median step
    double tokens_per_s = 0.0;
    uint64_t bytes_read = 0;  // of the median step: weights + KV
    uint64_t flops = 0;
    double gb_per_s = 0.0;
    uint64_t device_bytes = 0;  // held by the backend while the session ran (weights, cache, scratch)
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Result<Measure> measure(const std::shared_ptr<Engine>& engine, SessionMode mode, bool record, int context,
                        int steps, const std::vector<int32_t>& tokens, int capacity) {
    SessionOptions so;
    so.mode = mode;
    so.capacity = capacity;
    so.trace = record ? TraceOptions{} : TraceOptions::off();
    auto session = Session::create(engine, so);
    if (!session) return session.status();
    Session& s = *session.value();
    auto pre = s.prefill(std::span<const int32_t>(tokens.data(), size_t(context)));
    if (!pre) return pre.status();
    const uint64_t device_bytes = engine->backend().bytes_allocated();
    std::vector<double> ms;
    std::vector<StepTracePtr> traces;
    for (int i = 0; i < steps; ++i) {
        auto st = s.decode(tokens[size_t(context + i)]);
        if (!st) return st.status();
        ms.push_back(st.value()->counters.wall_seconds * 1e3);
        traces.push_back(st.value());
    }
    Measure m;
    m.ms_per_token = median(ms);
    m.tokens_per_s = 1e3 / m.ms_per_token;
    // The step nearest the median stands for its byte and FLOP counts (they vary by one row per step).
    const auto& mid = traces[traces.size() / 2]->counters;
    m.bytes_read = mid.bytes_read();
    m.flops = mid.flops();
    m.gb_per_s = double(m.bytes_read) / (m.ms_per_token * 1e-3) / 1e9;
    m.device_bytes = device_bytes;
    return m;
}

// The pause before the first word: one fresh cached session per prompt length, its prefill timed (time to
// first token), then the decode steps that stream after it.
int run_prompt_sweep_bench(const BenchOptions& o, const LoadedModel& loaded) {
    const ModelConfig& c = loaded.model->config;
    const int longest = *std::max_element(o.prompt_lengths.begin(), o.prompt_lengths.end());
    const int limit = o.model.capacity > 0 ? o.model.capacity : c.context_length;
    if (longest + o.decode_steps > limit)
        return fail("prompt length " + std::to_string(longest) + " + " + std::to_string(o.decode_steps) +
                    " decode steps exceed the model's context of " + std::to_string(limit) + " tokens");
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> pick(0, c.vocab_size - 1);
    std::vector<int32_t> tokens(size_t(longest + o.decode_steps));
    for (auto& t : tokens)
        t = pick(rng);
    std::printf("model    %s (%s, %d layers, d_model %d)\n", loaded.model->source_path.c_str(),
                c.arch_name.c_str(), c.n_layers, c.d_model);
    std::printf("device   %s\n", loaded.engine->backend().name().c_str());
    std::printf(
        "steps    time to first token = the prefill of the prompt; then the median of %d decode steps\n\n",
        o.decode_steps);
    std::printf("%8s | %10s %12s %14s | %12s %10s | %s\n", "prompt", "TTFT ms", "ms/prompt tok",
                "prefill GFLOP/s", "decode ms", "tok/s", "TTFT = decode steps");
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    auto result = run_prompt_sweep(
        loaded.engine, o.prompt_lengths, o.decode_steps, tokens, nullptr, [&](const PromptSweepRow& r) {
            const double gflops = double(r.prefill.flops()) / r.ttft_seconds / 1e9;
            std::printf("%8d | %10.2f %12.3f %14.1f | %12.3f %10.1f | %.1f\n", r.prompt, r.ttft_seconds * 1e3,
                        r.ttft_seconds * 1e3 / r.prompt, gflops, r.decode_seconds * 1e3,
                        1.0 / r.decode_seconds, r.ttft_seconds / r.decode_seconds);
            std::fflush(stdout);
            rows.push_back({{"prompt", r.prompt},
                            {"ttft_ms", r.ttft_seconds * 1e3},
                            {"prefill_flops", r.prefill.flops()},
                            {"prefill_bytes", r.prefill.bytes_read()},
                            {"decode_ms", r.decode_seconds * 1e3},
                            {"decode_flops", r.decode.flops()},
                            {"decode_bytes", r.decode.bytes_read()}});
        });
    if (!result) return fail(result.message());
    if (!o.json_path.empty()) {
        nlohmann::ordered_json j;
        j["model"] = loaded.model->source_path;
        j["device"] = loaded.engine->backend().name();
        j["decode_steps"] = o.decode_steps;
        j["prompt_sweep"] = rows;
        std::ofstream out(o.json_path);
        out << j.dump(2) << "\n";
        if (!out) return fail(o.json_path + ": write failed");
    }
    return 0;
}

int run(const BenchOptions& o) {
    auto loaded = load(o.model);
    if (!loaded) return 1;
    if (!o.prompt_lengths.empty()) return run_prompt_sweep_bench(o, *loaded);
    const ModelConfig& c = loaded->model->config;
    const int capacity = o.model.capacity > 0
                             ? o.model.capacity
                             : std::min(c.context_length, SessionOptions::kDefaultMaxCapacity);
    const int headroom = std::max(o.decode_steps, o.uncached_steps);
    std::vector<int> contexts = o.contexts;
    if (contexts.empty()) {
        for (int L = 16; L + headroom <= capacity; L *= 2)
            contexts.push_back(L);
        if (contexts.empty() || contexts.back() != capacity - headroom)
            contexts.push_back(capacity - headroom);
    }
    for (int L : contexts)
        if (L < 1 || L + headroom > capacity)
            return fail("context " + std::to_string(L) + " leaves no room for " + std::to_string(headroom) +
                        " timed steps in a KV cache of " + std::to_string(capacity) + " tokens");

    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> pick(0, c.vocab_size - 1);
    std::vector<int32_t> tokens(static_cast<size_t>(capacity));
    for (auto& t : tokens)
        t = pick(rng);

    const int threads =
        o.model.threads > 0 ? o.model.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    Backend& backend = loaded->engine->backend();
    MemoryBandwidth bandwidth;
    if (o.bandwidth) {
        auto bw = backend.measure_bandwidth();
        if (!bw) return fail(bw.message());
        bandwidth = bw.value();
    }
    const double bw_gb_per_s = bandwidth.gb_per_s;

    std::printf("model    %s (%s, %d layers, d_model %d, %d heads / %d KV heads, %s weights %s)\n",
                loaded->model->source_path.c_str(), c.arch_name.c_str(), c.n_layers, c.d_model, c.n_heads,
                c.n_kv_heads, dtype_name(loaded->model->main_dtype()),
                human_bytes(loaded->model->stored_bytes()).c_str());
    std::printf("device   %s\n", backend.name().c_str());
    if (!backend.host_memory())
        std::printf("weights  %s in device memory (float32)\n",
                    human_bytes(loaded->engine->weight_bytes_on_device()).c_str());
    if (bw_gb_per_s > 0) std::printf("memory   %.1f GB/s: %s\n", bw_gb_per_s, bandwidth.method.c_str());
    std::printf("steps    median of %d cached / %d uncached decode steps at each context\n\n", o.decode_steps,
                o.uncached_steps);

    std::vector<bool> records;
    if (o.record != "off") records.push_back(true);
    if (o.record != "on") records.push_back(false);

    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    std::printf("%8s %6s | %12s %10s %10s %7s %9s | %14s %10s | %8s\n", "context", "record", "cached ms/tok",
                "tok/s", "GB/s", "of bw", "bound ms", "uncached ms/tok", "tok/s", "ratio");
    for (int L : contexts) {
        for (bool rec : records) {
            auto cm = measure(loaded->engine, SessionMode::cached, rec, L, o.decode_steps, tokens, capacity);
            if (!cm) return fail(cm.message());
            Measure um;
            if (o.uncached) {
                auto r = measure(loaded->engine, SessionMode::uncached, rec, L, o.uncached_steps, tokens,
                                 capacity);
                if (!r) return fail(r.message());
                um = r.value();
            }
            const double ratio = o.uncached ? um.ms_per_token / cm->ms_per_token : 0.0;
            // Roofline: the bytes a cached step must read, at the measured bandwidth.
            const double bound_ms =
                bw_gb_per_s > 0 ? double(cm->bytes_read) / (bw_gb_per_s * 1e9) * 1e3 : 0.0;
            char bw[16] = "-", bound[16] = "-";
            if (bw_gb_per_s > 0) {
                std::snprintf(bw, sizeof bw, "%.0f%%", 100.0 * cm->gb_per_s / bw_gb_per_s);
                std::snprintf(bound, sizeof bound, "%.3f", bound_ms);
            }
            // Without the uncached run (--no-uncached) its columns say "-", not a measured 0.
            char u_ms[24] = "-", u_tps[24] = "-", u_ratio[24] = "-";
            if (o.uncached) {
                std::snprintf(u_ms, sizeof u_ms, "%.3f", um.ms_per_token);
                std::snprintf(u_tps, sizeof u_tps, "%.1f", um.tokens_per_s);
                std::snprintf(u_ratio, sizeof u_ratio, "%.1fx", ratio);
            }
            std::printf("%8d %6s | %12.3f %10.1f %10.2f %7s %9s | %14s %10s | %8s\n", L, rec ? "on" : "off",
                        cm->ms_per_token, cm->tokens_per_s, cm->gb_per_s, bw, bound, u_ms, u_tps, u_ratio);
            std::fflush(stdout);
            nlohmann::ordered_json row;
            row["context"] = L;
            row["recording"] = rec;
            row["cached"] = {{"ms_per_token", cm->ms_per_token},
                             {"tokens_per_s", cm->tokens_per_s},
                             {"bytes_read", cm->bytes_read},
                             {"flops", cm->flops},
                             {"gb_per_s", cm->gb_per_s},
                             {"bound_ms", bound_ms},
                             {"over_bound", bound_ms > 0 ? cm->ms_per_token / bound_ms : 0.0},
                             {"device_bytes", cm->device_bytes}};
            if (o.uncached) {
                row["uncached"] = {{"ms_per_token", um.ms_per_token},
                                   {"tokens_per_s", um.tokens_per_s},
                                   {"bytes_read", um.bytes_read},
                                   {"flops", um.flops}};
                row["uncached_over_cached"] = ratio;
            } else {
                row["uncached"] = nullptr;  // not measured (--no-uncached)
                row["uncached_over_cached"] = nullptr;
            }
            rows.push_back(std::move(row));
        }
    }
    if (!o.json_path.empty()) {
        nlohmann::ordered_json j;
        j["model"] = loaded->model->source_path;
        j["device"] = backend.name();
        j["device_kind"] = device_kind_name(backend.kind());
        j["threads"] = threads;
        j["bandwidth_gb_per_s"] = bw_gb_per_s;
        j["bandwidth_method"] = bandwidth.method;
        j["weights_on_device_bytes"] = loaded->engine->weight_bytes_on_device();
        j["weight_bytes_stored"] = loaded->model->stored_bytes();
        j["rows"] = rows;
        std::ofstream out(o.json_path);
        out << j.dump(2) << "\n";
        if (!out) return fail(o.json_path + ": write failed");
    }
    return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<BenchOptions>();
    CLI::App* cmd =
        app.add_subcommand("bench", "Time cached against uncached decoding at several context lengths");
    o->model.add_to(*cmd);
    cmd->add_option("--contexts", o->contexts,
                    "Context lengths to measure at (default: powers of two to the capacity)")
        ->delimiter(',')
        ->check(whole_number(1, 1 << 30));
    cmd->add_option("--decode-steps", o->decode_steps, "Timed cached steps per context")
        ->check(whole_number(1, 1000000));
    cmd->add_option("--uncached-steps", o->uncached_steps, "Timed uncached steps per context")
        ->check(whole_number(1, 1000000));
    cmd->add_option("--record", o->record, "Trace recording: on, off or both")
        ->check(CLI::IsMember({"on", "off", "both"}));
    cmd->add_flag("!--no-bandwidth,!--no-triad", o->bandwidth, "Skip the memory-bandwidth measurement");
    cmd->add_flag("!--no-uncached", o->uncached, "Time only the cached session");
    cmd->add_option("--prompt-lengths", o->prompt_lengths,
                    "Instead: time to first token for these prompt lengths (e.g. 16,64,256), then decode")
        ->delimiter(',')
        ->check(CLI::PositiveNumber);
    cmd->add_option("--json", o->json_path, "Also write the results as JSON");
    cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace kvscope::cli
