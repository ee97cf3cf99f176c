// roofline_renderer.h — the "Roofline" view: this machine's measured roofs (peak FLOP/s of a GEMM, memory
// bandwidth, and the faster roof of data the CPU's caches hold) on log-log axes, and every step of both
// runs as a point (FLOPs per byte moved, FLOP/s achieved): the prefill near the compute roof, cached
// decode under the bandwidth roof, uncached decode moving right as it recomputes. The selected step is
// told in words with its numbers. Figures from core's kvscope/roofline.h; the roofs from the host
// (measured once, kept in the settings).
#pragma once

#include <memory>

#include "kvscope/roofline.h"
#include "views/view_renderer.h"

namespace kvscope::app {

class RooflineRenderer : public ViewRenderer {
  public:
    // `peaks` (owned by the host) may be invalid: the view then says how to measure.
    explicit RooflineRenderer(const MachinePeaks* peaks) : m_peaks(peaks) {}
    // Export: a renderer with its own copy of the roofs.
    explicit RooflineRenderer(const MachinePeaks& owned)
        : m_owned(std::make_unique<MachinePeaks>(owned)), m_peaks(m_owned.get()) {}
    const char* name() const override { return "roofline"; }
    void render(FrameContext& frame) override;

    struct StepPoint {
        Side side;
        int step;
        Phase phase;
        int tokens;         // rows run through the layers
        double workingSet;  // weights + KV held during the step (bytes)
        RooflinePoint point;
    };
    static std::vector<StepPoint> points(const TraceStore& store);
    // The selected step in words, with its numbers against the roofs.
    static QStringList narration(const MachinePeaks& peaks, const TraceStore& store);

  private:
    std::unique_ptr<MachinePeaks> m_owned;
    const MachinePeaks* m_peaks;
};

}  // namespace kvscope::app
