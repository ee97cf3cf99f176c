#include "kvscope/attention_stats.h"

#include <cmath>

namespace kvscope {

std::vector<HeadScore> score_heads(const StepTrace& trace, int n_heads) {
    std::vector<HeadScore> scores;
    for (int l = 0; l < int(trace.attention.size()); ++l) {
        const LayerAttention& a = trace.attention[size_t(l)];
        if (!a.well_formed(n_heads)) continue;
        std::vector<float> row(size_t(a.n_keys));
        for (int h = 0; h < n_heads; ++h) {
            HeadScore s;
            s.layer = l;
            s.head = h;
            double prev = 0.0, sum = 0.0, sum_sq = 0.0;
            int n_prev = 0, n_rows = 0;
            for (int r = 0; r < a.n_rows; ++r) {
                const int query = a.row_begin + r;
                const int keys = std::min(query + 1, a.n_keys);  // causal: keys [0, query]
                a.read_row(h, r, row.data());
                const float* w = row.data();
                if (query >= 1 && query - 1 < a.n_keys) {
                    prev += w[query - 1];
                    ++n_prev;
                }
                if (keys < 2) continue;  // one key: entropy 0 of 0, says nothing
                double entropy = 0.0;
                for (int k = 0; k < keys; ++k)
                    if (w[k] > 0.0f) entropy -= double(w[k]) * std::log(double(w[k]));
                const double normalised = entropy / std::log(double(keys));
                sum += normalised;
                sum_sq += normalised * normalised;
                ++n_rows;
            }
            s.previous_token = n_prev > 0 ? prev / n_prev : 0.0;
            if (n_rows > 1) {
                const double mean = sum / n_rows;
                s.entropy_spread = std::sqrt(std::max(0.0, sum_sq / n_rows - mean * mean));
            }
            scores.push_back(s);
        }
    }
    return scores;
}

HeadScore informative_head(const StepTrace& trace, int n_heads) {
    const std::vector<HeadScore> scores = score_heads(trace, n_heads);
    HeadScore best;
    for (const HeadScore& s : scores)
        if (s.previous_token > best.previous_token) best = s;
    if (best.previous_token >= 0.4) return best;
    best = {};
    for (const HeadScore& s : scores)
        if (s.entropy_spread > best.entropy_spread) best = s;
    return best;
}

}  // namespace kvscope
