#include "views/first_token_renderer.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "format.h"
#include "theme.h"

namespace kvscope::app {

bool FirstTokenRenderer::affectedBy(const StoreChange& change, Side) const {
    return change.kind == StoreChange::Kind::model;  // the measurements are the host's, not the runs'
}

QStringList FirstTokenRenderer::narration(const FirstTokenSweep& sweep) {
    QStringList lines;
    if (sweep.rows.empty()) return lines;
    const PromptSweepRow& last = sweep.rows.back();
    lines << tr("A %1-token prompt: %2 before the first word, then a word every %3 (%4 words a second).")
                 .arg(last.prompt)
                 .arg(formatSeconds(last.ttft_seconds), formatSeconds(last.decode_seconds),
                      formatRate(1.0 / last.decode_seconds));
    lines << tr("The pause is %1× one word's time, not %2×: the prefill runs the prompt's tokens through the "
                "model together (%3 tokens a second), while decode does one token a step.")
                 .arg(last.ttft_seconds / last.decode_seconds, 0, 'f', 1)
                 .arg(last.prompt)
                 .arg(formatRate(double(last.prompt) / last.ttft_seconds));
    if (sweep.rows.size() >= 2) {
        const PromptSweepRow& first = sweep.rows.front();
        const double longer = double(last.prompt) / first.prompt;
        const double grew = last.ttft_seconds / first.ttft_seconds;
        const double slope = std::log(grew) / std::log(longer);
        lines
            << tr("From %1 to %2 tokens (%3× longer) the pause grew %4× (slope %5 on the log-log chart: 1 is "
                  "linear, the weights' work per token; 2 would be attention of every token to every "
                  "earlier one), while the time of a word after it changed %6×.")
                   .arg(first.prompt)
                   .arg(last.prompt)
                   .arg(longer, 0, 'f', 0)
                   .arg(grew, 0, 'f', 1)
                   .arg(slope, 0, 'f', 2)
                   .arg(last.decode_seconds / first.decode_seconds, 0, 'f', 2);
    }
    lines << tr(
        "So a chat feels like a pause, then smooth streaming: the pause grows with what you send, "
        "the streaming hardly at all.");
    return lines;
}

void FirstTokenRenderer::render(FrameContext& frame) {
    const Theme& th = frame.theme;
    Panel panel(frame, tr("The pause before the first word"));
    const FirstTokenSweep& sweep = *m_sweep;
    panel.note(sweep.rows.empty()
                   ? tr("time to the first token against the prompt's length, then the time of each word")
                   : tr("%1 on %2 · each prompt a fresh prefill, then the median of 8 decode steps · wall "
                        "time, noisy")
                         .arg(sweep.model, sweep.device),
               th.textDim);
    ImDrawList* dl = panel.dl;
    ImFont *small = panel.small, *body = panel.body, *bold = panel.bold;
    if (sweep.rows.empty()) {
        panel.close();
        drawCentredMessage(
            frame, sweep.running ? tr("Measuring…") : tr("Not measured yet"),
            tr("Press Measure: prompts of %1 tokens run through the loaded model, each timed "
               "from its first token in to its first word out.")
                .arg(sweep.lengths.empty() ? QStringLiteral("16, 32, 64, …")
                                           : QString::number(sweep.lengths.front()) + QStringLiteral(" … ") +
                                                 QString::number(sweep.lengths.back())));
        return;
    }
    const float top = panel.y + bold->FontSize + frame.px(12);
    const float bottom = float(frame.rect.bottom()) - small->FontSize * 2.6f - frame.px(4);
    const float textW = std::clamp((panel.x1 - panel.x0) * 0.38f, frame.px(240), frame.px(560));
    const float left = panel.x0 + textSize(small, QStringLiteral("100 ms")).x + frame.px(10);
    const float right = panel.x1 - textW - frame.px(18);
    if (right - left < frame.px(80) || bottom - top < frame.px(50)) {
        reportTooSmall(QStringLiteral("first-token chart"), std::min(right - left, bottom - top),
                       frame.px(50));
        return;
    }

    // Log-log: prompt lengths double along x; times over decades along y.
    // The x range is every length asked for (the rows are a prefix of them): points do not move as rows
    // arrive.
    const int lastLength = sweep.lengths.empty() ? sweep.rows.back().prompt : sweep.lengths.back();
    const double lxMin = std::log2(double(sweep.rows.front().prompt)) - 0.3;
    const double lxMax = std::log2(double(lastLength)) + 0.3;
    double yMin = 1e30, yMax = 0;
    for (const PromptSweepRow& r : sweep.rows)
        for (double v : {r.ttft_seconds, r.decode_seconds})
            if (v > 0) {
                yMin = std::min(yMin, v);
                yMax = std::max(yMax, v);
            }
    const double lyMin = std::floor(std::log10(yMin)), lyMax = std::ceil(std::log10(yMax * 1.5));
    auto X = [&](double x) {
        return left + float((std::log2(x) - lxMin) / (lxMax - lxMin)) * (right - left);
    };
    auto Y = [&](double y) {
        return bottom - float((std::log10(y) - lyMin) / std::max(1.0, lyMax - lyMin)) * (bottom - top);
    };
    drawPanel(dl, ImVec2(left, top), ImVec2(right, bottom), th.panelRaised, th.border, 0);
    for (int length : sweep.lengths) {
        const float x = X(length);
        dl->AddLine(ImVec2(x, top), ImVec2(x, bottom), imColor(th.grid));
        const QString l = QString::number(length);
        drawText(dl, small, ImVec2(x - textSize(small, l).x / 2, bottom + frame.px(3)), th.textDim, l);
    }
    drawLogYGrid(frame, dl, small, left, right, lyMin, lyMax, Y, formatSeconds);
    dl->PushClipRect(ImVec2(left, top), ImVec2(right, bottom), true);
    const QColor pause = th.side(Side::uncached), stream = th.side(Side::cached);
    auto series = [&](double PromptSweepRow::*field, const QColor& colour, float width, bool labels) {
        std::vector<ImVec2> points;
        for (const PromptSweepRow& r : sweep.rows)
            points.push_back(ImVec2(X(r.prompt), Y(r.*field)));
        if (points.size() > 1) dl->AddPolyline(points.data(), int(points.size()), imColor(colour), 0, width);
        for (size_t i = 0; i < points.size(); ++i) {
            dl->AddCircleFilled(points[i], frame.px(4), imColor(colour));
            if (!labels) continue;
            const QString l = formatSeconds(sweep.rows[i].*field);
            // Above the point, or below it where the chart's top edge would cut it.
            float ly = points[i].y - small->FontSize - frame.px(6);
            if (ly < top) ly = points[i].y + frame.px(6);
            drawText(dl, small, ImVec2(points[i].x - textSize(small, l).x / 2, ly), th.text, l);
        }
    };
    series(&PromptSweepRow::ttft_seconds, pause, frame.px(2.6f), true);
    series(&PromptSweepRow::decode_seconds, stream, frame.px(2.0f), false);
    dl->PopClipRect();
    // Legend, top left inside the chart.
    float ly = top + frame.px(6);
    const float lx = left + frame.px(8);
    for (const auto& [colour, label] :
         {std::pair{pause, tr("time to the first word (the prefill of the whole prompt)")},
          std::pair{stream, tr("each word after it (one decode step)")}}) {
        dl->AddLine(ImVec2(lx, ly + small->FontSize / 2), ImVec2(lx + frame.px(18), ly + small->FontSize / 2),
                    imColor(colour), frame.px(2.6f));
        drawText(dl, small, ImVec2(lx + frame.px(24), ly), th.text,
                 elide(small, label, right - lx - frame.px(30), true));
        ly += small->FontSize * 1.35f;
    }
    drawText(dl, small, ImVec2(left, bottom + small->FontSize * 1.25f), th.textDim,
             elide(small, tr("tokens in the prompt →   ↑ seconds (log-log)"), right - left, true));

    // Beside the chart: what it means, with the numbers.
    const float tx = right + frame.px(18), tx1 = panel.x1;
    float y = top;
    for (const QString& line : narration(sweep)) {
        if (y > bottom) break;
        y += drawWrapped(dl, body, ImVec2(tx, y), tx1 - tx, th.text, line) + frame.px(6);
    }
    if (sweep.running) drawText(dl, small, ImVec2(tx, std::min(y, bottom)), th.textDim, tr("measuring…"));
    panel.close();
}

}  // namespace kvscope::app
