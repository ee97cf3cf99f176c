// plots_renderer.h — both runs on the same charts, against the position in the sequence: time per
// token, FLOPs per token, cumulative FLOPs, and KV bytes (kept by the cached run; the uncached run keeps
// none, but builds a scratch copy as large during every step, drawn dashed). Decode steps are the lines of
// the per-token charts; the prefill (the whole prompt at once: the pause before the first word) is its own
// marker there. FLOPs per token also show attention's share (QKᵀ, softmax, ·V) dashed: the part that grows
// with the context. The selected step is marked.
// Wall time is noisy (one slow step must not flatten the rest): the time chart draws each step as a faint
// point and a running median as the line, scales to the median, and can switch to a log scale.
#pragma once

#include <functional>
#include <vector>

#include "views/view_renderer.h"

namespace kvscope::app {

class PlotsRenderer : public ViewRenderer {
  public:
    const char* name() const override { return "plots"; }
    void render(FrameContext& frame) override;
    bool affectedBy(const StoreChange& change, Side) const override;

    struct Point {
        double x, y;
    };
    struct Series {
        Side side;
        bool dashed = false;
        std::vector<Point> points;
        bool prefill = false;  // drawn as a marker (the prompt at once), not a line; may exceed the y range
        QString label;         // what the series is, for the hover
        bool faint = false;    // raw measurements drawn as faint points; the scale follows the other series
    };
    struct Chart {
        QString title;
        QString note;
        QString (*format)(double);
        std::vector<Series> series;
        bool logScaleOffered = false;  // the time chart: a log-scale switch in its corner
    };
    // The running median of `points` over `window` of them centred on each (the time chart's line).
    static std::vector<Point> runningMedian(const std::vector<Point>& points, int window);
    static constexpr int kMedianWindow = 9;
    bool logTime() const { return m_logTime; }
    void setLogTime(bool on) { m_logTime = on; }
    // The charts' data, from the store (every step of both runs).
    static std::vector<Chart> charts(const TraceStore& store);

  private:
    void drawChart(FrameContext& frame, const Chart& chart, ImVec2 a, ImVec2 b, double xMax,
                   double selectedX);
    bool m_logTime = false;
};

}  // namespace kvscope::app
