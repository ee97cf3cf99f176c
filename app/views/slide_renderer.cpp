#include "views/slide_renderer.h"

#include "views/layout_renderer.h"

namespace kvscope::app {

SlideRenderer::SlideRenderer(std::unique_ptr<ViewRenderer> content, Side side, Backdrop backdrop,
                             QString title, QString caption)
    : m_content(std::move(content)),
      m_side(side),
      m_backdrop(backdrop),
      m_title(std::move(title)),
      m_caption(std::move(caption)) {}

void SlideRenderer::render(FrameContext& frame) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const Theme& th = frame.theme;
    QRectF content = frame.rect;
    const float margin = frame.px(12);
    if (!m_title.isEmpty()) {
        ImFont* heading = frame.imgui.font(FontRole::heading);
        const float h = heading->FontSize + 2 * margin;
        drawText(dl, heading, ImVec2(float(content.left()) + margin, float(content.top()) + margin),
                 th.textStrong, elide(heading, m_title, float(content.width()) - 2 * margin));
        content.setTop(content.top() + h - frame.px(4));
    }
    if (!m_caption.isEmpty()) {
        ImFont* body = frame.imgui.font(FontRole::body);
        const float h = body->FontSize + 2 * margin;
        drawText(dl, body, ImVec2(float(content.left()) + margin, float(content.bottom()) - h + margin),
                 th.text, elide(body, m_caption, float(content.width()) - 2 * margin));
        content.setBottom(content.bottom() - h + frame.px(4));
    }
    if (m_backdrop != Backdrop::none) {
        const float inset = frame.px(8);
        content.adjust(inset, inset, -inset, -inset);
    }
    if (m_backdrop == Backdrop::panel) {
        renderOnPanel(frame, *m_content, m_side, content);
        return;
    }
    FrameContext sub = frame;
    sub.side = m_side;
    sub.rect = content;
    m_content->render(sub);
}

}  // namespace kvscope::app
