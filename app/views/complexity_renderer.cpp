#include "views/complexity_renderer.h"

#include <algorithm>
#include <cmath>

#include "kvscope/complexity.h"
#include "kvscope/scale.h"
#include "scale_settings.h"

namespace kvscope::app {

namespace {

struct Sample {
    double x, attention, weights, attentionSoFar, totalSoFar;
};

std::vector<Sample> samples(const TraceStore& store, Side side) {
    std::vector<Sample> out;
    for (const auto& s : store.steps(side)) {
        const StepTrace& t = *s.trace;
        if (t.phase != Phase::decode) continue;
        out.push_back({double(t.pos_end), double(flops_in(t.counters, FlopGroup::attention)),
                       double(flops_in(t.counters, FlopGroup::weights)),
                       double(flops_in(t.cumulative, FlopGroup::attention)), double(t.cumulative.flops())});
    }
    return out;
}

QString slopeText(double s) {
    return QString::number(s, 'f', 2);
}

}  // namespace

bool ComplexityRenderer::affectedBy(const StoreChange& change, Side) const {
    if (change.kind == StoreChange::Kind::selection) return false;
    return true;
}

ComplexityRenderer::Fit ComplexityRenderer::fit(const TraceStore& store) {
    Fit f;
    for (Side side : kSides) {
        const std::vector<Sample> all = samples(store, side);
        const size_t from = all.size() / 2;
        std::vector<double> x, a, as, ts;
        for (size_t i = from; i < all.size(); ++i) {
            x.push_back(all[i].x);
            a.push_back(all[i].attention);
            as.push_back(all[i].attentionSoFar);
            ts.push_back(all[i].totalSoFar);
        }
        const int k = sideIndex(side);
        f.attentionPerToken[k] = loglog_slope(x, a);
        f.attentionSoFar[k] = loglog_slope(x, as);
        f.totalSoFar[k] = loglog_slope(x, ts);
        if (side == Side::cached) {
            f.points = int(x.size());
            for (const auto& s : store.steps(side))
                if (s.trace->phase == Phase::decode)
                    f.crossover = measured_attention_crossover(s.trace->counters, double(s.trace->pos_end));
        }
    }
    return f;
}

QStringList ComplexityRenderer::narration(const TraceStore& store) {
    QStringList lines;
    if (!store.model().valid()) return lines;
    const Fit f = fit(store);
    const int c = sideIndex(Side::cached), u = sideIndex(Side::uncached);
    if (f.points >= 2) {
        lines
            << tr("Attention FLOPs per token grow with slope %1 with a cache (one query over n keys) and %2 "
                  "without (n queries over up to n keys): O(n) vs O(n²) per token.")
                   .arg(slopeText(f.attentionPerToken[c]), slopeText(f.attentionPerToken[u]));
        lines << tr("Summed over the run: attention %1 vs %2 (O(n²) vs O(n³)); all FLOPs %3 vs %4.")
                     .arg(slopeText(f.attentionSoFar[c]), slopeText(f.attentionSoFar[u]),
                          slopeText(f.totalSoFar[c]), slopeText(f.totalSoFar[u]));
    }
    const ModelConfig& cfg = store.model().config();
    if (f.crossover > 0) {
        if (f.crossover > cfg.context_length)
            lines << tr("Attention would pass the weights' FLOPs at %1 tokens, past this model's context of "
                        "%2: here "
                        "the weights dominate, so the totals look flat vs linear.")
                         .arg(std::round(f.crossover), 0, 'f', 0)
                         .arg(cfg.context_length);
        else
            lines << tr("Attention passes the weights' FLOPs at %1 tokens (this model's context: %2).")
                         .arg(std::round(f.crossover), 0, 'f', 0)
                         .arg(cfg.context_length);
    }
    return lines;
}

void ComplexityRenderer::render(FrameContext& frame) {
    const TraceStore& store = frame.store;
    const Theme& th = frame.theme;
    Panel panel(frame, tr("Complexity: which FLOPs grow with the context"));
    panel.note(
        tr("log-log · solid: attention (QKᵀ, softmax, ·V) · thin: weights (projections, MLP, lm_head)"),
        th.textDim);
    ImDrawList* dl = panel.dl;
    ImFont *small = panel.small, *body = panel.body, *bold = panel.bold;
    const float top = panel.y + bold->FontSize + frame.px(12);
    // Below the chart: a row of tick labels, then the axes' caption.
    const float bottom = float(frame.rect.bottom()) - small->FontSize * 2.6f - frame.px(4);
    const float tableW = std::clamp((panel.x1 - panel.x0) * 0.36f, frame.px(240), frame.px(520));
    // Left of it the FLOP labels, as wide as the widest ("100 MFLOP") at this text size.
    const float left = panel.x0 + textSize(small, QStringLiteral("100 MFLOP")).x + frame.px(10),
                right = panel.x1 - tableW - frame.px(18);
    if (right - left < frame.px(60) || bottom - top < frame.px(50)) return;

    std::vector<Sample> runs[kSideCount];
    double xMin = 1e30, xMax = 0, yMin = 1e30, yMax = 0;
    for (Side side : kSides) {
        runs[sideIndex(side)] = samples(store, side);
        for (const Sample& s : runs[sideIndex(side)]) {
            xMin = std::min(xMin, s.x);
            xMax = std::max(xMax, s.x);
            for (double v : {s.attention, s.weights}) {
                if (v <= 0) continue;
                yMin = std::min(yMin, v);
                yMax = std::max(yMax, v);
            }
        }
    }
    const Fit f = fit(store);
    // Chart (or a message until two decode steps exist).
    if (xMax <= 0 || yMax <= 0) {
        drawText(dl, body, ImVec2(left, top + frame.px(20)), th.textDim,
                 tr("Step a few tokens: each decode step becomes a point."));
    } else {
        const ModelConfig& cfg = store.model().config();
        const double lxMin = std::floor(std::log10(std::max(1.0, xMin))),
                     lxMax = std::ceil(std::log10(std::max({xMax * 1.5, f.crossover * 1.3, 10.0})));
        const double lyMin = std::floor(std::log10(yMin)), lyMax = std::ceil(std::log10(yMax * 1.5));
        auto X = [&](double x) {
            return left + float((std::log10(x) - lxMin) / (lxMax - lxMin)) * (right - left);
        };
        auto Y = [&](double y) {
            return bottom - float((std::log10(y) - lyMin) / (lyMax - lyMin)) * (bottom - top);
        };
        drawPanel(dl, ImVec2(left, top), ImVec2(right, bottom), th.panelRaised, th.border, 0);
        for (double e = lxMin; e <= lxMax; e += 1) {
            const float x = X(std::pow(10.0, e));
            dl->AddLine(ImVec2(x, top), ImVec2(x, bottom), imColor(th.grid));
            const QString l = QString::number(std::pow(10.0, e), 'g', 6);
            drawText(dl, small, ImVec2(x - textSize(small, l).x / 2, bottom + frame.px(3)), th.textDim, l);
        }
        drawLogYGrid(frame, dl, small, left, right, lyMin, lyMax, Y, formatFlops);
        dl->PushClipRect(ImVec2(left, top), ImVec2(right, bottom), true);
        // The loaded model's context and crossover.
        if (cfg.context_length > 0) {
            const float x = X(double(cfg.context_length));
            dl->AddLine(ImVec2(x, top), ImVec2(x, bottom), imColor(th.textDim, 0.7f), frame.px(1));
            drawText(dl, small, ImVec2(x + frame.px(3), top + frame.px(3)), th.textDim,
                     tr("context %1").arg(cfg.context_length));
        }
        if (f.crossover > 0) {
            const float x = X(f.crossover);
            dl->AddLine(ImVec2(x, top), ImVec2(x, bottom), imColor(th.warning), frame.px(2));
            drawText(dl, small, ImVec2(x + frame.px(3), top + small->FontSize * 1.4f), th.warning,
                     tr("attention = weights at %1").arg(std::round(f.crossover), 0, 'f', 0));
        }
        for (Side side : kSides) {
            const auto& run = runs[sideIndex(side)];
            std::vector<ImVec2> a, w;
            for (const Sample& s : run) {
                if (s.attention > 0) a.push_back(ImVec2(X(s.x), Y(s.attention)));
                if (s.weights > 0) w.push_back(ImVec2(X(s.x), Y(s.weights)));
            }
            if (a.size() > 1)
                dl->AddPolyline(a.data(), int(a.size()), imColor(th.side(side)), 0, frame.px(2.6f));
            if (w.size() > 1)
                dl->AddPolyline(w.data(), int(w.size()), imColor(th.side(side), 0.6f), 0, frame.px(1.2f));
            // The cached run's attention, extended at its fitted slope to the crossover: the line it is on.
            if (side == Side::cached && !run.empty() && f.crossover > run.back().x && f.points >= 2) {
                const Sample& last = run.back();
                const double k = f.attentionPerToken[sideIndex(side)];
                const double yEnd = last.attention * std::pow(f.crossover / last.x, k);
                const ImVec2 p0(X(last.x), Y(last.attention)), p1(X(f.crossover), Y(yEnd));
                const int n = 20;
                for (int i = 0; i < n; i += 2)
                    dl->AddLine(
                        ImVec2(p0.x + (p1.x - p0.x) * i / n, p0.y + (p1.y - p0.y) * i / n),
                        ImVec2(p0.x + (p1.x - p0.x) * (i + 1) / n, p0.y + (p1.y - p0.y) * (i + 1) / n),
                        imColor(th.side(side), 0.7f), frame.px(1.5f));
            }
        }
        dl->PopClipRect();
        // Legend with the fitted slopes.
        float ly = top + frame.px(6);
        const float lx = left + frame.px(8);
        for (Side side : kSides) {
            const int k = sideIndex(side);
            dl->AddLine(ImVec2(lx, ly + small->FontSize / 2),
                        ImVec2(lx + frame.px(18), ly + small->FontSize / 2), imColor(th.side(side)),
                        frame.px(2.6f));
            drawText(dl, small, ImVec2(lx + frame.px(24), ly), th.text,
                     tr("%1: attention slope %2 · so far %3 (all FLOPs %4)")
                         .arg(sideTitle(side),
                              f.points >= 2 ? slopeText(f.attentionPerToken[k]) : QStringLiteral("–"),
                              f.points >= 2 ? slopeText(f.attentionSoFar[k]) : QStringLiteral("–"),
                              f.points >= 2 ? slopeText(f.totalSoFar[k]) : QStringLiteral("–")));
            ly += small->FontSize * 1.35f;
        }
        drawText(dl, small, ImVec2(left, bottom + small->FontSize * 1.25f), th.textDim,
                 tr("tokens in the sequence →   ↑ FLOPs per step (log-log: a slope k is n^k)"));
    }

    // Table: where attention passes the weights, for real shapes (formula) and this model (measured).
    {
        const float tx = right + frame.px(18), tx1 = panel.x1;
        float y = top;
        drawText(dl, bold, ImVec2(tx, y), th.textStrong,
                 elide(bold, tr("Attention passes the weights at"), tx1 - tx));
        y += bold->FontSize * 1.4f;
        QStringList wanted{QStringLiteral("GPT-2 small"),  QStringLiteral("SmolLM2-135M"),
                           QStringLiteral("Llama-3.1-8B"), QStringLiteral("Llama-3.1-70B"),
                           QStringLiteral("DeepSeek-V3"),  QStringLiteral("Jamba-v0.1")};
        std::vector<std::pair<QString, double>> rows;
        if (store.model().valid())
            rows.push_back({store.model().displayName + tr(" (here)"),
                            f.crossover > 0
                                ? f.crossover
                                : attention_crossover_context(shape_of(*store.model().model, ""))});
        if (auto catalog = ScaleSettings::catalog())
            for (const QString& name : wanted)
                for (const ModelShape& m : catalog->models)
                    if (QString::fromStdString(m.name) == name)
                        rows.push_back({name, attention_crossover_context(m)});
        const float valueX = tx1 - textSize(body, QStringLiteral("000000 tokens")).x;
        for (const auto& [name, n] : rows) {
            drawText(dl, body, ImVec2(tx, y), th.text, elide(body, name, valueX - tx - frame.px(6)));
            drawText(dl, body, ImVec2(valueX, y), th.text, tr("%1 tokens").arg(std::round(n), 0, 'f', 0));
            y += body->FontSize * 1.35f;
        }
        y += frame.px(6);
        for (const QString& sentence :
             QStringList{
                 tr("A GPT-2-style layer has 12·d² weights and attends with 4·d FLOPs per key: the two meet "
                    "near 6·d_model tokens (GPT-2 small: 4 600 for its layers)."),
                 tr("Below that the weights dominate and decode looks linear; a 128K context is far past "
                    "it, where attention, and the cache it reads, is the cost.")} +
                 narration(store)) {
            QString line;
            for (const QString& w : sentence.split(QLatin1Char(' '))) {
                const QString next = line.isEmpty() ? w : line + QLatin1Char(' ') + w;
                if (textSize(small, next).x > tx1 - tx && !line.isEmpty()) {
                    drawText(dl, small, ImVec2(tx, y), th.text, line);
                    y += small->FontSize * 1.3f;
                    line = w;
                } else {
                    line = next;
                }
            }
            drawText(dl, small, ImVec2(tx, y), th.text, line);
            y += small->FontSize * 1.7f;
            if (y > bottom) break;
        }
    }
    panel.close();
}

}  // namespace kvscope::app
