#include "views/layout_renderer.h"

namespace kvscope::app {

void renderOnPanel(FrameContext& frame, ViewRenderer& child, Side side, const QRectF& rect) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    drawPanel(dl, ImVec2(float(rect.left()), float(rect.top())),
              ImVec2(float(rect.right()), float(rect.bottom())), frame.theme.panel, frame.theme.border,
              frame.px(4));
    FrameContext sub = frame;
    sub.side = side;
    sub.rect = rect;
    child.render(sub);
}

void drawPaneHeader(FrameContext& frame, Side side, const QRectF& rect) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const Theme& th = frame.theme;
    const ImVec2 a(float(rect.left()), float(rect.top())), b(float(rect.right()), float(rect.bottom()));
    dl->AddRectFilled(a, b, imColor(th.tint(side), 1.6f), frame.px(4));
    dl->AddRectFilled(a, ImVec2(a.x + frame.px(6), b.y), imColor(th.side(side)), frame.px(4));
    ImFont* heading = frame.imgui.font(FontRole::heading);
    ImFont* small = frame.imgui.font(FontRole::small);
    const float ty = a.y + (b.y - a.y - heading->FontSize) / 2;
    const float w = drawText(dl, heading, ImVec2(a.x + frame.px(16), ty), th.side(side), sideTitle(side)).x;
    const QString what = side == Side::cached
                             ? tr("each step computes K and V for the new token only and keeps them")
                             : tr("each step recomputes K and V for every token, then throws them away");
    drawText(dl, small, ImVec2(a.x + frame.px(28) + w, a.y + (b.y - a.y - small->FontSize) / 2), th.textDim,
             elide(small, what, b.x - a.x - w - frame.px(40)));
}

// ---- PaneRenderer
// ------------------------------------------------------------------------------------------

PaneRenderer::PaneRenderer(Side side)
    : m_side(side), m_tokens(side), m_kv(side), m_attention(side), m_counters(side) {}

void PaneRenderer::releaseGL(GlResources& gl) {
    m_kv.releaseGL(gl);
    m_attention.releaseGL(gl);
}

void PaneRenderer::render(FrameContext& frame) {
    const QRectF r = frame.rect;
    const float gap = frame.px(8);
    const float x = float(r.left()), w = float(r.width());
    float y = float(r.top());
    const float headerH = frame.px(34);
    drawPaneHeader(frame, m_side, QRectF(x, y, w, headerH));
    y += headerH + gap;
    const float h = float(r.bottom()) - y;
    const float tokensH = std::max(frame.px(70), h * 0.17f);
    renderOnPanel(frame, m_tokens, m_side, QRectF(x, y, w, tokensH));
    y += tokensH + gap;
    const float countersH = std::max(frame.px(150), h * 0.30f);
    const float middleH = float(r.bottom()) - y - countersH - gap;
    const float kvW = w * 0.56f;
    renderOnPanel(frame, m_kv, m_side, QRectF(x, y, kvW - gap / 2, middleH));
    renderOnPanel(frame, m_attention, m_side, QRectF(x + kvW + gap / 2, y, w - kvW - gap / 2, middleH));
    y += middleH + gap;
    renderOnPanel(frame, m_counters, m_side, QRectF(x, y, w, countersH));
}

// ---- LayoutRenderer
// ----------------------------------------------------------------------------------------

LayoutRenderer::LayoutRenderer() : m_panes{PaneRenderer(Side::cached), PaneRenderer(Side::uncached)} {}

void LayoutRenderer::releaseGL(GlResources& gl) {
    for (PaneRenderer& p : m_panes)
        p.releaseGL(gl);
}

bool LayoutRenderer::animating() const {
    for (const PaneRenderer& p : m_panes)
        if (p.animating()) return true;
    return false;
}

void LayoutRenderer::render(FrameContext& frame) {
    const QRectF r = frame.rect;
    const float gap = frame.px(8);
    const float plotsH = std::max(frame.px(180), float(r.height()) * 0.24f);
    const float paneW = (float(r.width()) - 3 * gap) / 2;
    const float paneTop = float(r.top()) + gap, paneBottom = float(r.bottom()) - plotsH - 2 * gap;
    for (PaneRenderer& pane : m_panes) {
        FrameContext sub = frame;
        sub.side = pane.side();
        sub.rect = QRectF(float(r.left()) + gap + float(sideIndex(pane.side())) * (paneW + gap), paneTop,
                          paneW, paneBottom - paneTop);
        pane.render(sub);
    }
    renderOnPanel(frame, m_plots, Side::cached,
                  QRectF(float(r.left()) + gap, paneBottom + gap, float(r.width()) - 2 * gap, plotsH));
}

}  // namespace kvscope::app
