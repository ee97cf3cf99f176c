#include "views/scale_renderer.h"

#include <algorithm>
#include <cmath>

namespace kvscope::app {

namespace {

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

QString tokensText(double n) {
    return QString::fromStdString(format_token_count(n));
}

QString rateText(double tokensPerSecond) {
    return tokensPerSecond >= 100 ? QString::number(tokensPerSecond, 'f', 0)
                                  : QString::number(tokensPerSecond, 'f', 1);
}

// GB as data sheets count them (1e9 bytes), for the accelerators' memory.
QString gbText(double bytes) {
    return QStringLiteral("%1 GB").arg(bytes / 1e9, 0, 'f', bytes < 10e9 ? 1 : 0);
}

const ModelShape* findRow(const std::vector<ModelShape>& rows, const QString& name) {
    for (const ModelShape& m : rows)
        if (qs(m.name) == name) return &m;
    return nullptr;
}

const Accelerator* findAccelerator(const ReferenceCatalog& c, const QString& name) {
    for (const Accelerator& a : c.accelerators)
        if (qs(a.name) == name) return &a;
    return c.accelerators.empty() ? nullptr : &c.accelerators.front();
}

ScaleQuery queryOf(const ScaleSettings& s) {
    ScaleQuery q;
    q.context = s.context;
    q.weights = s.weights;
    q.kv = s.kv;
    q.batch = s.conversations;
    return q;
}

}  // namespace

bool ScaleRenderer::affectedBy(const StoreChange& change, Side) const {
    return change.kind == StoreChange::Kind::model;
}

std::vector<ModelShape> ScaleRenderer::rows(const ReferenceCatalog& catalog, const TraceStore& store) {
    std::vector<ModelShape> out = catalog.models;
    if (store.model().valid())
        out.push_back(shape_of(*store.model().model, store.model().displayName.toStdString() + " (loaded)"));
    return out;
}

QStringList ScaleRenderer::narration(const ScaleSettings& s, const ReferenceCatalog& catalog,
                                     const TraceStore& store) {
    QStringList lines;
    const std::vector<ModelShape> all = rows(catalog, store);
    const ModelShape* m = findRow(all, s.model);
    const Accelerator* a = findAccelerator(catalog, s.accelerator);
    if (!m || !a) return lines;
    const ScaleResult r = evaluate_scale(*m, *a, queryOf(s));
    lines << tr("%1 keeps %2 per token: %3.")
                 .arg(qs(m->name), formatBytes(r.kv_bytes_per_token), qs(kv_formula_text(*m, s.kv)));
    lines << tr("One conversation of %1 tokens holds %2 of cache, next to %3 of weights (%4).")
                 .arg(tokensText(s.context), formatBytes(r.kv_bytes_per_conversation),
                      formatBytes(r.weight_bytes), QLatin1String(precision_name(s.weights)));
    if (!r.weights_fit) {
        lines << tr("On one %1 (%2 = %3) the weights alone do not fit: it takes several of them, or fewer "
                    "bits.")
                     .arg(qs(a->name), gbText(a->memory_bytes), formatBytes(a->memory_bytes));
        lines << tr("Even with room, each decode step reads the weights and the whole cache: at %1 GB/s no "
                    "faster "
                    "than %2 tokens/s for one conversation.")
                     .arg(a->bandwidth / 1e9, 0, 'f', 0)
                     .arg(rateText(r.tokens_per_s_batch1));
        return lines;
    } else
        lines << tr("On one %1 (%2 = %3), %4 conversations of that length fit next to the weights.")
                     .arg(qs(a->name), gbText(a->memory_bytes), formatBytes(a->memory_bytes))
                     .arg(int64_t(r.conversations_fit));
    lines << tr("Each decode step reads the weights and the whole cache: at %1 GB/s that allows at most %2 "
                "tokens/s for one conversation, %3 tokens/s each (%4 in all) for %5 together.")
                 .arg(a->bandwidth / 1e9, 0, 'f', 0)
                 .arg(rateText(r.tokens_per_s_batch1), rateText(r.tokens_per_s_per_seq),
                      rateText(r.tokens_per_s_batch_total))
                 .arg(s.conversations);
    return lines;
}

void ScaleRenderer::render(FrameContext& frame) {
    const Theme& th = frame.theme;
    QString error;
    const auto catalog = ScaleSettings::catalog(&error);
    Panel panel(frame, tr("Scale up: what the KV cache costs for real models"));
    if (!catalog) {
        panel.close();
        drawCentredMessage(frame, tr("No reference catalog"), error);
        return;
    }
    ScaleSettings& s = *m_settings;
    const ScaleQuery q = queryOf(s);
    panel.note(tr("%1 tokens per conversation · weights %2 · cache %3 · %4 conversation(s) at once")
                   .arg(tokensText(s.context), QLatin1String(precision_name(s.weights)),
                        QLatin1String(precision_name(s.kv)))
                   .arg(s.conversations),
               th.textDim);
    ImDrawList* dl = panel.dl;
    ImFont *bold = panel.bold, *body = panel.body, *small = panel.small;
    const std::vector<ModelShape> all = rows(*catalog, frame.store);
    const ModelShape* selected = findRow(all, s.model);
    if (!selected && !all.empty()) selected = &all.front();
    const Accelerator* focus = findAccelerator(*catalog, s.accelerator);

    const float top = panel.y + bold->FontSize + frame.px(10);
    const float bottom = float(frame.rect.bottom()) - frame.px(6);
    // The narration below, whole, wrapped to the width; the table and the accelerators above it.
    const QString narrationText = narration(s, *catalog, frame.store).join(QLatin1Char(' '));
    const float narrationH =
        drawWrapped(nullptr, small, ImVec2(panel.x0, 0), panel.x1 - panel.x0, th.text, narrationText, 1.15f) +
        frame.px(8);
    // A row per model and the header line: in the body font where they fit, else the small one (a short
    // dock); below that the view says it is too small rather than letting rows run into the narration.
    const float tableRoom = bottom - narrationH - top;
    ImFont* rowFont = float(all.size() + 1) * body->FontSize * 1.3f <= tableRoom ? body : small;
    ImFont* rowBold = rowFont == body ? bold : small;
    reportTooSmall(tr("Scale up: the table of %1 models").arg(all.size()), tableRoom,
                   float(all.size() + 1) * rowFont->FontSize * 1.3f);
    const float x0 = panel.x0, x1 = panel.x1;
    const float split = x0 + (x1 - x0) * 0.54f;
    const float gap = frame.px(14);

    // ---- left: every model's cache per token and per conversation ------------------------------------
    {
        const float tableBottom = bottom - narrationH;
        const float rowH = std::max(rowFont->FontSize * 1.3f, (tableBottom - top) / float(all.size() + 1));
        const float lineH = std::min(rowH, rowFont->FontSize * 2.3f);
        float y = top;
        const float cName = x0, cKind = x0 + (split - x0) * 0.30f, cToken = x0 + (split - x0) * 0.38f,
                    cBar = x0 + (split - x0) * 0.52f, cConv = x0 + (split - x0) * 0.74f,
                    cW = x0 + (split - x0) * 0.88f;
        drawText(dl, small, ImVec2(cName, y), th.textDim, tr("model (click to look at it)"));
        drawText(dl, small, ImVec2(cKind, y), th.textDim, tr("attn"));
        drawText(dl, small, ImVec2(cToken, y), th.textDim, tr("KV / token"));
        drawText(dl, small, ImVec2(cConv, y), th.textDim, tr("KV / conv."));
        drawText(dl, small, ImVec2(cW, y), th.textDim, tr("weights"));
        y += lineH;
        double maxPerToken = 1;
        for (const ModelShape& m : all)
            maxPerToken = std::max(maxPerToken, kv_bytes_per_token(m, s.kv));
        for (const ModelShape& m : all) {
            // Rows that would run into the narration are not drawn over it: a line says how many are left.
            const int left = int(&all.back() - &m) + 1;
            if (left > 1 && y + 2 * lineH > tableBottom + frame.px(2)) {
                drawText(dl, small, ImVec2(cName, y), th.textDim,
                         elide(small, tr("+ %1 more models: drag this band's top edge up").arg(left),
                               split - cName));
                break;
            }
            const bool isSel = &m == selected;
            const ImVec2 a(x0 - frame.px(4), y - frame.px(2)), b(split - gap / 2, y + lineH - frame.px(2));
            if (isSel) dl->AddRectFilled(a, b, imColor(th.accent, 0.18f), frame.px(3));
            if (m.loaded) dl->AddRect(a, b, imColor(th.side(Side::cached), 0.8f), frame.px(3));
            const QColor ink = isSel ? th.textStrong : th.text;
            drawText(dl, isSel ? rowBold : rowFont, ImVec2(cName, y), ink,
                     elide(isSel ? rowBold : rowFont, qs(m.name), cKind - cName - frame.px(6)));
            drawText(dl, small, ImVec2(cKind, y + frame.px(2)), th.textDim,
                     QLatin1String(attention_kind_name(m.kind)));
            const double perToken = kv_bytes_per_token(m, s.kv);
            drawText(dl, rowFont, ImVec2(cToken, y), ink,
                     perToken > 0 ? formatBytes(perToken) : tr("0 (state)"));
            // Bar on a log scale from 1 KiB to the largest: MHA's 4x over GQA shows as a clear step.
            if (perToken > 0) {
                const double lo = std::log(1024.0), hi = std::log(std::max(maxPerToken, 2048.0));
                const float f =
                    float(std::clamp((std::log(std::max(perToken, 1024.0)) - lo) / (hi - lo), 0.02, 1.0));
                dl->AddRectFilled(ImVec2(cBar, y + lineH * 0.2f),
                                  ImVec2(cBar + (cConv - cBar - frame.px(8)) * f, y + lineH * 0.65f),
                                  imColor(th.side(Side::cached), 0.85f), frame.px(2));
            }
            const double conv = kv_bytes_per_conversation(m, s.context, s.kv);
            const bool beyond = m.context > 0 && s.context > m.context;
            drawText(dl, rowFont, ImVec2(cConv, y), beyond ? th.textDim : ink, formatBytes(conv));
            drawText(dl, rowFont, ImVec2(cW, y), ink, formatBytes(weight_bytes(m, s.weights)));
            if (mouseIn(frame, a, b)) {
                QStringList tip{
                    qs(m.name),
                    tr("KV per token: %1 = %2").arg(formatBytes(perToken), qs(kv_formula_text(m, s.kv)))};
                if (fixed_state_values(m) > 0)
                    tip << tr("fixed state: %1 per conversation, at any length")
                               .arg(formatBytes(fixed_state_values(m) * precision_bytes(s.kv)));
                if (m.sliding_window > 0)
                    tip << tr("sliding window: holds at most %1 tokens").arg(m.sliding_window);
                if (beyond)
                    tip << tr("%1 tokens is past its trained context of %2")
                               .arg(tokensText(s.context), tokensText(m.context));
                const double nStar = attention_crossover_context(m);
                if (nStar > 0)
                    tip << tr("attention FLOPs pass the weights' at %1 tokens")
                               .arg(tokensText(std::round(nStar)));
                if (!m.note.empty()) tip << qs(m.note);
                showTooltip(frame, tip);
                if (frame.interactive && ImGui::IsMouseClicked(0) && qs(m.name) != s.model) {
                    s.model = qs(m.name);
                    if (m_onEdited) m_onEdited();
                }
            }
            y += lineH;
        }
    }

    // ---- right top: the selected model on each accelerator -----------------------------------------------
    const float rx0 = split + gap / 2, rx1 = x1;
    float y = top;
    const float sameIdeaH = bold->FontSize * 1.4f + 4 * body->FontSize * 1.35f + small->FontSize * 1.4f;
    bool sameIdeaFits = true;
    if (selected) {
        drawText(dl, bold, ImVec2(rx0, y), th.textStrong,
                 elide(bold,
                       tr("%1 on one accelerator: weights + %2 conversation(s) of %3 tokens")
                           .arg(qs(selected->name))
                           .arg(s.conversations)
                           .arg(tokensText(s.context)),
                       rx1 - rx0));
        y += bold->FontSize * 1.5f;
        // The comparison below takes its own height when the accelerators at their smallest leave it room;
        // else a line says where it is.
        const float accelerators = float(catalog->accelerators.size()) * small->FontSize * 2.4f;
        sameIdeaFits = y + accelerators + small->FontSize * 1.8f + sameIdeaH <= bottom - narrationH;
        const float rightAreaBottom = bottom - narrationH - small->FontSize * 1.8f -
                                      (sameIdeaFits ? sameIdeaH : small->FontSize * 1.6f);
        const float rowH = std::clamp((rightAreaBottom - y) / float(catalog->accelerators.size()),
                                      small->FontSize * 2.4f, body->FontSize * 4.2f);
        const float labelW = (rx1 - rx0) * 0.30f;
        const QColor weightsColour = th.textDim, kvColour = th.side(Side::cached);
        for (const Accelerator& acc : catalog->accelerators) {
            const int left = int(&catalog->accelerators.back() - &acc) + 1;
            if (left > 1 && y + rowH + small->FontSize * 1.8f > rightAreaBottom + frame.px(2)) {
                drawText(dl, small, ImVec2(rx0, y), th.textDim,
                         elide(small, tr("+ %1 more accelerators: drag this band's top edge up").arg(left),
                               rx1 - rx0));
                y += small->FontSize * 1.4f;
                break;
            }
            const ScaleResult r = evaluate_scale(*selected, acc, q);
            const bool isFocus = &acc == focus;
            // A name's parenthesis ("Groq LPU (one chip, on-chip SRAM)") goes to the small line below it,
            // after the memory and bandwidth: the name column is a third of a narrow band.
            QString name = qs(acc.name), detail;
            if (const qsizetype open = name.indexOf(QStringLiteral(" (")); open > 0 && name.endsWith(')')) {
                detail = QStringLiteral(" · ") + name.mid(open + 2, name.size() - open - 3);
                name.truncate(open);
            }
            drawText(dl, isFocus ? bold : body, ImVec2(rx0, y), isFocus ? th.textStrong : th.text,
                     elide(isFocus ? bold : body, name, labelW - frame.px(6)));
            drawText(
                dl, small, ImVec2(rx0, y + body->FontSize * 1.1f), th.textDim,
                elide(small,
                      tr("%1 · %2 GB/s").arg(gbText(acc.memory_bytes)).arg(acc.bandwidth / 1e9, 0, 'f', 0) +
                          detail,
                      labelW - frame.px(6), /*expected=*/!detail.isEmpty()));
            // The bar: the accelerator's memory is its full width; what does not fit runs past it, in red.
            const float bx0 = rx0 + labelW, bx1 = rx1 - frame.px(4);
            const float bh = std::min(rowH * 0.42f, body->FontSize * 1.1f);
            const float by = y + frame.px(1);
            const double need = r.weight_bytes + double(s.conversations) * r.kv_bytes_per_conversation;
            const double scaleBytes = std::max(acc.memory_bytes, need);
            auto X = [&](double bytes) { return bx0 + float(bytes / scaleBytes) * (bx1 - bx0); };
            dl->AddRectFilled(ImVec2(bx0, by), ImVec2(X(acc.memory_bytes), by + bh), imColor(th.panelRaised),
                              0);
            dl->AddRectFilled(ImVec2(bx0, by), ImVec2(X(std::min(r.weight_bytes, scaleBytes)), by + bh),
                              imColor(weightsColour, 0.8f));
            for (int c = 0; c < s.conversations && c < 64; ++c) {
                const double from = r.weight_bytes + double(c) * r.kv_bytes_per_conversation;
                const double to = from + r.kv_bytes_per_conversation;
                dl->AddRectFilled(ImVec2(X(from), by), ImVec2(X(to), by + bh),
                                  imColor(kvColour, c % 2 ? 0.65f : 0.9f));
            }
            dl->AddRect(ImVec2(bx0, by), ImVec2(X(acc.memory_bytes), by + bh), imColor(th.border));
            if (need > acc.memory_bytes) {
                dl->AddRectFilled(ImVec2(X(acc.memory_bytes), by + bh * 0.75f), ImVec2(X(need), by + bh),
                                  imColor(th.error));
                dl->AddLine(ImVec2(X(acc.memory_bytes), by - frame.px(3)),
                            ImVec2(X(acc.memory_bytes), by + bh + frame.px(3)), imColor(th.error),
                            frame.px(2));
            }
            QString verdict;
            if (!r.weights_fit)
                verdict = tr("the weights alone do not fit");
            else
                verdict = tr("%1 conversation(s) fit · ≤ %2 tok/s alone · ≤ %3 tok/s each at %4")
                              .arg(int64_t(r.conversations_fit))
                              .arg(rateText(r.tokens_per_s_batch1), rateText(r.tokens_per_s_per_seq))
                              .arg(s.conversations);
            drawText(dl, small, ImVec2(bx0, by + bh + frame.px(2)), r.weights_fit ? th.text : th.error,
                     elide(small, verdict, bx1 - bx0));
            if (mouseIn(frame, ImVec2(rx0, y), ImVec2(rx1, y + rowH))) {
                showTooltip(
                    frame,
                    {qs(acc.name), tr("weights: %1").arg(formatBytes(r.weight_bytes)),
                     tr("KV per conversation: %1").arg(formatBytes(r.kv_bytes_per_conversation)),
                     tr("free next to the weights: %1")
                         .arg(r.weights_fit ? formatBytes(acc.memory_bytes - r.weight_bytes) : tr("none")),
                     tr("bytes read per step, 1 conversation: %1").arg(formatBytes(r.bytes_per_step_batch1)),
                     tr("bytes read per step, %1 together: %2")
                         .arg(s.conversations)
                         .arg(formatBytes(r.bytes_per_step_batch)),
                     qs(acc.note)});
                if (frame.interactive && ImGui::IsMouseClicked(0) && qs(acc.name) != s.accelerator) {
                    s.accelerator = qs(acc.name);
                    if (m_onEdited) m_onEdited();
                }
            }
            y += rowH;
        }
        // Legend.
        float lx = rx0 + labelW;
        auto legend = [&](const QColor& c, const QString& text) {
            dl->AddRectFilled(ImVec2(lx, y + frame.px(3)), ImVec2(lx + frame.px(12), y + frame.px(13)),
                              imColor(c));
            lx += frame.px(16);
            lx += drawText(dl, small, ImVec2(lx, y), th.textDim, text).x + frame.px(14);
        };
        legend(weightsColour, tr("weights"));
        legend(kvColour, tr("KV cache, one block per conversation"));
        legend(th.error, tr("does not fit"));
        y += small->FontSize * 1.8f;
    }

    // ---- right bottom: MHA vs GQA vs MLA vs SSM
    // --------------------------------------------------------------
    if (!sameIdeaFits) {
        drawText(
            dl, small, ImVec2(rx0, y), th.textDim,
            elide(small,
                  tr("Same idea, less cache (MHA · GQA · MLA · SSM): drag this band's top edge up to see it"),
                  rx1 - rx0));
    } else {
        struct Pick {
            const char* name;
            const char* label;
        };
        const Pick picks[] = {{"Llama-2-7B", "MHA: 32 KV heads"},
                              {"Llama-3.1-8B", "GQA: 8 KV heads"},
                              {"DeepSeek-V3", "MLA: one latent"},
                              {"Mamba-2.8B", "SSM: fixed state"}};
        drawText(dl, bold, ImVec2(rx0, y), th.textStrong, tr("Same idea, less cache: KV per token"));
        y += bold->FontSize * 1.4f;
        double maxB = 1;
        std::vector<std::pair<const ModelShape*, const char*>> shown;
        for (const Pick& p : picks)
            if (const ModelShape* m = findRow(all, QLatin1String(p.name))) {
                shown.push_back({m, p.label});
                maxB = std::max(maxB, kv_bytes_per_token(*m, s.kv));
            }
        const float lineH = body->FontSize * 1.35f;
        const float labelW = (rx1 - rx0) * 0.42f;
        for (const auto& [m, label] : shown) {
            const double b = kv_bytes_per_token(*m, s.kv);
            drawText(
                dl, body, ImVec2(rx0, y), th.text,
                elide(body, QStringLiteral("%1 (%2)").arg(qs(m->name), tr(label)), labelW - frame.px(6)));
            const float bx0 = rx0 + labelW, bx1 = rx1 - frame.px(90);
            if (b > 0)
                dl->AddRectFilled(ImVec2(bx0, y + lineH * 0.15f),
                                  ImVec2(bx0 + float(b / maxB) * (bx1 - bx0), y + lineH * 0.7f),
                                  imColor(th.side(Side::cached), 0.85f), frame.px(2));
            const QString value =
                b > 0 ? formatBytes(b)
                      : tr("%1 total").arg(formatBytes(fixed_state_values(*m) * precision_bytes(s.kv)));
            drawText(dl, body, ImVec2(std::max(bx0 + float(b / maxB) * (bx1 - bx0), bx0) + frame.px(6), y),
                     th.text, value);
            y += lineH;
        }
        const ModelShape* l2 = findRow(all, QStringLiteral("Llama-2-7B"));
        const ModelShape* l3 = findRow(all, QStringLiteral("Llama-3.1-8B"));
        if (l2 && l3)
            drawText(dl, small, ImVec2(rx0, y + frame.px(2)), th.text,
                     elide(small,
                           tr("Llama-2-7B's cache per token is %1× Llama-3.1-8B's: the same 32 query heads "
                              "share 8 K/V "
                              "heads.")
                               .arg(kv_bytes_per_token(*l2, s.kv) / kv_bytes_per_token(*l3, s.kv), 0, 'g', 3),
                           rx1 - rx0));
    }

    // ---- bottom: the narration, with the formulas and this setting's numbers ------------------------------
    {
        const float ny = bottom - narrationH + frame.px(6);
        dl->AddLine(ImVec2(x0, ny - frame.px(4)), ImVec2(x1, ny - frame.px(4)), imColor(th.border));
        drawWrapped(dl, small, ImVec2(x0, ny), x1 - x0, th.text, narrationText, 1.15f);
    }
    panel.close();
}

}  // namespace kvscope::app
