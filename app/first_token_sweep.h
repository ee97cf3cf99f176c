// first_token_sweep.h — the pause before the first word, measured: for prompts of growing length on the
// loaded model, the time to the first token (the prefill of the whole prompt) and the time of each token
// after it (core's prompt sweep, kvscope/prompt_sweep.h). The First token dock (first_token_panel.h) runs
// it on a worker thread as the user asks; `kvscope export --view first-token` runs it before drawing.
#pragma once

#include <QString>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "kvscope/backend.h"
#include "kvscope/prompt_sweep.h"
#include "kvscope/status.h"
#include "run_types.h"

namespace kvscope::app {

// What has been measured: rows as they arrive, and what is being done.
struct FirstTokenSweep {
    std::vector<PromptSweepRow> rows;
    std::vector<int> lengths;  // the lengths asked for (rows arrive in this order)
    QString model;             // the model measured
    QString device;            // the backend that ran it
    bool running = false;
};

// One sweep ready to run: the lengths, the backend and the tokens (pseudo-random ids, every prompt a
// prefix of the longest, the same as `kvscope-cli bench --prompt-lengths` uses).
struct FirstTokenPlan {
    FirstTokenSweep sweep;  // no rows yet
    std::shared_ptr<const Model> model;
    std::shared_ptr<Backend> backend;
    std::vector<int32_t> tokens;
};

inline constexpr int kFirstTokenDecodeSteps = 8;  // decode steps timed after each prefill (their median)

// Powers of two from 16 while a prompt and its decode steps fit in `limit` tokens (at most 2,048), and
// `limit` − decodeSteps itself when it is not one of them.
std::vector<int> firstTokenLengths(int limit, int decodeSteps);

// The plan for the loaded model, on the CPU with the runs' thread count; an error naming why there is none
// (no model, or a context too short to sweep).
Result<FirstTokenPlan> planFirstTokenSweep(const ModelInfo& info);

// Runs the plan (on any thread): each row to on_row as it is measured; `cancel` stops between lengths.
Result<std::vector<PromptSweepRow>> runFirstTokenSweep(
    const FirstTokenPlan& plan, const std::atomic<bool>* cancel,
    const std::function<void(const PromptSweepRow&)>& on_row);

}  // namespace kvscope::app
