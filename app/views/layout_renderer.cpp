#include "views/layout_renderer.h"

namespace kvscope::app {

LayoutRenderer::LayoutRenderer() {
    for (Side side : kSides) {
        Pane& p = m_panes[size_t(sideIndex(side))];
        p.tokens = std::make_unique<TokenStripRenderer>(side);
        p.kv = std::make_unique<KvCacheRenderer>(side);
        p.attention = std::make_unique<AttentionRenderer>(side);
        p.counters = std::make_unique<CountersRenderer>(side);
    }
}

void LayoutRenderer::releaseGL(GlResources& gl) {
    for (Pane& p : m_panes) {
        p.kv->releaseGL(gl);
        p.attention->releaseGL(gl);
    }
}

bool LayoutRenderer::animating() const {
    for (const Pane& p : m_panes)
        if (p.kv->animating()) return true;
    return false;
}

void LayoutRenderer::renderChild(FrameContext& frame, ViewRenderer& child, Side side, const QRectF& rect) {
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

void LayoutRenderer::render(FrameContext& frame) {
    const QRectF r = frame.rect;
    const float gap = frame.px(8);
    const float plotsH = std::max(frame.px(180), float(r.height()) * 0.24f);
    const float paneW = (float(r.width()) - 3 * gap) / 2;
    const float paneTop = float(r.top()) + gap, paneBottom = float(r.bottom()) - plotsH - 2 * gap;
    for (Side side : kSides) {
        Pane& p = m_panes[size_t(sideIndex(side))];
        const float x = float(r.left()) + gap + float(sideIndex(side)) * (paneW + gap);
        float y = paneTop;
        const float headerH = frame.px(34);
        drawPaneHeader(frame, side, QRectF(x, y, paneW, headerH));
        y += headerH + gap;
        const float h = paneBottom - y;
        const float tokensH = std::max(frame.px(70), h * 0.17f);
        renderChild(frame, *p.tokens, side, QRectF(x, y, paneW, tokensH));
        y += tokensH + gap;
        const float countersH = std::max(frame.px(150), h * 0.30f);
        const float middleH = paneBottom - y - countersH - gap;
        const float kvW = paneW * 0.56f;
        renderChild(frame, *p.kv, side, QRectF(x, y, kvW - gap / 2, middleH));
        renderChild(frame, *p.attention, side, QRectF(x + kvW + gap / 2, y, paneW - kvW - gap / 2, middleH));
        y += middleH + gap;
        renderChild(frame, *p.counters, side, QRectF(x, y, paneW, countersH));
    }
    renderChild(frame, m_plots, Side::cached,
                QRectF(float(r.left()) + gap, paneBottom + gap, float(r.width()) - 2 * gap, plotsH));
}

}  // namespace kvscope::app
