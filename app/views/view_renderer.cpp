#include "views/view_renderer.h"

#include <QStringList>
#include <cmath>

namespace kvscope::app {

ImU32 imColor(const QColor& c, float alphaScale) {
    return IM_COL32(c.red(), c.green(), c.blue(),
                    int(std::clamp(float(c.alpha()) * alphaScale, 0.0f, 255.0f)));
}

ImVec4 imVec4(const QColor& c) {
    return ImVec4(float(c.redF()), float(c.greenF()), float(c.blueF()), float(c.alphaF()));
}

ImVec2 textSize(ImFont* font, const QString& text) {
    const QByteArray utf8 = text.toUtf8();
    return font->CalcTextSizeA(font->FontSize, FLT_MAX, 0.0f, utf8.constData(),
                               utf8.constData() + utf8.size());
}

namespace {
thread_local LayoutReport* t_report = nullptr;
}

LayoutReport* setLayoutReport(LayoutReport* report) {
    LayoutReport* previous = t_report;
    t_report = report;
    return previous;
}

void reportTooSmall(const QString& what, float size, float minimum) {
    if (t_report && size + 0.5f < minimum)
        t_report->tooSmall << QStringLiteral("%1: %2 px, needs %3 px")
                                  .arg(what)
                                  .arg(double(size), 0, 'f', 0)
                                  .arg(double(minimum), 0, 'f', 0);
}

ImVec2 drawText(ImDrawList* dl, ImFont* font, ImVec2 pos, const QColor& colour, const QString& text) {
    const QByteArray utf8 = text.toUtf8();
    dl->AddText(font, font->FontSize, ImVec2(std::round(pos.x), std::round(pos.y)), imColor(colour),
                utf8.constData(), utf8.constData() + utf8.size());
    const ImVec2 size =
        font->CalcTextSizeA(font->FontSize, FLT_MAX, 0.0f, utf8.constData(), utf8.constData() + utf8.size());
    if (t_report && !text.isEmpty()) {
        // Text running past the clip rectangle (the view's edge) is cut as surely as an elided one.
        const ImVec2 clipMin = dl->GetClipRectMin(), clipMax = dl->GetClipRectMax();
        const float right = std::round(pos.x) + size.x, bottom = std::round(pos.y) + font->FontSize;
        if (right > clipMax.x + 1.0f || bottom > clipMax.y + 1.0f || std::round(pos.x) < clipMin.x - 1.0f ||
            std::round(pos.y) < clipMin.y - 1.0f)
            t_report->cuts.push_back({text, size.x, clipMax.x - std::max(clipMin.x, std::round(pos.x))});
    }
    return size;
}

QString elide(ImFont* font, const QString& text, float width, bool expected) {
    const float needed = textSize(font, text).x;
    if (needed <= width + 0.5f) return text;  // + half a pixel: float rounding of the same width
    if (t_report && !expected) t_report->cuts.push_back({text, needed, width});
    QString t = text;
    while (!t.isEmpty() && textSize(font, t + QChar(0x2026)).x > width)
        t.chop(1);
    return t.isEmpty() ? QString() : t + QChar(0x2026);
}

float drawWrapped(ImDrawList* dl, ImFont* font, ImVec2 pos, float width, const QColor& colour,
                  const QString& text, float lineGap) {
    float y = pos.y;
    QString line;
    auto flush = [&] {
        if (dl) drawText(dl, font, ImVec2(pos.x, y), colour, elide(font, line, width));
        y += font->FontSize + lineGap;
    };
    for (const QString& word : text.split(QLatin1Char(' '))) {
        const QString next = line.isEmpty() ? word : line + QLatin1Char(' ') + word;
        if (!line.isEmpty() && textSize(font, next).x > width) {
            flush();
            line = word;
        } else {
            line = next;
        }
    }
    if (!line.isEmpty()) flush();
    return y - pos.y;
}

void drawPanel(ImDrawList* dl, ImVec2 a, ImVec2 b, const QColor& fill, const QColor& border, float rounding) {
    dl->AddRectFilled(a, b, imColor(fill), rounding);
    if (border.isValid()) dl->AddRect(a, b, imColor(border), rounding, 0, 1.0f);
}

void showTooltip(const FrameContext& frame, const QStringList& lines, const QColor& accent) {
    if (!frame.interactive || lines.isEmpty()) return;
    if (frame.tooltip) {
        frame.tooltip->lines = lines;
        frame.tooltip->accent = accent;
        return;
    }
    ImGui::BeginTooltip();
    ImGui::PushFont(frame.imgui.font(FontRole::bold));
    if (accent.isValid()) ImGui::PushStyleColor(ImGuiCol_Text, imVec4(accent));
    ImGui::TextUnformatted(lines.front().toUtf8().constData());
    if (accent.isValid()) ImGui::PopStyleColor();
    ImGui::PopFont();
    for (int i = 1; i < lines.size(); ++i)
        ImGui::TextUnformatted(lines[i].toUtf8().constData());
    ImGui::EndTooltip();
}

void drawCentredMessage(FrameContext& frame, const QString& title, const QString& detail, float top) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImFont* big = frame.imgui.font(FontRole::bold);
    ImFont* body = frame.imgui.font(FontRole::small);
    const ImVec2 ts = textSize(big, title);
    const float from = std::max(top, float(frame.rect.top()));
    const ImVec2 c(float(frame.rect.center().x()),
                   std::max((from + float(frame.rect.bottom())) / 2, from + ts.y + frame.px(2)));
    drawText(dl, big, ImVec2(c.x - ts.x / 2, c.y - ts.y), frame.theme.textDim, title);
    if (!detail.isEmpty()) {
        const QString d = elide(body, detail, float(frame.rect.width()) - frame.px(16));
        const ImVec2 ds = textSize(body, d);
        drawText(dl, body, ImVec2(c.x - ds.x / 2, c.y + frame.px(4)), frame.theme.textDim, d);
    }
}

