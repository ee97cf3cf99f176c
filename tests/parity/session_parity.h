// session_parity.h — whole sessions on the CUDA backend against the same sessions on the CPU, on every
// fixture model, cached and uncached, to each model's full context.
//
// Per model: the CUDA prefill against the Hugging Face reference (logits, attention, KV cache; 1e-4 as
// the fixtures allow); then a CPU and a CUDA session of each mode run in lockstep (both fed the CPU's
// greedy token) and at every step the logits agree within 1e-3 of the CPU's largest, the greedy ids are
// identical, the recorded attention rows and K/V rows agree, and the counted FLOPs and bytes are
// identical (they are counted, not measured) while the CUDA op timers are running. Then: truncate and
// step again reproduces the logits; two CUDA sessions on two threads give the CPU's tokens; device
// memory figures add up; an impossible allocation fails with a message.
#pragma once

#include <memory>
#include <string>

#include "kvscope/backend.h"
#include "parity/report.h"

namespace kvscope::parity {

// `fixtures`: the folder holding tiny-gpt2/, tiny-llama-gqa/, ...; `filter`: run only models whose
// folder name contains it.
void run_session_parity(const std::string& fixtures, const std::shared_ptr<Backend>& cpu,
                        const std::shared_ptr<Backend>& cuda, const std::string& filter, Tally& tally);

}  // namespace kvscope::parity
