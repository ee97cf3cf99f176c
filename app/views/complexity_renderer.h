// complexity_renderer.h — the "Complexity" view: FLOPs per token split into attention (QKᵀ, softmax, ·V:
// grows with the context) and weights (projections, MLP, lm_head: constant per row), both runs, on
// log-log axes with the slopes fitted to the run's own counters (attention per token: 1 cached, 2
// uncached; totals so far: 2 and 3); where attention overtakes the weights for the loaded model (measured)
// and for real shapes (formula: kvscope/scale.h) — why the toy looks linear and a 128K model does not.
#pragma once

#include "views/view_renderer.h"

namespace kvscope::app {

class ComplexityRenderer : public ViewRenderer {
  public:
    const char* name() const override { return "complexity"; }
    void render(FrameContext& frame) override;
    bool affectedBy(const StoreChange& change, Side) const override;

    struct Fit {
        double attentionPerToken[kSideCount] = {};  // slope of attention FLOPs per decode step
        double attentionSoFar[kSideCount] = {};     // slope of cumulative attention FLOPs
        double totalSoFar[kSideCount] = {};         // slope of cumulative FLOPs, everything
        double crossover = 0;                       // measured n* of the loaded model (0: not yet)
        int points = 0;                             // decode steps fitted
    };
    // Slopes over the decode steps of the second half of the run so far (where the leading power shows).
    static Fit fit(const TraceStore& store);
    static QStringList narration(const TraceStore& store);
};

}  // namespace kvscope::app
