#include "views/slide_renderer.h"

#include <cmath>

#include "narration.h"
#include "views/layout_renderer.h"

namespace kvscope::app {

namespace {
// Lines of at most `width`, broken at spaces; the third line is cut with "…" if the text goes on.
QStringList wrapCaption(ImFont* font, const QString& text, float width) {
    constexpr int kMaxLines = 3;
    QStringList lines;
    QString line;
    const QStringList words = text.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    for (int i = 0; i < words.size(); ++i) {
        const QString candidate = line.isEmpty() ? words[i] : line + QLatin1Char(' ') + words[i];
        if (line.isEmpty() || textSize(font, candidate).x <= width + 0.5f) {
            line = candidate;
            continue;
        }
        if (lines.size() == kMaxLines - 1) {
            lines << elide(font, line + QLatin1Char(' ') + words.mid(i).join(QLatin1Char(' ')), width);
            return lines;
        }
        lines << line;
        line = words[i];
    }
    lines << elide(font, line, width);
    return lines;
}
}  // namespace

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
        ImFont* body = frame.imgui.font(m_largeCaption ? FontRole::heading : FontRole::body);
        const float width = float(content.width()) - 2 * margin;
        QStringList lines = wrapCaption(body, caption, width);
        // A narration longer than three lines in the body type takes the small type rather than being cut.
        if (!m_largeCaption && !lines.isEmpty() && lines.last().endsWith(QChar(0x2026))) {
            body = frame.imgui.font(FontRole::small);
            lines = wrapCaption(body, caption, width);
        }
        const float lineHeight = body->FontSize * 1.2f;
        const float h = body->FontSize + lineHeight * float(lines.size() - 1) + 2 * margin;
        float y = float(content.bottom()) - h + margin;
        for (const QString& line : lines) {
            drawText(dl, body, ImVec2(float(content.left()) + margin, y), th.text, line);
            y += lineHeight;
        }
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
