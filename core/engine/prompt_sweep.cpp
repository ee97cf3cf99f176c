// prompt_sweep.cpp — time to first token against prompt length (kvscope/prompt_sweep.h).
#include "kvscope/prompt_sweep.h"

#include <algorithm>
#include <string>

namespace kvscope {

Result<std::vector<PromptSweepRow>> run_prompt_sweep(
    const std::shared_ptr<const Engine>& engine, std::span<const int> lengths, int decode_steps,
    std::span<const int32_t> tokens, const std::atomic<bool>* cancel,
    const std::function<void(const PromptSweepRow&)>& on_row) {
    std::vector<PromptSweepRow> rows;
    decode_steps = std::max(1, decode_steps);
    for (int p : lengths) {
        if (p < 1) return Status::error("prompt length " + std::to_string(p) + ": must be at least 1");
        if (size_t(p) + size_t(decode_steps) > tokens.size())
            return Status::error("prompt length " + std::to_string(p) + " + " + std::to_string(decode_steps) +
                                 " decode steps: only " + std::to_string(tokens.size()) + " tokens given");
    }
    auto measure = [&](int p) -> Result<PromptSweepRow> {
        SessionOptions so;
        so.mode = SessionMode::cached;
        so.capacity = p + decode_steps;
        so.trace = TraceOptions::off();
        auto session = Session::create(engine, so);
        if (!session) return session.status();
        Session& s = *session.value();
        s.set_cancel_flag(cancel);
        auto pre = s.prefill(tokens.subspan(0, size_t(p)));
        if (!pre) return pre.status().with_context("prefill of " + std::to_string(p) + " tokens");
        PromptSweepRow row;
        row.prompt = p;
        row.ttft_seconds = pre.value()->counters.wall_seconds;
        row.prefill = pre.value()->counters;
        std::vector<std::pair<double, Counters>> steps;
        for (int i = 0; i < decode_steps; ++i) {
            auto st = s.decode(tokens[size_t(p + i)]);
            if (!st) return st.status();
            steps.emplace_back(st.value()->counters.wall_seconds, st.value()->counters);
        }
        std::sort(steps.begin(), steps.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        row.decode_seconds = steps[steps.size() / 2].first;
        row.decode = steps[steps.size() / 2].second;
        return row;
    };
    // The shortest prompt once, untimed, first: the first steps of a process pay for page faults on the
    // weights, first allocations and thread start-up (the shortest prompt measured slower than prompts
    // twice as long).
    if (!lengths.empty())
        if (auto warm = measure(lengths.front()); !warm) return warm.status().with_context("warming up");
    for (int p : lengths) {
        auto row = measure(p);
        if (!row) return row.status();
        if (on_row) on_row(row.value());
        rows.push_back(std::move(row.value()));
    }
    return rows;
}

}  // namespace kvscope
