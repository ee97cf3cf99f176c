// layout_renderer.h — whole pictures made of several views in one framebuffer, for export and the GUI
// tests, at any resolution and without a window (the on-screen window arranges the same renderers in
// dockable widgets instead):
//   PaneRenderer    one run (with or without a KV cache): a header, the token strip, the KV cache, the
//                   attention and the counters;
//   LayoutRenderer  the side-by-side picture: both runs' panes, and below them the plots of both.
#pragma once

#include <array>
#include <memory>

#include "views/attention_renderer.h"
#include "views/counters_renderer.h"
#include "views/kv_cache_renderer.h"
#include "views/plots_renderer.h"
#include "views/token_strip_renderer.h"

namespace kvscope::app {

class PaneRenderer : public ViewRenderer {
  public:
    explicit PaneRenderer(Side side);
    const char* name() const override { return "pane"; }
    void releaseGL(GlResources& gl) override;
    void render(FrameContext& frame) override;  // draws run `side` whatever frame.side says
    bool animating() const override { return m_kv.animating(); }

    Side side() const { return m_side; }
    KvCacheRenderer& kvCache() { return m_kv; }
    AttentionRenderer& attention() { return m_attention; }

  private:
    Side m_side;
    TokenStripRenderer m_tokens;
    KvCacheRenderer m_kv;
    AttentionRenderer m_attention;
    CountersRenderer m_counters;
};

class LayoutRenderer : public ViewRenderer {
  public:
    LayoutRenderer();
    const char* name() const override { return "layout"; }
    void releaseGL(GlResources& gl) override;
    void render(FrameContext& frame) override;
    bool animating() const override;

    PaneRenderer& pane(Side side) { return m_panes[size_t(sideIndex(side))]; }
    KvCacheRenderer& kvCache(Side side) { return pane(side).kvCache(); }
    AttentionRenderer& attention(Side side) { return pane(side).attention(); }

  private:
    std::array<PaneRenderer, kSideCount> m_panes;
    PlotsRenderer m_plots;
};

// Draws `child` for run `side` in `rect`, on a panel (the frame every view of a layout sits in).
void renderOnPanel(FrameContext& frame, ViewRenderer& child, Side side, const QRectF& rect);
// The header strip of a run's pane: its title in the run's colour, and a one-line status.
void drawPaneHeader(FrameContext& frame, Side side, const QRectF& rect);

}  // namespace kvscope::app
