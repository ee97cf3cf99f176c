// counters_renderer.h — what one run's steps cost, as numbers: this step and the run so far (FLOPs,
// wall time, tokens per second, bytes of weights and KV read, KV written and resident, tokens processed
// and recomputed), and this step's FLOPs split by op class. All numbers are the trace's counters, as
// the engine counted them; counterRows() is the one place that turns a trace into the rows shown.
#pragma once

#include <QString>
#include <vector>

#include "views/view_renderer.h"

namespace kvscope::app {

struct CounterRow {
    QString label;
    double step = 0;   // this step
    double total = 0;  // the run so far, this step included
    QString stepText, totalText;
    QString help;  // tooltip: what the number counts
};

// The rows the counters view shows for a trace. `generatedSoFar`: steps taken by the run so far (each
// step samples one token), for the overall tokens-per-second figure.
std::vector<CounterRow> counterRows(const StepTrace& trace, int stepsSoFar);

class CountersRenderer : public ViewRenderer {
  public:
    explicit CountersRenderer(Side side) : m_side(side) {}
    const char* name() const override { return "counters"; }
    void render(FrameContext& frame) override;
    bool affectedBy(const StoreChange& change, Side side) const override;

  private:
    Side m_side;
};

// A colour per op class, for the FLOP breakdown (same in every view and theme family).
QColor opClassColour(OpClass op, const Theme& theme);

}  // namespace kvscope::app
