// layout_renderer.h — the whole side-by-side picture in one framebuffer: for each run (with and without
// a KV cache) a header, the token strip, the KV cache, the attention and the counters, and below both
// the plots. The on-screen window arranges the same renderers in dockable widgets instead; this layout
// is what export (and the GUI tests) draw offscreen, at any resolution, without a window.
#pragma once

#include <array>
#include <memory>

#include "views/attention_renderer.h"
#include "views/counters_renderer.h"
#include "views/kv_cache_renderer.h"
#include "views/plots_renderer.h"
#include "views/token_strip_renderer.h"

namespace kvscope::app {

class LayoutRenderer : public ViewRenderer {
  public:
    LayoutRenderer();
    const char* name() const override { return "layout"; }
    void releaseGL(GlResources& gl) override;
    void render(FrameContext& frame) override;
    bool animating() const override;

    KvCacheRenderer& kvCache(Side side) { return *m_panes[size_t(sideIndex(side))].kv; }
    AttentionRenderer& attention(Side side) { return *m_panes[size_t(sideIndex(side))].attention; }

  private:
    struct Pane {
        std::unique_ptr<TokenStripRenderer> tokens;
        std::unique_ptr<KvCacheRenderer> kv;
        std::unique_ptr<AttentionRenderer> attention;
        std::unique_ptr<CountersRenderer> counters;
    };
    void renderChild(FrameContext& frame, ViewRenderer& child, Side side, const QRectF& rect);
    std::array<Pane, kSideCount> m_panes;
    PlotsRenderer m_plots;
};

// The header strip of a run's pane: its title in the run's colour, and a one-line status.
void drawPaneHeader(FrameContext& frame, Side side, const QRectF& rect);

}  // namespace kvscope::app
