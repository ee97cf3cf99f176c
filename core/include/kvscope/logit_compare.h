// logit_compare.h — how far a variant run's next-token distribution is from the exact run's.
//
// Both rows are raw logits over the same vocabulary. KL(P ‖ Q) with P = softmax(exact), Q = softmax(variant),
// in nats, computed in double with the log-sum-exp trick; max |Δ logit| is over the raw logits (no shift);
// top-1 compares the argmax of each row (ties: the lower token id, as top_k_tokens does).
#pragma once

#include <cstdint>
#include <span>

namespace kvscope {

struct LogitComparison {
    double kl = 0.0;
    double max_abs_logit_diff = 0.0;
    int32_t exact_top1 = -1, variant_top1 = -1;
    bool top1_agrees() const { return exact_top1 == variant_top1; }
};

LogitComparison compare_logits(std::span<const float> exact, std::span<const float> variant);
// −log softmax(logits)[token], nats: the teacher-forced loss of one position.
double token_nll(std::span<const float> logits, int32_t token);

}  // namespace kvscope
