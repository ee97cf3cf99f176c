// prompt_sweep.h — the pause before the first word: time to first token against prompt length.
//
// For each prompt length P a fresh cached session runs the prefill of P tokens (the whole prompt in one
// pass; its wall time, sampling included, is the time to the first token), then `decode_steps` decode
// steps, whose median is the steady streaming speed that follows. The same tokens prefix every prompt,
// so lengths differ only in length. An untimed prefill and decode step of the shortest prompt come first
// (a process's first step pays for page faults and thread start-up). Shared by `kvscope-cli bench
// --prompt-lengths` and the app's "First token" view.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "kvscope/session.h"

namespace kvscope {

struct PromptSweepRow {
    int prompt = 0;
    double ttft_seconds = 0;    // the prefill step's wall time
    double decode_seconds = 0;  // median decode step after it
    Counters prefill;           // the prefill step's counters
    Counters decode;            // the median decode step's counters
};

// tokens: at least max(lengths) + decode_steps ids. on_row (optional) sees each row as it is measured.
Result<std::vector<PromptSweepRow>> run_prompt_sweep(
    const std::shared_ptr<const Engine>& engine, std::span<const int> lengths, int decode_steps,
    std::span<const int32_t> tokens, const std::atomic<bool>* cancel = nullptr,
    const std::function<void(const PromptSweepRow&)>& on_row = {});

}  // namespace kvscope
