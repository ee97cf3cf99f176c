// session_parity.cpp — see session_parity.h.
#include "parity/session_parity.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "kvscope/model.h"
#include "kvscope/session.h"
#include "support/reference.h"

namespace kvscope::parity {

namespace {

const char* const kModels[] = {"tiny-gpt2", "tiny-llama-gqa", "tiny-qwen2", "tiny-llama-bf16-sharded"};

constexpr double kLogitTolerance = 1e-3;      // relative to the CPU row's largest |logit|
constexpr double kReferenceTolerance = 1e-4;  // absolute, against Hugging Face (the fixtures' README)
constexpr double kTraceTolerance = 1e-4;      // attention probabilities, and K/V relative to their largest

std::span<const float> last_row(const Session& s, int vocab) {
    auto l = s.logits();
    return l.subspan(l.size() - size_t(vocab));
}

double max_abs(std::span<const float> a) {
    double m = 0.0;
    for (float v : a)
        m = std::max(m, std::fabs(double(v)));
    return m;
}

// max |a − b|; infinite on a size mismatch or a NaN.
double max_diff(std::span<const float> a, std::span<const float> b) {
    if (a.size() != b.size()) return INFINITY;
    double m = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(double(a[i]) - double(b[i]));
        if (!(d <= m)) m = d;
    }
    return m;
}

double relative_diff(std::span<const float> a, std::span<const float> reference) {
    return max_diff(a, reference) / std::max(1e-30, max_abs(reference));
}

std::unique_ptr<Session> make_session(const std::shared_ptr<Engine>& engine, SessionMode mode,
                                      TraceOptions trace, std::string& error) {
    SessionOptions o;
    o.mode = mode;
    o.trace = trace;
    auto s = Session::create(engine, o);
    if (!s) {
        error = s.message();
        return nullptr;
    }
    return std::move(s.value());
}

// What one lockstep run found, worst over its steps.
struct Lockstep {
    int steps = 0;
    double logits = 0.0, attention = 0.0, kv = 0.0;
    int id_mismatches = 0, reference_mismatches = 0, counter_mismatches = 0, silent_timers = 0;
    std::string first_mismatch, first_counter_mismatch;
    std::vector<int32_t> cpu_tokens;  // the CPU's greedy choices, step by step
};

void compare_counters(const Counters& a, const Counters& b, Lockstep& r, int step) {
    bool same = a.tokens_processed == b.tokens_processed && a.tokens_recomputed == b.tokens_recomputed &&
                a.kv_bytes_resident == b.kv_bytes_resident && a.kv_bytes_peak == b.kv_bytes_peak;
    for (int i = 0; i < kOpClassCount; ++i) {
        const OpCounters &x = a.by_op[i], &y = b.by_op[i];
        if (x.flops != y.flops || x.weight_bytes != y.weight_bytes || x.kv_read != y.kv_read ||
            x.kv_written != y.kv_written || x.calls != y.calls) {
            same = false;
            if (r.first_counter_mismatch.empty())
                r.first_counter_mismatch = "step " + std::to_string(step) + " " + op_class_name(OpClass(i)) +
                                           ": flops " + std::to_string(x.flops) + " vs " +
                                           std::to_string(y.flops);
        }
        // The CUDA timers (events) must have seen every op class that ran.
        if (y.calls > 0 && !(y.seconds > 0.0 && std::isfinite(y.seconds))) ++r.silent_timers;
    }
    if (!same) ++r.counter_mismatches;
}

void compare_traces(const StepTrace& a, const StepTrace& b, Lockstep& r) {
    if (a.attention.size() != b.attention.size() || a.kv.size() != b.kv.size()) {
        r.attention = r.kv = INFINITY;
        return;
    }
    for (size_t l = 0; l < a.attention.size(); ++l)
        r.attention = std::max(r.attention, max_diff(a.attention[l].probs, b.attention[l].probs));
    for (size_t l = 0; l < a.kv.size(); ++l) {
        r.kv = std::max(r.kv, relative_diff(b.kv[l].k, a.kv[l].k));
        r.kv = std::max(r.kv, relative_diff(b.kv[l].v, a.kv[l].v));
    }
}

// CPU and CUDA sessions of one mode, fed the same tokens (the CPU's greedy choice) to the full context.
Result<Lockstep> run_lockstep(const std::shared_ptr<Engine>& cpu, const std::shared_ptr<Engine>& cuda,
                              SessionMode mode, const test::Reference& ref,
                              std::vector<float>* truncate_logits, int truncate_pos) {
    const int vocab = cpu->config().vocab_size, context = cpu->config().context_length;
    TraceOptions trace;
    trace.attention = RowSelection::new_rows;
    trace.kv = RowSelection::new_rows;
    trace.top_k = 2;
    std::string error;
    auto a = make_session(cpu, mode, trace, error);
    if (!a) return Status::error("CPU session: " + error);
    auto b = make_session(cuda, mode, trace, error);
    if (!b) return Status::error("CUDA session: " + error);

    Lockstep r;
    auto ta = a->prefill(ref.input_ids);
    auto tb = b->prefill(ref.input_ids);
    for (int step = 0;; ++step) {
        if (!ta) return ta.status().with_context("CPU step " + std::to_string(step));
        if (!tb) return tb.status().with_context("CUDA step " + std::to_string(step));
        const StepTrace &x = *ta.value(), &y = *tb.value();
        const auto la = last_row(*a, vocab), lb = last_row(*b, vocab);
        r.logits = std::max(r.logits, relative_diff(lb, la));
        if (x.chosen != y.chosen) {
            if (r.id_mismatches++ == 0)
                r.first_mismatch = "step " + std::to_string(step) + ": CPU " + std::to_string(x.chosen) +
                                   ", CUDA " + std::to_string(y.chosen) + " (CPU top-2 margin " +
                                   fmt(x.top.size() > 1 ? x.top[0].logit - x.top[1].logit : 0.0) + ")";
        }
        if (step < int(ref.generated.size()) && y.chosen != ref.generated[size_t(step)])
            ++r.reference_mismatches;
        compare_traces(x, y, r);
        compare_counters(x.counters, y.counters, r, step);
        r.cpu_tokens.push_back(x.chosen);
        if (truncate_logits && y.pos_begin == truncate_pos) truncate_logits->assign(lb.begin(), lb.end());
        if (a->position() == context) break;
        ta = a->decode(x.chosen);
        tb = b->decode(x.chosen);
        ++r.steps;
    }
    // Step back on the CUDA session and step again: the same logits (nothing stale in the device cache).
    if (truncate_logits && !truncate_logits->empty()) {
        if (Status st = b->truncate(truncate_pos); !st) return st;
        const int32_t token = truncate_pos < int(ref.input_ids.size())
                                  ? ref.input_ids[size_t(truncate_pos)]
                                  : r.cpu_tokens[size_t(truncate_pos - int(ref.input_ids.size()))];
        auto again = b->decode(token);
        if (!again) return again.status().with_context("CUDA decode after truncate");
        const double d = relative_diff(last_row(*b, vocab), *truncate_logits);
        truncate_logits->assign(1, float(d));  // hand back the difference
    }
    return r;
}

void check_model(const std::string& dir, const std::string& name, const std::shared_ptr<Backend>& cpu_backend,
                 const std::shared_ptr<Backend>& cuda_backend, Tally& tally) {
    auto ref = test::load_reference(dir);
    if (!ref) return tally.check(false, name + ": reference", ref.message());
    auto model = load_model(dir);
    if (!model) return tally.check(false, name + ": load", model.message());
    auto cpu = Engine::create(model.value(), cpu_backend);
    if (!cpu) return tally.check(false, name + ": CPU engine", cpu.message());
    const uint64_t bytes_before = cuda_backend->bytes_allocated();
    auto cuda = Engine::create(model.value(), cuda_backend);
    if (!cuda) return tally.check(false, name + ": CUDA engine", cuda.message());
    const ModelConfig& c = model.value()->config;
    const int T = int(ref->input_ids.size());

    // ---- device memory ------------------------------------------------------------------------------
    {
        const uint64_t want = model.value()->n_params() * sizeof(float);  // unique tensors, tied ones once
        const uint64_t on_device = cuda.value()->weight_bytes_on_device();
        const uint64_t held = cuda_backend->bytes_allocated() - bytes_before;
        tally.check(on_device == want && held == want, name + ": weights in device memory",
                    std::to_string(on_device) + " bytes counted, " + std::to_string(held) + " allocated, " +
                        std::to_string(want) + " expected (float32, tied tensors once)");
    }

    // ---- the CUDA prefill against Hugging Face ------------------------------------------------------
    {
        std::string error;
        TraceOptions trace;
        trace.attention = RowSelection::new_rows;
        trace.kv = RowSelection::new_rows;
        auto s = make_session(cuda.value(), SessionMode::cached, trace, error);
        if (!s) return tally.check(false, name + ": CUDA session", error);
        const uint64_t held = cuda_backend->bytes_allocated() - bytes_before;
        const uint64_t cache = s->cache()->bytes_allocated() + cuda.value()->weight_bytes_on_device();
        tally.check(held >= cache, name + ": KV cache in device memory",
                    std::to_string(held) + " bytes held >= weights + cache " + std::to_string(cache));
        auto t = s->prefill(ref->input_ids, true);
        if (!t) return tally.check(false, name + ": CUDA prefill", t.message());
        const double logits = max_diff(s->logits(), ref->logits.values);
        double attention = 0.0, kv = 0.0;
        for (int l = 0; l < c.n_layers; ++l) {
            attention = std::max(
                attention, max_diff(t.value()->attention[size_t(l)].probs, ref->attention[size_t(l)].values));
            kv = std::max(kv, max_diff(t.value()->kv[size_t(l)].k, ref->cache_key[size_t(l)].values));
            kv = std::max(kv, max_diff(t.value()->kv[size_t(l)].v, ref->cache_value[size_t(l)].values));
        }
        tally.check(
            logits <= kReferenceTolerance && attention <= kReferenceTolerance && kv <= kReferenceTolerance,
            name + ": CUDA prefill vs Hugging Face",
            "logits " + fmt(logits) + ", attention " + fmt(attention) + ", K/V " + fmt(kv) +
                " (max |diff|, tol " + fmt(kReferenceTolerance) + ")");
    }

    // ---- lockstep to the full context, both modes ----------------------------------------------------
    std::vector<int32_t> cpu_tokens;
    for (SessionMode mode : {SessionMode::cached, SessionMode::uncached}) {
        const std::string label = name + ": " + session_mode_name(mode) + " CPU vs CUDA to context " +
                                  std::to_string(c.context_length);
        std::vector<float> truncate_logits;
        const bool cached = mode == SessionMode::cached;
        auto r = run_lockstep(cpu.value(), cuda.value(), mode, ref.value(),
                              cached ? &truncate_logits : nullptr, T + 2);
        if (!r) {
            tally.check(false, label, r.message());
            continue;
        }
        const Lockstep& x = r.value();
        const bool ok = x.logits <= kLogitTolerance && x.id_mismatches == 0 && x.reference_mismatches == 0 &&
                        x.attention <= kTraceTolerance && x.kv <= kTraceTolerance &&
                        x.counter_mismatches == 0 && x.silent_timers == 0;
        std::string detail = std::to_string(x.steps) + " steps; logits " + fmt(x.logits) + " (tol " +
                             fmt(kLogitTolerance) + "), ids differ " + std::to_string(x.id_mismatches) +
                             ", vs HF greedy " + std::to_string(x.reference_mismatches) + ", attention " +
                             fmt(x.attention) + ", K/V " + fmt(x.kv) + ", counters differ " +
                             std::to_string(x.counter_mismatches) + ", silent timers " +
                             std::to_string(x.silent_timers);
        if (!x.first_mismatch.empty()) detail += "; first id mismatch at " + x.first_mismatch;
        if (!x.first_counter_mismatch.empty())
            detail += "; first counter mismatch at " + x.first_counter_mismatch;
        tally.check(ok, label, detail);
        if (cached) {
            cpu_tokens = x.cpu_tokens;
            const double d = truncate_logits.empty() ? INFINITY : truncate_logits[0];
            tally.check(d <= 1e-6, name + ": CUDA truncate then decode again",
                        "logits differ by " + fmt(d) + " of their largest");
        }
    }

    // ---- two sessions on two threads (the app's race mode) --------------------------------------------
    {
        const int steps = std::min(40, c.context_length - T);
        std::vector<int32_t> got[2];
        std::string errors[2];
        auto run = [&](int which) {
            std::string error;
            TraceOptions off = TraceOptions::off();
            off.top_k = 1;
            auto s = make_session(cuda.value(), which == 0 ? SessionMode::cached : SessionMode::uncached, off,
                                  error);
            if (!s) {
                errors[which] = error;
                return;
            }
            auto t = s->prefill(ref->input_ids);
            for (int i = 0; t && i <= steps; ++i) {
                got[which].push_back(t.value()->chosen);
                if (i < steps) t = s->decode(t.value()->chosen);
            }
            if (!t) errors[which] = t.message();
        };
        std::thread t0(run, 0), t1(run, 1);
        t0.join();
        t1.join();
        const std::vector<int32_t> want(cpu_tokens.begin(),
                                        cpu_tokens.begin() + std::min<size_t>(cpu_tokens.size(), steps + 1));
        const bool ok = errors[0].empty() && errors[1].empty() && got[0] == want && got[1] == want;
        tally.check(ok, name + ": cached and uncached CUDA sessions on two threads",
                    errors[0] + errors[1] +
                        (ok ? std::to_string(steps) + " steps each, the CPU's tokens" : " tokens differ"));
    }
}

}  // namespace

void run_session_parity(const std::string& fixtures, const std::shared_ptr<Backend>& cpu,
                        const std::shared_ptr<Backend>& cuda, const std::string& filter, Tally& tally) {
    for (const char* name : kModels) {
        if (!filter.empty() && std::string(name).find(filter) == std::string::npos) continue;
        check_model(fixtures + "/" + name, name, cpu, cuda, tally);
    }
    // Errors a user can act on, not crashes.
    auto huge = cuda->allocate(size_t(1) << 40);
    tally.check(!huge && huge.message().find("out of device memory") != std::string::npos,
                "CUDA: a 4 TiB allocation fails with a message", huge ? "it succeeded" : huge.message());
    auto missing = make_cuda_backend(4096);
    tally.check(!missing && missing.message().find("does not exist") != std::string::npos,
                "CUDA: device 4096 is refused with a message",
                missing ? "it was accepted" : missing.message());
}

}  // namespace kvscope::parity
