// complexity.h — the growth rates a run's counters show, fitted rather than asserted.
//
// On a log-log chart a cost c(n) ∝ n^k is a straight line of slope k. Over a run's steps (x = tokens in
// the sequence): attention FLOPs per token have slope 1 cached (one query over n keys) and 2 uncached
// (n queries over up to n keys); the cumulative totals add one: 2 and 3. The weights' FLOPs per token
// have slope 0 cached (one row) and 1 uncached (n rows), so while they dominate, the total per token looks
// flat vs linear: the toy model never leaves that regime (its crossover is past its context).
#pragma once

#include <span>

#include "kvscope/counters.h"
#include "kvscope/flop_groups.h"

namespace kvscope {

// Least-squares slope of log(y) against log(x) over the points with x > 0 and y > 0; 0 with fewer than 2
// such points or all x equal.
double loglog_slope(std::span<const double> x, std::span<const double> y);

// The context at which attention FLOPs per token would equal the weights', from one measured cached
// decode step that attended over `keys` keys: weights ÷ (attention ÷ keys). 0 without attention.
double measured_attention_crossover(const Counters& cached_decode_step, double keys);

}  // namespace kvscope
