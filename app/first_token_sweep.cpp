#include "first_token_sweep.h"

#include <algorithm>
#include <random>

#include "engine_worker.h"
#include "kvscope/session.h"

namespace kvscope::app {

std::vector<int> firstTokenLengths(int limit, int decodeSteps) {
    std::vector<int> lengths;
    const int longest = std::min(limit - decodeSteps, 2048);
    for (int p = 16; p <= longest; p *= 2)
        lengths.push_back(p);
    if (longest >= 1 && (lengths.empty() || lengths.back() != longest)) lengths.push_back(longest);
    return lengths;
}

Result<FirstTokenPlan> planFirstTokenSweep(const ModelInfo& info) {
    if (!info.valid()) return Status::error("no model is loaded");
    FirstTokenPlan plan;
    const int limit = info.capacity > 0 ? info.capacity : info.config().context_length;
    plan.sweep.lengths = firstTokenLengths(limit, kFirstTokenDecodeSteps);
    plan.sweep.model = info.displayName;
    if (plan.sweep.lengths.empty())
        return Status::error("this model's context (" + std::to_string(limit) +
                             " tokens) is too short to sweep");
    plan.model = info.model;
    plan.backend = make_cpu_backend(lockstepThreads());
    plan.sweep.device = QString::fromStdString(plan.backend->name());
    plan.tokens.resize(size_t(plan.sweep.lengths.back() + kFirstTokenDecodeSteps));
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> pick(0, info.config().vocab_size - 1);
    for (int32_t& t : plan.tokens)
        t = pick(rng);
    return plan;
}

Result<std::vector<PromptSweepRow>> runFirstTokenSweep(
    const FirstTokenPlan& plan, const std::atomic<bool>* cancel,
    const std::function<void(const PromptSweepRow&)>& on_row) {
    auto engine = Engine::create(plan.model, plan.backend);
    if (!engine) return engine.status();
    return run_prompt_sweep(engine.value(), plan.sweep.lengths, kFirstTokenDecodeSteps, plan.tokens, cancel,
                            on_row);
}

}  // namespace kvscope::app
