#include "kvscope/logit_compare.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace kvscope {

namespace {
double log_sum_exp(std::span<const float> x, float mx) {
    double sum = 0.0;
    for (float v : x)
        sum += std::exp(double(v) - mx);
    return double(mx) + std::log(sum);
}
int32_t argmax(std::span<const float> x) {
    return int32_t(std::max_element(x.begin(), x.end()) - x.begin());  // first of equal maxima
}
}  // namespace

LogitComparison compare_logits(std::span<const float> p_logits, std::span<const float> q_logits) {
    assert(p_logits.size() == q_logits.size() && !p_logits.empty() &&
           "compare_logits: rows of one vocabulary");
    LogitComparison r;
    r.exact_top1 = argmax(p_logits);
    r.variant_top1 = argmax(q_logits);
    const double lse_p = log_sum_exp(p_logits, p_logits[size_t(r.exact_top1)]);
    const double lse_q = log_sum_exp(q_logits, q_logits[size_t(r.variant_top1)]);
    double kl = 0.0;
    for (size_t i = 0; i < p_logits.size(); ++i) {
        const double lp = double(p_logits[i]) - lse_p, lq = double(q_logits[i]) - lse_q;
        kl += std::exp(lp) * (lp - lq);
        r.max_abs_logit_diff = std::max(r.max_abs_logit_diff, std::abs(double(p_logits[i]) - q_logits[i]));
    }
    r.kl = std::max(0.0, kl);  // rounding can leave −1e-17 for identical rows
    return r;
}

double token_nll(std::span<const float> logits, int32_t token) {
    assert(token >= 0 && size_t(token) < logits.size() && "token_nll: token outside the row");
    const float mx = *std::max_element(logits.begin(), logits.end());
    return log_sum_exp(logits, mx) - double(logits[size_t(token)]);
}

}  // namespace kvscope
