#include "views/token_strip_renderer.h"

#include <algorithm>

#include "token_text.h"

namespace kvscope::app {

bool TokenStripRenderer::affectedBy(const StoreChange& change, Side side) const {
    if (change.kind == StoreChange::Kind::appended) return change.side == side;
    if (change.kind == StoreChange::Kind::selection) return change.fields & StoreChange::stepField;
    return true;
}

void TokenStripRenderer::render(FrameContext& frame) {
    m_chips.clear();
    const TraceStore& store = frame.store;
    const Theme& th = frame.theme;
    Panel panel(frame, tr("Tokens"));
    ImDrawList* dl = panel.dl;
    ImFont *small = panel.small, *mono = panel.mono;
    const float x0 = panel.x0, x1 = panel.x1;
    float y = panel.y;
    const int step = store.stepFor(m_side);
    const StepTrace* t = store.trace(m_side, step);
    if (!t) {
        panel.note(tr("the prompt and every generated token will appear here"), th.textDim);
        return;
    }
    const Tokenizer* tok = store.model().tokenizer.get();
    const std::vector<int32_t> tokens = store.tokensUpTo(m_side, step);
    const int prompt = store.promptLength(m_side);
    const int generated = int(tokens.size()) - prompt;
    const QString summary = tr("%1 in the prompt · %2 generated · step %3 (%4)")
                                .arg(prompt)
                                .arg(generated)
                                .arg(step)
                                .arg(t->restored                  ? tr("restored")
                                     : t->phase == Phase::prefill ? tr("prefill")
                                                                  : tr("decode"));
    y += panel.note(summary, th.textDim);
    y += frame.px(24);

    // Lay chips out in lines; if they overflow, keep the last lines (the newest tokens).
    const float padX = frame.px(5), padY = frame.px(2), gap = frame.px(4);
    const float chipH = mono->FontSize + 2 * padY, lineH = chipH + gap;
    std::vector<Chip> chips;
    std::vector<int> lineOf;
    float cx = x0;
    int line = 0;
    auto place = [&](int position, int32_t id, const QString& text) {
        const float w = std::min(textSize(mono, text).x + 2 * padX, x1 - x0);
        if (cx + w > x1 && cx > x0) {
            cx = x0;
            ++line;
        }
        chips.push_back({ImVec2(cx, float(line)), ImVec2(cx + w, 0), position, id, text});
        lineOf.push_back(line);
        cx += w + gap;
    };
    for (int p = 0; p < int(tokens.size()); ++p)
        place(p, tokens[size_t(p)], tokenLabel(tok, tokens[size_t(p)], p == 0));
    place(-1, t->chosen, QStringLiteral("→ ") + tokenLabel(tok, t->chosen, tokens.empty()));
    int visibleLines = std::max(1, int((float(frame.rect.bottom()) - y) / lineH));
    int firstLine = std::max(0, line + 1 - visibleLines);
    if (firstLine > 0) {
        // Earlier tokens scrolled out: say so on a line of its own (never over the title or the chips).
        const float noteH = small->FontSize + frame.px(4);
        visibleLines = std::max(1, int((float(frame.rect.bottom()) - y - noteH) / lineH));
        firstLine = std::max(0, line + 1 - visibleLines);
        const int hidden =
            int(std::count_if(lineOf.begin(), lineOf.end(), [&](int l) { return l < firstLine; }));
        drawText(
            dl, small, ImVec2(x0, y), th.textDim,
            elide(small, tr("↑ %1 earlier tokens: scrub back or widen the view").arg(hidden), x1 - x0, true));
        y += noteH;
    }
    for (size_t i = 0; i < chips.size(); ++i) {
        if (lineOf[i] < firstLine) continue;
        Chip c = chips[i];
        const float cy = y + float(lineOf[i] - firstLine) * lineH;
        c.a = ImVec2(c.a.x, cy);
        c.b = ImVec2(c.b.x, cy + chipH);
        const bool isPrompt = c.position >= 0 && c.position < prompt;
        const bool fedNow = c.position >= t->pos_begin && c.position < t->pos_end;
        const float r = frame.px(3);
        if (c.position < 0) {
            // The sampled token: not fed yet, so only an outline.
            dl->AddRect(c.a, c.b, imColor(th.side(m_side)), r, 0, std::max(1.0f, frame.px(1.5f)));
        } else if (isPrompt) {
            dl->AddRectFilled(c.a, c.b, imColor(th.promptChip), r);
        } else {
            dl->AddRectFilled(c.a, c.b, imColor(th.tint(m_side), 2.0f), r);
        }
        if (fedNow && t->phase == Phase::decode)
            dl->AddRect(c.a, c.b, imColor(th.newRow), r, 0, std::max(1.5f, frame.px(2)));
        const QColor textColour = c.position < 0 ? th.side(m_side)
                                  : isPrompt     ? th.promptChipText
                                                 : th.textStrong;
        drawText(dl, mono, ImVec2(c.a.x + padX, c.a.y + padY), textColour,
                 elide(mono, c.text, c.b.x - c.a.x - 2 * padX, true));
        m_chips.push_back(c);
    }
    panel.close();
    // The chips must be inside the view: a strip too short for its header and a row of tokens hides them.
    if (!m_chips.empty())
        reportTooSmall(QStringLiteral("tokens: room for the chips"),
                       float(frame.rect.bottom()) - m_chips.front().a.y,
                       m_chips.front().b.y - m_chips.front().a.y);
    for (const Chip& c : m_chips)
        if (mouseIn(frame, c.a, c.b)) drawHover(frame, c, step);
}

void TokenStripRenderer::drawHover(FrameContext& frame, const Chip& chip, int step) {
    const TraceStore& store = frame.store;
    const Tokenizer* tok = store.model().tokenizer.get();
    // The step that sampled this token holds its probability and the alternatives.
    const int chooser = chip.position < 0 ? step : store.stepThatChose(m_side, chip.position);
    QStringList lines;
    if (chip.position < 0)
        lines << tr("Next token: %1").arg(tokenQuoted(tok, chip.id));
    else
        lines << tr("Position %1: %2").arg(chip.position).arg(tokenQuoted(tok, chip.id, chip.position == 0));
    const StepTrace* t = chooser >= 0 ? store.trace(m_side, chooser) : nullptr;
    if (!t) {
        lines << tr("part of the prompt (typed, not generated)");
    } else {
        lines << (chip.position < 0 ? tr("sampled by this step; fed to the model at the next step")
                                    : tr("sampled at step %1").arg(chooser));
        lines << tr("probability %1").arg(double(t->chosen_prob), 0, 'f', 3);
        lines << tr("top alternatives:");
        for (size_t i = 0; i < t->top.size() && i < 5; ++i)
            lines << QStringLiteral("   %1   %2")
                         .arg(double(t->top[i].prob), 5, 'f', 3)
                         .arg(tokenQuoted(tok, t->top[i].id));
    }
    showTooltip(frame, lines, frame.theme.side(m_side));
}

}  // namespace kvscope::app
