#include "views/slide_renderer.h"

#include <cmath>

#include "narration.h"
#include "views/layout_renderer.h"

namespace kvscope::app {

SlideRenderer::SlideRenderer(std::unique_ptr<ViewRenderer> content, Side side, Backdrop backdrop,
                             QString title, QString caption, bool narrate)
    : m_content(std::move(content)),
      m_side(side),
      m_backdrop(backdrop),
      m_title(std::move(title)),
      m_caption(std::move(caption)),
      m_narrate(narrate) {}

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
    QString caption = m_caption;
    if (m_narrate) {
        const QString said = stepCaption(frame.store);
        caption = caption.isEmpty() ? said : caption + QStringLiteral(" — ") + said;
    }
    if (!caption.isEmpty()) {
        // Wrapped, never cut: in the body type while it takes at most three lines, else the small type.
        const float width = float(content.width()) - 2 * margin;
        const QByteArray utf8 = caption.toUtf8();
        ImFont* font = frame.imgui.font(FontRole::body);
        ImVec2 size = font->CalcTextSizeA(font->FontSize, FLT_MAX, width, utf8.constData(),
                                          utf8.constData() + utf8.size());
        if (size.y > 3.5f * font->FontSize) {
            font = frame.imgui.font(FontRole::small);
            size = font->CalcTextSizeA(font->FontSize, FLT_MAX, width, utf8.constData(),
                                       utf8.constData() + utf8.size());
        }
        const float h = size.y + 2 * margin;
        dl->AddText(font, font->FontSize,
                    ImVec2(std::round(float(content.left()) + margin),
                           std::round(float(content.bottom()) - h + margin)),
                    imColor(th.text), utf8.constData(), utf8.constData() + utf8.size(), width);
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
