// lab.h — the cache techniques lab: the exact cache and cache variants run over the same text,
// teacher-forced, and compared token by token. What `kvscope-cli lab` prints; the numbers come from real
// runs, nothing else.
//
// The text is cut into segments of `segment_tokens` tokens. In each segment every run starts empty, takes the
// segment's first token as its prompt and then decodes the rest one token at a time, fed the text's tokens
// (teacher forcing); the logits after token i score token i + 1. The exact run stops at the model's context;
// a segment longer than that is where only bounded caches go on ("past the context").
// Per variant: perplexity (exp of the mean negative log-likelihood of the next token), and, at the positions
// the exact run also scored, the mean KL(exact ‖ variant), the top-1 agreement and the largest |Δ logit|;
// the KV bytes the cache held after the last step of a segment (scales included); perplexity per window of
// `window_tokens` positions.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kvscope/cache_policy.h"
#include "kvscope/session.h"

namespace kvscope {

struct LabOptions {
    int segment_tokens = 0;  // 0: the model's context
    int max_segments = 0;    // 0: every whole segment of the text
    int window_tokens = 0;   // per-window perplexity; 0: the model's context
    const std::atomic<bool>* cancel = nullptr;
    std::function<void(int segment, int segments)> progress;  // after each segment
};

struct LabWindow {
    int begin = 0, end = 0;  // positions within a segment
    double nll_sum = 0.0;
    int64_t tokens = 0;
    double perplexity() const;
};

struct LabResult {
    std::string spec;   // "exact", "int4:group=32", ...
    std::string label;  // in words
    double bytes_per_value = 4.0;
    uint64_t kv_bytes_held = 0;   // after a segment's last step (the largest over segments)
    uint64_t kv_bytes_exact = 0;  // the exact f32 cache at that length (what it would hold, were it able)
    double nll_sum = 0.0;
    int64_t tokens = 0;  // positions scored
    // Against the exact run, where it ran:
    int64_t compared = 0;
    double kl_sum = 0.0;
    int64_t top1_agree = 0;
    double max_abs_logit_diff = 0.0;
    std::vector<LabWindow> windows;

    double perplexity() const;
    double mean_kl() const { return compared ? kl_sum / double(compared) : 0.0; }
    double top1_agreement() const { return compared ? double(top1_agree) / double(compared) : 0.0; }
};

struct LabReport {
    int segment_tokens = 0, segments = 0, context = 0;
    int64_t text_tokens = 0;
    LabResult exact;
    std::vector<LabResult> variants;
};

Result<LabReport> run_lab(const std::shared_ptr<Engine>& engine, std::span<const int32_t> text,
                          const std::vector<CachePolicy>& variants, const LabOptions& options);

}  // namespace kvscope
