// headline_renderer.h — presenter mode's one-line verdict: the selected step of both runs compared at the
// same sequence length, in large type ("Step 12 · 57 tokens — this step: 3.8 vs 147 MFLOP, 39× the work"),
// with the KV bytes the cached run holds and the work so far on a second line. Every number comes from
// the two runs' traces (their counters); in race mode the runs are compared at the longest length both
// have reached. Text wraps onto more lines (and, at the last resort, smaller type) rather than being cut.
#pragma once

#include "views/view_renderer.h"

namespace kvscope::app {

class HeadlineRenderer : public ViewRenderer {
  public:
    const char* name() const override { return "headline"; }
    void render(FrameContext& frame) override;
    bool affectedBy(const StoreChange& change, Side side) const override;

    // The step of run `side` that ends at sequence length `length`, or -1.
    static int stepAtLength(const TraceStore& store, Side side, int length);
    // The sequence length both runs are compared at for the selected step (-1: nothing yet).
    static int comparedLength(const TraceStore& store);
    // The headline's lines, in order (what render draws; tests read them).
    static QStringList lines(const TraceStore& store);
};

}  // namespace kvscope::app