bool mouseIn(const FrameContext& frame, ImVec2 a, ImVec2 b) {
    if (!frame.interactive) return false;
    const ImVec2 m = ImGui::GetIO().MousePos;
    return m.x >= a.x && m.x < b.x && m.y >= a.y && m.y < b.y;
}

Panel::Panel(FrameContext& f, const QString& title)
    : frame(f),
      dl(ImGui::GetWindowDrawList()),
      bold(f.imgui.font(FontRole::bold)),
      body(f.imgui.font(FontRole::body)),
      small(f.imgui.font(FontRole::small)),
      mono(f.imgui.font(FontRole::mono)),
      x0(float(f.rect.left()) + f.px(10)),
      x1(float(f.rect.right()) - f.px(10)),
      y(float(f.rect.top()) + f.px(6)) {
    dl->PushClipRect(f.topLeft(), f.bottomRight(), true);
    titleWidth = drawText(dl, bold, ImVec2(x0, y), f.theme.textStrong, title).x;
}

float Panel::note(const QString& text, const QColor& colour) const {
    const float left = x0 + titleWidth + frame.px(12);
    if (textSize(small, text).x <= x1 - left) {
        drawText(dl, small, ImVec2(left, y + frame.px(2)), colour, text);
        return 0.0f;
    }
    // Below the title, wrapped at spaces into as many lines as it needs (never cut).
    float ny = y + bold->FontSize + frame.px(2);
    QString line;
    for (const QString& word : text.split(QLatin1Char(' '))) {
        const QString next = line.isEmpty() ? word : line + QLatin1Char(' ') + word;
        if (!line.isEmpty() && textSize(small, next).x > x1 - x0) {
            drawText(dl, small, ImVec2(x0, ny), colour, line);
            ny += small->FontSize + frame.px(1);
            line = word;
        } else {
            line = next;
        }
    }
    drawText(dl, small, ImVec2(x0, ny), colour, elide(small, line, x1 - x0));
    ny += small->FontSize + frame.px(1);
    return ny - (y + bold->FontSize + frame.px(2)) + frame.px(2);
}

void Panel::close() {
    if (!m_open) return;
    m_open = false;
    dl->PopClipRect();
}

void drawLogYGrid(const FrameContext& frame, ImDrawList* dl, ImFont* font, float left, float right,
                  double lyMin, double lyMax, const std::function<float(double)>& Y,
                  QString (*format)(double)) {
    for (double e = lyMin; e <= lyMax; e += 1) {
        const float y = Y(std::pow(10.0, e));
        dl->AddLine(ImVec2(left, y), ImVec2(right, y), imColor(frame.theme.grid));
        const QString l = format(std::pow(10.0, e));
        drawText(dl, font, ImVec2(left - frame.px(4) - textSize(font, l).x, y - font->FontSize / 2),
                 frame.theme.textDim, l);
    }
}

}  // namespace kvscope::app
