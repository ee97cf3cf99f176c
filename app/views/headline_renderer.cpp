#include "views/headline_renderer.h"

#include <cmath>

namespace kvscope::app {

bool HeadlineRenderer::affectedBy(const StoreChange& change, Side) const {
    if (change.kind == StoreChange::Kind::selection) return change.fields & StoreChange::stepField;
    return true;
}

int HeadlineRenderer::stepAtLength(const TraceStore& store, Side side, int length) {
    const StepTrace* first = store.trace(side, 0);
    if (!first) return -1;
    // Step 0 (the prefill) ends at the prompt's length, each decode step one position later.
    const int index = length - first->pos_end;
    const StepTrace* t = store.trace(side, index);
    return t && t->pos_end == length ? index : -1;
}

int HeadlineRenderer::comparedLength(const TraceStore& store) {
    const StepTrace* c = store.trace(Side::cached, store.stepFor(Side::cached));
    const StepTrace* u = store.trace(Side::uncached, store.stepFor(Side::uncached));
    if (!c || !u) return -1;
    return std::min(c->pos_end, u->pos_end);
}

QStringList HeadlineRenderer::lines(const TraceStore& store) {
    const int length = comparedLength(store);
    if (length < 0) return {};
    const int ic = stepAtLength(store, Side::cached, length),
              iu = stepAtLength(store, Side::uncached, length);
    const StepTrace* c = store.trace(Side::cached, ic);
    const StepTrace* u = store.trace(Side::uncached, iu);
    if (!c || !u) return {};
    const double fc = double(c->counters.flops()), fu = double(u->counters.flops());
    const double sc = double(c->cumulative.flops()), su = double(u->cumulative.flops());
    QStringList out;
    if (c->phase == Phase::prefill) {
        out << tr("Prefill · %1 prompt tokens").arg(length);
        out << tr("both runs compute every prompt token once: %1 with the cache, %2 without")
                   .arg(formatFlops(fc), formatFlops(fu));
        out << tr("the cache now holds K and V of %1 tokens: %2")
                   .arg(length)
                   .arg(formatBytes(double(c->counters.kv_bytes_resident)));
        return out;
    }
    const double ratio = fc > 0 ? fu / fc : 0.0;
    out << tr("Step %1 · %2 tokens").arg(ic).arg(length);
    out << tr("this step: %1 vs %2 — %3× the work without a cache")
               .arg(formatFlops(fc), formatFlops(fu))
               .arg(ratio, 0, 'f', ratio < 10 ? 1 : 0);
    out << tr("the cache holds %1 · so far %2 vs %3 (%4×) · %5 rows rebuilt for nothing")
               .arg(formatBytes(double(c->counters.kv_bytes_resident)), formatFlops(sc), formatFlops(su))
               .arg(sc > 0 ? su / sc : 0.0, 0, 'f', 1)
               .arg(formatCount(u->cumulative.tokens_recomputed));
    return out;
}

void HeadlineRenderer::render(FrameContext& frame) {
    const Theme& th = frame.theme;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->PushClipRect(frame.topLeft(), frame.bottomRight(), true);
    const QStringList text = lines(frame.store);
    const float x0 = float(frame.rect.left()) + frame.px(14), x1 = float(frame.rect.right()) - frame.px(14);
    const float top = float(frame.rect.top()) + frame.px(6),
                bottom = float(frame.rect.bottom()) - frame.px(4);
    if (text.isEmpty()) {
        dl->PopClipRect();
        drawCentredMessage(frame, tr("Press Space to step"),
                           tr("Both runs take each step; this line compares what each one computed."));
        return;
    }
    // The first line in the heading face, the verdict in bold, the rest in body type; each wrapped at
    // " · " or " — " into as many lines as it needs; all smaller when even that does not fit the height.
    ImFont* fonts[] = {frame.imgui.font(FontRole::heading), frame.imgui.font(FontRole::bold),
                       frame.imgui.font(FontRole::body)};
    ImFont* small = frame.imgui.font(FontRole::small);
    auto wrap = [&](ImFont* font, const QString& line) {
        QStringList out;
        QString current;
        const QStringList words = line.split(QLatin1Char(' '));
        for (const QString& w : words) {
            const QString next = current.isEmpty() ? w : current + QLatin1Char(' ') + w;
            if (!current.isEmpty() && textSize(font, next).x > x1 - x0) {
                out << current;
                current = w;
            } else {
                current = next;
            }
        }
        if (!current.isEmpty()) out << current;
        return out;
    };
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::vector<std::pair<ImFont*, QString>> laid;
        float h = 0;
        for (int i = 0; i < text.size(); ++i) {
            ImFont* font = attempt == 0 ? fonts[std::min(i, 2)] : (i == 0 ? fonts[1] : small);
            for (const QString& l : wrap(font, text[i])) {
                laid.push_back({font, l});
                h += font->FontSize + frame.px(2);
            }
        }
        if (top + h > bottom && attempt == 0) continue;
        float y = top;
        for (size_t i = 0; i < laid.size(); ++i) {
            const QColor colour = laid[i].first == fonts[0]             ? th.textStrong
                                  : i == 1 || laid[i].first == fonts[1] ? th.side(Side::uncached)
                                                                        : th.text;
            drawText(dl, laid[i].first, ImVec2(x0, y), colour, laid[i].second);
            y += laid[i].first->FontSize + frame.px(2);
        }
        break;
    }
    dl->PopClipRect();
}

}  // namespace kvscope::app
