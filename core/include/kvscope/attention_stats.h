// attention_stats.h — which attention head is worth showing first, from the probabilities a step recorded.
//
// Many heads of a small model spread their attention thinly or stare at the first token; a class learns
// more from a head with a clear pattern. Two measures, over the query rows a trace holds:
//   previous_token  the mean weight a query gives the token just before it (a diagonal below the main one);
//   entropy_spread  the standard deviation, over query rows, of each row's entropy divided by the entropy
//                   of a uniform row of the same length: rows that differ (some sharp, some broad).
// informative_head() picks the head with the clearest previous-token diagonal when one is clear
// (previous_token ≥ 0.4), else the one with the largest entropy spread.
#pragma once

#include <vector>

#include "kvscope/trace.h"

namespace kvscope {

struct HeadScore {
    int layer = 0, head = 0;
    double previous_token = 0.0;
    double entropy_spread = 0.0;
};

// Every layer and query head of the trace (layers without recorded rows are skipped).
std::vector<HeadScore> score_heads(const StepTrace& trace, int n_heads);
// The head to show first; {0, 0} when the trace has no attention rows.
HeadScore informative_head(const StepTrace& trace, int n_heads);

}  // namespace kvscope
