#include "views/counters_renderer.h"

#include <cmath>

namespace kvscope::app {

QColor opClassColour(OpClass op, const Theme& theme) {
    static const char* dark[] = {"#9aa5b8", "#b4befe", "#89b4fa", "#94e2d5", "#fde047", "#f38ba8",
                                 "#cba6f7", "#74c7ec", "#a6e3a1", "#6c7086", "#fab387"};
    static const char* light[] = {"#6b7280", "#6366f1", "#2563eb", "#0d9488", "#ca8a04", "#db2777",
                                  "#7c3aed", "#0891b2", "#16a34a", "#9ca3af", "#ea580c"};
    const int i = std::clamp(int(op), 0, kOpClassCount - 1);
    return QColor(QLatin1String(theme.isDark() ? dark[i] : light[i]));
}

std::vector<CounterRow> counterRows(const StepTrace& t, int stepsSoFar) {
    const Counters& s = t.counters;
    const Counters& c = t.cumulative;
    const OpCounters st = s.total(), ct = c.total();
    std::vector<CounterRow> rows;
    auto add = [&](const QString& label, double step, double total, QString (*fmt)(double),
                   const QString& help) {
        rows.push_back({label, step, total, fmt(step), fmt(total), help});
    };
    auto count = [](double v) { return formatCount(uint64_t(std::llround(v))); };
    add(tr("FLOPs"), double(st.flops), double(ct.flops), formatFlops,
        tr("floating-point operations, a multiply-add counted as 2 (core/include/kvscope/counters.h)"));
    add(tr("wall time"), s.wall_seconds, c.wall_seconds, formatSeconds, tr("measured around the whole step"));
    // Two rates, because the runs differ exactly there: each step makes one new token, but the uncached run
    // pushes the whole sequence through the layers to make it.
    rows.push_back({tr("new tokens / s"), s.wall_seconds > 0 ? 1.0 / s.wall_seconds : 0.0,
                    c.wall_seconds > 0 ? double(stepsSoFar) / c.wall_seconds : 0.0, QString(), QString(),
                    tr("tokens generated per second (one per step)")});
    rows.back().stepText = formatRate(rows.back().step);
    rows.back().totalText = formatRate(rows.back().total);
    rows.push_back(
        {tr("processed / s"), s.wall_seconds > 0 ? double(s.tokens_processed) / s.wall_seconds : 0.0,
         c.wall_seconds > 0 ? double(c.tokens_processed) / c.wall_seconds : 0.0, QString(), QString(),
         tr("tokens run through every layer per second: the cached run 1 a step, the uncached "
            "run the whole sequence a step")});
    rows.back().stepText = formatRate(rows.back().step);
    rows.back().totalText = formatRate(rows.back().total);
    add(tr("weights read"), double(st.weight_bytes), double(ct.weight_bytes), formatBytes,
        tr("bytes of weights streamed from memory, at their stored type"));
    add(tr("KV read"), double(st.kv_read), double(ct.kv_read), formatBytes,
        tr("bytes of K and V rows read by attention"));
    add(tr("KV written"), double(st.kv_written), double(ct.kv_written), formatBytes,
        tr("bytes of K and V rows computed and stored"));
    add(tr("KV resident"), double(s.kv_bytes_resident), double(c.kv_bytes_resident), formatBytes,
        tr("K and V kept in memory after the step (a run without a cache keeps none)"));
    add(tr("KV peak"), double(s.kv_bytes_peak), double(c.kv_bytes_peak), formatBytes,
        tr("the most K and V held during the step (the uncached run's scratch copy)"));
    rows.push_back({tr("tokens processed"), double(s.tokens_processed), double(c.tokens_processed),
                    count(double(s.tokens_processed)), count(double(c.tokens_processed)),
                    tr("positions run through all the layers")});
    rows.push_back({tr("recomputed tokens"), double(s.tokens_recomputed), double(c.tokens_recomputed),
                    count(double(s.tokens_recomputed)), count(double(c.tokens_recomputed)),
                    tr("positions whose K and V a cache would already have held")});
    // Most telling first (the first half fills the left column): cost, speed and what was recomputed.
    const int order[] = {0, 1, 2, 10, 7, 3, 9, 4, 5, 6, 8};
    std::vector<CounterRow> ordered;
    for (int i : order)
        ordered.push_back(rows[size_t(i)]);
    if (t.mode == SessionMode::cached && t.cache.policy != "exact") {
        // A cache variant: what it holds and saves, what it dropped, and what that cost in quality.
        std::vector<CounterRow> v;
        const double saved = double(s.kv_bytes_full) - double(s.kv_bytes_resident);
        v.push_back({tr("KV held"), double(s.kv_bytes_resident), double(c.kv_bytes_resident),
                     formatBytes(double(s.kv_bytes_resident)), formatBytes(double(c.kv_bytes_resident)),
                     tr("K and V this cache holds, at %1 bytes a value with its scales")
                         .arg(t.cache.bytes_per_value, 0, 'g', 3)});
        v.push_back(
            {tr("KV saved"), saved, saved, formatBytes(saved),
             QString::number(s.kv_bytes_full ? 100.0 * saved / double(s.kv_bytes_full) : 0.0, 'f', 1) +
                 QStringLiteral(" %"),
             tr("what the exact float32 cache would hold for these tokens, minus what this one holds")});
        const double perToken = double(std::max(1, t.n_layers * t.n_kv_heads));
        v.push_back(
            {tr("tokens evicted"), double(s.kv_rows_evicted) / perToken, double(c.kv_rows_evicted) / perToken,
             count(double(s.kv_rows_evicted) / perToken), count(double(c.kv_rows_evicted) / perToken),
             tr("tokens dropped per layer and KV head (rows over all layers and heads / %1)").arg(perToken)});
        if (t.quality.steps > 0) {
            const Quality& q = t.quality;
            v.push_back({tr("KL vs exact"), q.kl, q.kl_sum / double(q.steps),
                         q.measured ? QString::number(q.kl, 'g', 3) : QStringLiteral("–"),
                         tr("%1 mean").arg(q.kl_sum / double(q.steps), 0, 'g', 3),
                         tr("KL(exact ‖ variant) of the next-token distributions, nats; so far: the mean")});
            v.push_back({tr("top-1 agrees"), q.top1_agrees ? 1.0 : 0.0, double(q.top1_agreements),
                         q.measured ? (q.top1_agrees ? tr("yes") : tr("no")) : QStringLiteral("–"),
                         tr("%1 of %2").arg(q.top1_agreements).arg(q.steps),
                         tr("whether the variant's most likely next token is the exact run's")});
            v.push_back({tr("max |Δ logit|"), q.max_abs_logit_diff, q.max_abs_logit_diff_so_far,
                         q.measured ? QString::number(q.max_abs_logit_diff, 'g', 3) : QStringLiteral("–"),
                         QString::number(q.max_abs_logit_diff_so_far, 'g', 3),
                         tr("the largest difference between the exact run's logits and the variant's")});
        }
        ordered.insert(ordered.begin() + 2, v.begin(), v.end());
    }
    return ordered;
}

bool CountersRenderer::affectedBy(const StoreChange& change, Side side) const {
    if (change.kind == StoreChange::Kind::appended) return change.side == side;
    if (change.kind == StoreChange::Kind::selection)
        return change.fields & (StoreChange::stepField | StoreChange::layoutField);
    return true;
}

void CountersRenderer::render(FrameContext& frame) {
    TraceStore& store = frame.store;
    const Theme& th = frame.theme;
    Panel panel(frame, tr("Counters"));
    ImDrawList* dl = panel.dl;
    ImFont *bold = panel.bold, *body = panel.body, *small = panel.small;
    const float x0 = panel.x0, x1 = panel.x1;
    float y = panel.y;
    const int step = store.stepFor(m_side);
    const StepTrace* t = store.trace(m_side, step);
    if (!t) {
        panel.note(tr("nothing computed yet"), th.textDim);
        return;
    }
    // Lockstep: how far this run's logits are from the other run's (they should agree to float rounding).
    const double diff = store.step(m_side, step).maxLogitDiff;
    if (t->mode == SessionMode::cached && m_side == Side::uncached) {
        const Quality& q = t->quality;
        const QString text = q.measured ? tr("vs the exact cache: KL %1 · max |Δ logit| %2 · top-1 %3")
                                              .arg(q.kl, 0, 'g', 2)
                                              .arg(q.max_abs_logit_diff, 0, 'g', 2)
                                              .arg(q.top1_agrees ? tr("agrees") : tr("differs"))
                             : store.hasModel() && t->pos_end > store.model().capacity
                                 ? tr("past the context: no exact run to compare with")
                             : q.first_disagreement_step >= 0
                                 ? tr("not compared at this step · its top-1 first differed at step %1")
                                       .arg(q.first_disagreement_step)
                                 : tr("not compared at this step");
        panel.note(text, q.measured && q.top1_agrees ? th.textDim : th.warning);
    } else if (m_side == Side::uncached && std::isfinite(diff)) {
        const QString text = tr("logits vs the cached run: max |Δ| = %1 %2")
                                 .arg(diff, 0, 'g', 2)
                                 .arg(diff <= 1e-4 ? tr("(the same)") : tr("(differ!)"));
        y += panel.note(text, diff <= 1e-4 ? th.textDim : th.error);
    }
    y += frame.px(24);

    // ---- the table: this step | so far, in as many column groups as the view's shape wants ----------------
    // Columns as wide as their widest text (the numbers are never cut); rows come most telling first. When
    // even several groups cannot hold them all, the table shows them a page at a time (both panes on the
    // same page) with the page and its arrows at the bottom — never silently fewer rows.
    const std::vector<CounterRow> rows = counterRows(*t, step + 1);
    const float rowH = body->FontSize + frame.px(5);
    const float headH = small->FontSize + frame.px(4);
    const float gap = frame.px(10), groupGap = frame.px(18);
    float labelW = 0, stepW = textSize(small, tr("this step")).x, totalW = textSize(small, tr("so far")).x;
    bool smallLabels = false;
    for (size_t i = 0; i < rows.size(); ++i) {
        labelW = std::max(labelW, textSize(body, rows[i].label).x);
        stepW = std::max(stepW, textSize(i < 4 ? bold : body, rows[i].stepText).x);
        totalW = std::max(totalW, textSize(body, rows[i].totalText).x);
    }
    if (labelW + stepW + totalW + 2 * gap > x1 - x0) {
        smallLabels = true;
        labelW = 0;
        for (const CounterRow& r : rows)
            labelW = std::max(labelW, textSize(small, r.label).x);
    }
    // Still too wide (a narrow pane, presenter mode's two runs side by side): the numbers take the small
    // type too, and the labels give way (elided, with the whole label in the tooltip) before a column does.
    bool smallNumbers = false;
    if (labelW + stepW + totalW + 2 * gap > x1 - x0) {
        smallNumbers = true;
        stepW = textSize(small, tr("this step")).x;
        totalW = textSize(small, tr("so far")).x;
        for (const CounterRow& r : rows) {
            stepW = std::max(stepW, textSize(small, r.stepText).x);
            totalW = std::max(totalW, textSize(small, r.totalText).x);
        }
        labelW = std::clamp(x1 - x0 - stepW - totalW - 2 * gap, frame.px(40), labelW);
    }
    const float needW = labelW + stepW + totalW + 2 * gap;
    const int maxGroups = std::max(1, int((x1 - x0 + groupGap) / (needW + groupGap)));
    // The FLOP breakdown bar only when it leaves room for at least six rows.
    float barReserve = frame.px(46);
    if (int((float(frame.rect.bottom()) - y - headH - barReserve) / rowH) * maxGroups < 6) barReserve = 0;
    float availH = float(frame.rect.bottom()) - y - headH - barReserve;
    int fitRows = std::max(1, int(availH / rowH));
    int groups = std::clamp((int(rows.size()) + fitRows - 1) / fitRows, 1, maxGroups);
    const float pagerH = small->FontSize + frame.px(6);
    const bool paged = fitRows * groups < int(rows.size());
    if (paged) {
        availH -= pagerH;
        fitRows = std::max(1, int(availH / rowH));
        groups = maxGroups;
    }
    reportTooSmall(QStringLiteral("counters: rows at once"), float(fitRows * groups), 3.0f);
    const int perPage = fitRows * groups;
    const int pages = (int(rows.size()) + perPage - 1) / perPage;
    const int page = std::clamp(store.countersPage(), 0, pages - 1);
    const int first = page * perPage, last = std::min(int(rows.size()), first + perPage);
    // Column by column: the first group gets the most telling rows, as many as fit.
    const int perGroup = std::max(std::min(fitRows, (last - first + groups - 1) / groups), 1);
    const float groupW = (x1 - x0 - groupGap * float(groups - 1)) / float(groups);
    float tableBottom = y;
    for (int g = 0; g < groups; ++g) {
        const float gx = x0 + float(g) * (groupW + groupGap);
        const float col1 = gx + labelW + gap, col2 = col1 + stepW + gap;
        float gy = y;
        drawText(dl, small, ImVec2(col1, gy), th.textDim, tr("this step"));
        drawText(dl, small, ImVec2(col2, gy), th.textDim, tr("so far"));
        gy += headH;
        for (int i = first + g * perGroup; i < std::min(last, first + (g + 1) * perGroup); ++i) {
            if (gy + rowH > float(frame.rect.bottom())) break;
            const CounterRow& r = rows[size_t(i)];
            if ((i - g * perGroup) % 2 == 0)
                dl->AddRectFilled(ImVec2(gx - frame.px(4), gy - frame.px(1)),
                                  ImVec2(gx + groupW, gy + rowH - frame.px(1)), imColor(th.panelRaised));
            const bool headline = i < 4;
            ImFont* labelFont = smallLabels ? small : body;
            drawText(dl, labelFont, ImVec2(gx, gy + (body->FontSize - labelFont->FontSize) * 0.6f),
                     th.textDim, elide(labelFont, r.label, col1 - gx - frame.px(6)));
            // Numbers are never cut ("3.79 MFL…" teaches nothing): a number that does not fit its column
            // takes the smaller type instead.
            auto fitting = [&](ImFont* font, const QString& text, float width) {
                return textSize(font, text).x <= width ? font : small;
            };
            ImFont* stepFont =
                smallNumbers ? small : fitting(headline ? bold : body, r.stepText, col2 - col1 - frame.px(4));
            ImFont* totalFont = smallNumbers ? small : fitting(body, r.totalText, gx + groupW - col2);
            drawText(dl, stepFont, ImVec2(col1, gy + (body->FontSize - stepFont->FontSize) * 0.6f),
                     headline ? th.side(m_side) : th.text, r.stepText);
            drawText(dl, totalFont, ImVec2(col2, gy + (body->FontSize - totalFont->FontSize) * 0.6f), th.text,
                     r.totalText);
            if (mouseIn(frame, ImVec2(gx, gy), ImVec2(gx + groupW, gy + rowH)))
                showTooltip(frame, {r.label, r.help});
            gy += rowH;
        }
        tableBottom = std::max(tableBottom, gy);
    }
    y = tableBottom;
    if (paged) {
        // The page: what is shown of how many, and arrows (a click, or the wheel over the table).
        const float py = float(frame.rect.bottom()) - pagerH + frame.px(2);
        const QString where = tr("rows %1–%2 of %3").arg(first + 1).arg(last).arg(rows.size());
        const float ww = textSize(small, where).x;
        float px = x1 - ww;
        if (frame.interactive) {
            ImGui::PushID(this);
            const float bw = ImGui::GetFontSize() + ImGui::GetStyle().FramePadding.x * 2;
            px = x1 - ww - 2 * bw - frame.px(12);
            ImGui::SetCursorScreenPos(ImVec2(px, py - frame.px(2)));
            if (ImGui::SmallButton("\xE2\x97\x80")) frame.store.setCountersPage(page - 1);  // ◀
            drawText(dl, small, ImVec2(px + bw + frame.px(6), py), th.textDim, where);
            ImGui::SetCursorScreenPos(ImVec2(x1 - bw, py - frame.px(2)));
            if (ImGui::SmallButton("\xE2\x96\xB6"))
                frame.store.setCountersPage(page + 1 < pages ? page + 1 : 0);  // ▶
            ImGui::PopID();
            if (mouseIn(frame, ImVec2(x0, panel.y), ImVec2(x1, py)) && ImGui::GetIO().MouseWheel != 0)
                frame.store.setCountersPage(ImGui::GetIO().MouseWheel < 0 ? std::min(page + 1, pages - 1)
                                                                          : page - 1);
        } else {
            drawText(dl, small, ImVec2(px, py), th.textDim, where);
        }
        barReserve = 0;
    }

    // ---- this step's FLOPs by op class ----------------------------------------------------------------
    const double total = double(t->counters.flops());
    if (total > 0 && barReserve > 0 && y + frame.px(36) <= float(frame.rect.bottom())) {
        y += frame.px(6);
        drawText(dl, small, ImVec2(x0, y), th.textDim, tr("this step's FLOPs by operation"));
        y += small->FontSize + frame.px(3);
        const float barH = frame.px(12);
        float bx = x0;
        struct Part {
            OpClass op;
            double share;
        };
        std::vector<Part> parts;
        for (int i = 0; i < kOpClassCount; ++i) {
            const double f = double(t->counters.by_op[size_t(i)].flops);
            if (f <= 0) continue;
            const OpClass op = OpClass(i);
            const float w = float(f / total) * (x1 - x0);
            dl->AddRectFilled(ImVec2(bx, y), ImVec2(bx + w, y + barH), imColor(opClassColour(op, th)));
            if (mouseIn(frame, ImVec2(bx, y), ImVec2(bx + w, y + barH)))
                showTooltip(
                    frame,
                    {QString::fromLatin1(op_class_name(op)),
                     tr("%1 (%2% of this step)").arg(formatFlops(f)).arg(f / total * 100.0, 0, 'f', 1)});
            parts.push_back({op, f / total});
            bx += w;
        }
        y += barH + frame.px(3);
        if (y + small->FontSize > float(frame.rect.bottom())) parts.clear();  // no room for the legend
        std::sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.share > b.share; });
        float lx = x0;
        for (size_t i = 0; i < parts.size() && i < 4; ++i) {
            const QString label = QStringLiteral("%1 %2%")
                                      .arg(QString::fromLatin1(op_class_name(parts[i].op)))
                                      .arg(parts[i].share * 100.0, 0, 'f', 0);
            const float w = textSize(small, label).x + frame.px(16);
            if (lx + w > x1) break;
            dl->AddRectFilled(ImVec2(lx, y + frame.px(3)), ImVec2(lx + frame.px(8), y + frame.px(11)),
                              imColor(opClassColour(parts[i].op, th)));
            drawText(dl, small, ImVec2(lx + frame.px(11), y), th.textDim, label);
            lx += w + frame.px(6);
        }
    }
    panel.close();
}

}  // namespace kvscope::app
