// trace.h — what one engine step did, as an immutable value.
//
// A StepTrace is made by a Session at the end of a step and never changed afterwards; it crosses threads
// as shared_ptr<const StepTrace>. It holds what the views draw: the tokens fed, the attention rows and
// the K/V rows computed (as selected by TraceOptions), the top logits, the token chosen and the counters.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kvscope/counters.h"
#include "kvscope/sampler.h"

namespace kvscope {

enum class SessionMode { cached, uncached };
enum class Phase { prefill, decode };
const char* session_mode_name(SessionMode mode);
const char* phase_name(Phase phase);

// Which rows a step records. "new" rows are those a cached run computes (the prompt, then one per step);
// "computed" adds the rows an uncached run recomputes every step (all of them).
enum class RowSelection { none, new_rows, computed_rows };

struct TraceOptions {
    RowSelection attention = RowSelection::new_rows;
    RowSelection kv = RowSelection::new_rows;
    int top_k = 10;
    bool logits = false;  // keep the whole last logits row
    static TraceOptions off() { return {RowSelection::none, RowSelection::none, 0, false}; }
};

// Attention probabilities of one layer: rows for query positions [row_begin, row_begin + n_rows), each
// over keys [0, n_keys) with n_keys = row_begin + n_rows; row r is causal: zero past key row_begin + r.
struct LayerAttention {
    int row_begin = 0;
    int n_rows = 0;
    int n_keys = 0;
    std::vector<float> probs;  // [n_heads][n_rows][n_keys]
    const float* row(int head, int r) const { return probs.data() + (size_t(head) * n_rows + r) * n_keys; }
};

// K and V rows of one layer written this step, for positions [row_begin, row_begin + n_rows).
struct LayerKV {
    int row_begin = 0;
    int n_rows = 0;
    std::vector<float> k;  // [n_kv_heads][n_rows][head_dim]
    std::vector<float> v;  // [n_kv_heads][n_rows][head_dim]
};

struct StepTrace {
    int64_t step = 0;  // 0 is the prefill
    Phase phase = Phase::prefill;
    SessionMode mode = SessionMode::cached;
    int pos_begin = 0, pos_end = 0;  // positions of the tokens fed this step: [pos_begin, pos_end)
    int computed_begin = 0;          // first position run through the layers (uncached: 0)
    int n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0, vocab_size = 0, capacity = 0;

    std::vector<int32_t> input_tokens;      // fed this step (prefill: the prompt)
    std::vector<LayerAttention> attention;  // per layer, empty when not recorded
    std::vector<LayerKV> kv;                // per layer, empty when not recorded

    std::vector<TokenProb> top;  // top-k of the last row
    std::vector<float> logits;   // the last logits row, when recorded
    int32_t chosen = -1;         // the token sampled from the last row (fed to the next step)
    float chosen_prob = 0.0f;

    Counters counters;    // this step
    Counters cumulative;  // the session so far, this step included
};

using StepTracePtr = std::shared_ptr<const StepTrace>;

}  // namespace kvscope
