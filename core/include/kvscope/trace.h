// trace.h — what one engine step did, as an immutable value.
//
// A StepTrace is made by a Session at the end of a step and never changed afterwards; it crosses threads
// as shared_ptr<const StepTrace>. It holds what the views draw: the tokens fed, the attention rows and
// the K/V rows computed (as selected by TraceOptions), the top logits, the token chosen and the counters.
#pragma once

#include <algorithm>
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
    // Keep attention rows compact (LayerAttention::half): IEEE half precision, the causal zeros left out.
    // A history of every step holds layers x heads x T^2/2 weights; compact, a 30-layer, 9-head model's
    // 2,048 tokens take 1.1 GB instead of 4.5 (a prefill's square, 8.6 GB at float32).
    bool compact_attention = false;
    static TraceOptions off() { return {RowSelection::none, RowSelection::none, 0, false, false}; }
};

// Attention probabilities of one layer: rows for query positions [row_begin, row_begin + n_rows), each
// over keys [0, n_keys) with n_keys = row_begin + n_rows; row r is causal: zero past key row_begin + r.
// Held one of two ways:
//   full     `probs`, float32 [n_heads][n_rows][n_keys] (what the engine computes; eviction reads it);
//   compact  `half`, IEEE half precision (relative error ≤ 2^-11; below 6.1e-5 spaced 6e-8 apart), each
//            row only its causal keys: row r holds keys [0, row_begin + r] (TraceOptions::compact_attention).
// Readers that serve both use weight() and read_row(); row() is for the full form.
struct LayerAttention {
    int row_begin = 0;
    int n_rows = 0;
    int n_keys = 0;
    std::vector<float> probs;    // full: [n_heads][n_rows][n_keys]
    std::vector<uint16_t> half;  // compact: per head, rows one after another, row r its first row_keys(r)

    bool compact() const { return probs.empty() && !half.empty(); }
    // The keys row r can see (causal): row_begin + r + 1, at most n_keys.
    int row_keys(int r) const { return std::min(row_begin + r + 1, n_keys); }
    const float* row(int head, int r) const { return probs.data() + (size_t(head) * n_rows + r) * n_keys; }
    // The compact row's first value; row_keys(r) values follow.
    const uint16_t* half_row(int head, int r) const { return half.data() + compact_offset(head, r); }
    // The weight of key `key` in row r, in either form (0 past the causal end).
    float weight(int head, int r, int key) const;
    // Row r as n_keys floats in either form (zeros past the causal end).
    void read_row(int head, int r, float* out) const;
    // Whether the values present match the shape (a trace read from outside may not).
    bool well_formed(int n_heads) const;
    size_t bytes() const { return probs.size() * sizeof(float) + half.size() * sizeof(uint16_t); }

  private:
    size_t compact_offset(int head, int r) const {
        const size_t per_head = compact_row_offset(n_rows);
        return size_t(head) * per_head + compact_row_offset(r);
    }
    // Values before row r of one head: rows 0..r−1 hold (row_begin + 1) + ... + (row_begin + r) keys
    // (n_keys ≥ row_begin + n_rows, so no row is cut short).
    size_t compact_row_offset(int r) const {
        return size_t(r) * size_t(row_begin + 1) + size_t(r) * (r - 1) / 2;
    }
};

// The compact form of a full layer (half precision, causal keys only); a compact one is returned as is.
LayerAttention compact_attention(LayerAttention full, int n_heads);
// IEEE half precision to float and back (round to nearest even), as the compact form stores weights.
float half_to_float(uint16_t bits);
uint16_t float_to_half(float value);

// K and V rows of one layer written this step, for positions [row_begin, row_begin + n_rows): the values
// the attention reads (a quantized cache's rows dequantized).
struct LayerKV {
    int row_begin = 0;
    int n_rows = 0;
    std::vector<float> k;  // [n_kv_heads][n_rows][head_dim]
    std::vector<float> v;  // [n_kv_heads][n_rows][head_dim]
    // The same rows as the model computed them, before the cache's element type rounded them; empty when
    // the cache stores float32 (then they equal k and v). Error = k − k_computed.
    std::vector<float> k_computed;
    std::vector<float> v_computed;
};

// What the cache holds after a step: its storage policy and its row map (which position each row holds).
// Views and counters read sizes and positions from here, never assuming 4 bytes or row r = position r.
struct CacheState {
    std::string policy = "exact";  // the variant spec (cache_policy.h): "int4:group=32", "sinks:S=4,W=60"
    std::string label = "exact (f32)";  // in words
    std::string element = "f32";        // f32, f16, bf16, int8, int4
    double bytes_per_value = 4.0;       // scales included
    uint64_t row_bytes = 0;             // one head's K (or V) row, scales included
    int rows = 0;                       // rows held per layer and KV head
    bool contiguous = true;             // row r holds position r; positions is then empty
    bool reindexed = false;             // RoPE by row in the cache rather than by position
    int sinks = 0;                      // positions 0 .. sinks−1 are kept as attention sinks
    std::vector<int32_t> positions;     // [n_layers][n_kv_heads][rows], ascending per head
    int n_kv_heads = 0;

    int position(int layer, int kv_head, int row) const {
        return contiguous ? row : positions[(size_t(layer) * n_kv_heads + kv_head) * rows + row];
    }
    // Whether the cache still holds `pos` for this layer and KV head (after the step).
    bool holds(int layer, int kv_head, int pos) const;
};

// A variant run measured against the exact run fed the same tokens (lockstep), on the last logits row.
struct Quality {
    bool measured = false;
    double kl = 0.0;  // KL(exact ‖ variant) of the next-token distributions, nats
    double max_abs_logit_diff = 0.0;
    bool top1_agrees = true;
    int32_t reference_top1 = -1;  // the exact run's most likely token
    // Running totals over the steps measured so far, this one included.
    int64_t steps = 0;
    double kl_sum = 0.0;
    int64_t top1_agreements = 0;
    double max_abs_logit_diff_so_far = 0.0;
    int64_t first_disagreement_step = -1;  // the first step whose top-1 differed; −1: none yet
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
    // The step's tokens and their K/V came from a saved cache (Session::restored_step): nothing was
    // computed (the counters are zero but for the wall time), no attention and no logits were recorded,
    // and `chosen` is the token the file says comes next.
    bool restored = false;

    CacheState cache;  // the cache after this step (cached mode; the uncached run's scratch otherwise)
    Quality quality;   // filled when the step was compared with a reference run
};

using StepTracePtr = std::shared_ptr<const StepTrace>;

}  // namespace kvscope
