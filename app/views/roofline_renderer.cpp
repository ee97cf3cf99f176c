#include "views/roofline_renderer.h"

#include <algorithm>
#include <cmath>

namespace kvscope::app {

namespace {

QString gflops(double f) {
    return formatSi(f, "FLOP/s");
}
QString gbps(double b) {
    return QStringLiteral("%1 GB/s").arg(b / 1e9, 0, 'f', b < 10e9 ? 1 : 0);
}
QString intensityText(double i) {
    return QString::number(i, 'g', i < 10 ? 2 : 3);
}

QString stepName(const RooflineRenderer::StepPoint& p) {
    if (p.phase == Phase::prefill) return tr("prefill of %1 tokens").arg(p.tokens);
    return p.side == Side::cached ? tr("cached decode")
                                  : tr("uncached decode (%1 tokens recomputed)").arg(p.tokens);
}

}  // namespace

std::vector<RooflineRenderer::StepPoint> RooflineRenderer::points(const TraceStore& store) {
    std::vector<StepPoint> out;
    if (!store.model().valid()) return out;
    const double weights = double(store.model().model->stored_bytes());
    for (Side side : kSides) {
        int i = 0;
        for (const auto& s : store.steps(side)) {
            const StepTrace& t = *s.trace;
            StepPoint p{side,
                        i++,
                        t.phase,
                        int(t.counters.tokens_processed),
                        weights + double(std::max(t.counters.kv_bytes_peak, t.counters.kv_bytes_resident)),
                        roofline_point(t.counters)};
            if (p.point.seconds > 0 && p.point.bytes > 0 && p.point.flops > 0) out.push_back(p);
        }
    }
    return out;
}

QStringList RooflineRenderer::narration(const MachinePeaks& peaks, const TraceStore& store) {
    QStringList lines;
    if (!peaks.valid()) return lines;
    const int step = store.stepFor(Side::cached);
    const StepTrace* t = store.trace(Side::cached, step);
    if (!t) return lines;
    const std::vector<StepPoint> all = points(store);
    const StepPoint* cached = nullptr;
    const StepPoint* uncached = nullptr;
    for (const StepPoint& p : all) {
        if (p.step != step) continue;
        (p.side == Side::cached ? cached : uncached) = &p;
    }
    if (!cached) return lines;
    const RooflinePoint& c = cached->point;
    const bool resident = peaks.cache_resident(cached->workingSet);
    const double roof =
        resident ? peaks.attainable(c.intensity(), cached->workingSet) : peaks.attainable(c.intensity());
    lines << tr("Step %1, %2: %3 over %4 moved = %5 FLOPs per byte.")
                 .arg(step)
                 .arg(stepName(*cached), formatFlops(c.flops), formatBytes(c.bytes),
                      intensityText(c.intensity()));
    if (c.intensity() < peaks.ridge())
        lines << tr("Left of the ridge (%1 FLOPs/byte): memory bounds it; the roof there is %2 × %3 = %4, it "
                    "ran at %5 "
                    "(%6% of the roof, %7).")
                     .arg(intensityText(peaks.ridge()), intensityText(c.intensity()),
                          gbps(resident ? peaks.bandwidth_for(cached->workingSet) : peaks.bandwidth),
                          gflops(roof), gflops(c.achieved()))
                     .arg(100.0 * c.achieved() / roof, 0, 'f', 0)
                     .arg(gbps(c.achieved_bandwidth()));
    else
        lines << tr("Right of the ridge (%1 FLOPs/byte): the arithmetic bounds it at %2; it ran at %3 (%4%).")
                     .arg(intensityText(peaks.ridge()), gflops(peaks.peak_flops), gflops(c.achieved()))
                     .arg(100.0 * c.achieved() / peaks.peak_flops, 0, 'f', 0);
    if (uncached && cached->phase == Phase::decode)
        lines
            << tr("Without a cache the same token costs %1 at %2 FLOPs/byte: more work for the same weights, "
                  "so it moves right, %3× the FLOPs.")
                   .arg(formatFlops(uncached->point.flops), intensityText(uncached->point.intensity()))
                   .arg(uncached->point.flops / c.flops, 0, 'f', 1);
    if (resident)
        lines << tr("Weights + cache (%1) fit in the CPU's caches, read at %2 instead of %3 from memory: "
                    "on-chip "
                    "memory is why an SRAM chip (Groq) decodes fast.")
                     .arg(formatBytes(cached->workingSet), gbps(peaks.bandwidth_for(cached->workingSet)),
                          gbps(peaks.bandwidth));
    return lines;
}

void RooflineRenderer::render(FrameContext& frame) {
    const Theme& th = frame.theme;
    Panel panel(frame, tr("Roofline: what bounds each step"));
    if (!m_peaks || !m_peaks->valid()) {
        panel.close();
        drawCentredMessage(
            frame, tr("This machine's roofs are not measured yet"),
            tr("Press \"Measure\" above (a few seconds): a GEMM for the peak FLOP/s and a read of a "
               "buffer larger than the caches for the bandwidth."));
        return;
    }
    const MachinePeaks& pk = *m_peaks;
    panel.note(tr("%1 · peak %2 · bandwidth %3 · ridge %4 FLOPs/byte")
                   .arg(QString::fromStdString(pk.device), gflops(pk.peak_flops), gbps(pk.bandwidth),
                        intensityText(pk.ridge())),
               th.textDim);
    ImDrawList* dl = panel.dl;
    ImFont *small = panel.small, *body = panel.body;
    const std::vector<StepPoint> pts = points(frame.store);
    const QStringList story = narration(pk, frame.store);

    const float narrW = std::clamp((panel.x1 - panel.x0) * 0.32f, frame.px(200), frame.px(460));
    const float left = panel.x0 + frame.px(58), right = panel.x1 - narrW - frame.px(16);
    const float top = panel.y + panel.bold->FontSize + frame.px(14);
    const float bottom = float(frame.rect.bottom()) - small->FontSize * 2.6f;
    if (right - left < frame.px(80) || bottom - top < frame.px(60)) return;

    // Axes: decades that hold the ridge and every point.
    double iMin = pk.ridge() / 30, iMax = pk.ridge() * 30, fMin = pk.peak_flops / 1000,
           fMax = pk.peak_flops * 2;
    for (const StepPoint& p : pts) {
        iMin = std::min(iMin, p.point.intensity() / 2);
        iMax = std::max(iMax, p.point.intensity() * 2);
        fMin = std::min(fMin, p.point.achieved() / 2);
    }
    const double lxMin = std::floor(std::log10(iMin)), lxMax = std::ceil(std::log10(iMax));
    const double lyMin = std::floor(std::log10(fMin)), lyMax = std::ceil(std::log10(fMax));
    auto X = [&](double i) {
        return left + float((std::log10(i) - lxMin) / (lxMax - lxMin)) * (right - left);
    };
    auto Y = [&](double f) {
        return bottom - float((std::log10(f) - lyMin) / (lyMax - lyMin)) * (bottom - top);
    };
    drawPanel(dl, ImVec2(left, top), ImVec2(right, bottom), th.panelRaised, th.border, 0);
    for (double e = lxMin; e <= lxMax; e += 1) {
        const float x = X(std::pow(10.0, e));
        dl->AddLine(ImVec2(x, top), ImVec2(x, bottom), imColor(th.grid));
        const QString l = QString::number(std::pow(10.0, e), 'g', 7);
        drawText(dl, small, ImVec2(x - textSize(small, l).x / 2, bottom + frame.px(3)), th.textDim, l);
    }
    for (double e = lyMin; e <= lyMax; e += 1) {
        const float y = Y(std::pow(10.0, e));
        dl->AddLine(ImVec2(left, y), ImVec2(right, y), imColor(th.grid));
        const QString l = formatSi(std::pow(10.0, e), "");
        drawText(dl, small, ImVec2(left - frame.px(6) - textSize(small, l).x, y - small->FontSize / 2),
                 th.textDim, l);
    }
    drawText(dl, small, ImVec2(left, bottom + small->FontSize * 1.35f), th.textDim,
             tr("FLOPs per byte moved (weights + KV read + KV written) →    ↑ FLOP/s achieved (log-log)"));

    dl->PushClipRect(ImVec2(left, top), ImVec2(right, bottom), true);
    // The roofs: min(peak, I · bandwidth). Drawn as polylines over the x range.
    auto roofLine = [&](double bw, const QColor& c, bool dashed, float thick) {
        const double ridge = pk.peak_flops / bw;
        const ImVec2 a(X(std::pow(10.0, lxMin)), Y(std::pow(10.0, lxMin) * bw)),
            b(X(ridge), Y(pk.peak_flops)), e(X(std::pow(10.0, lxMax)), Y(pk.peak_flops));
        if (!dashed) {
            const ImVec2 line[] = {a, b, e};
            dl->AddPolyline(line, 3, imColor(c), 0, thick);
            return;
        }
        const int n = 24;
        for (int k = 0; k < n; k += 2)
            dl->AddLine(ImVec2(a.x + (b.x - a.x) * k / n, a.y + (b.y - a.y) * k / n),
                        ImVec2(a.x + (b.x - a.x) * (k + 1) / n, a.y + (b.y - a.y) * (k + 1) / n), imColor(c),
                        thick);
    };
    roofLine(pk.bandwidth, th.textStrong, false, frame.px(2.5f));
    double cacheBw = 0, ws = 0;
    if (!pts.empty()) {
        ws = pts.back().workingSet;
        for (const StepPoint& p : pts)
            if (p.side == Side::cached) ws = p.workingSet;
        if (pk.cache_resident(ws)) {
            cacheBw = pk.bandwidth_for(ws);
            roofLine(cacheBw, th.warning, true, frame.px(2));
        }
    }
    // Points: prefill as a diamond, decode steps as dots in the run's colour; the selected step ringed.
    const int sel = frame.store.stepFor(Side::cached);
    const StepPoint* hovered = nullptr;
    for (const StepPoint& p : pts) {
        const ImVec2 c(X(p.point.intensity()), Y(p.point.achieved()));
        const ImU32 col = imColor(th.side(p.side), 0.85f);
        if (p.phase == Phase::prefill) {
            const float r = frame.px(7);
            dl->AddQuadFilled(ImVec2(c.x, c.y - r), ImVec2(c.x + r, c.y), ImVec2(c.x, c.y + r),
                              ImVec2(c.x - r, c.y), col);
            dl->AddQuad(ImVec2(c.x, c.y - r), ImVec2(c.x + r, c.y), ImVec2(c.x, c.y + r),
                        ImVec2(c.x - r, c.y), imColor(th.textStrong), frame.px(1.2f));
        } else {
            dl->AddCircleFilled(c, frame.px(3.2f), col);
        }
        if (p.step == sel) dl->AddCircle(c, frame.px(9), imColor(th.accent), 0, frame.px(2));
        if (frame.interactive) {
            const ImVec2 m = ImGui::GetIO().MousePos;
            if (std::hypot(m.x - c.x, m.y - c.y) < frame.px(6)) hovered = &p;
        }
    }
    dl->PopClipRect();
    // Roof labels.
    drawText(dl, small,
             ImVec2(right - frame.px(6) - textSize(small, tr("peak %1 (GEMM)").arg(gflops(pk.peak_flops))).x,
                    Y(pk.peak_flops) - small->FontSize - frame.px(3)),
             th.text, tr("peak %1 (GEMM)").arg(gflops(pk.peak_flops)));
    {
        const double i = std::pow(10.0, lxMin + 0.35);
        drawText(dl, small, ImVec2(X(i) + frame.px(4), Y(i * pk.bandwidth) + frame.px(2)), th.text,
                 tr("memory %1").arg(gbps(pk.bandwidth)));
        if (cacheBw > 0)
            drawText(dl, small, ImVec2(X(i) + frame.px(4), Y(i * cacheBw) - small->FontSize - frame.px(4)),
                     th.warning, tr("in cache %1 (%2 working set)").arg(gbps(cacheBw), formatBytes(ws)));
    }
    // Legend, top left inside the chart.
    {
        float ly = top + frame.px(6), lx = left + frame.px(8);
        for (Side side : kSides) {
            dl->AddCircleFilled(ImVec2(lx + frame.px(5), ly + small->FontSize / 2), frame.px(3.5f),
                                imColor(th.side(side)));
            drawText(dl, small, ImVec2(lx + frame.px(14), ly), th.text,
                     side == Side::cached ? tr("with KV cache") : tr("without KV cache"));
            ly += small->FontSize * 1.3f;
        }
        drawText(dl, small, ImVec2(lx, ly), th.text, tr("◆ prefill (the whole prompt at once)"));
    }
    if (hovered) {
        const RooflinePoint& p = hovered->point;
        showTooltip(frame,
                    {tr("step %1: %2").arg(hovered->step).arg(stepName(*hovered)),
                     tr("%1 in %2").arg(formatFlops(p.flops), formatSeconds(p.seconds)),
                     tr("moved %1: %2 FLOPs/byte").arg(formatBytes(p.bytes), intensityText(p.intensity())),
                     tr("achieved %1, %2").arg(gflops(p.achieved()), gbps(p.achieved_bandwidth()))});
    }
    // Narration on the right.
    {
        const float nx = right + frame.px(16), nx1 = panel.x1;
        float ny = top;
        for (const QString& sentence : story) {
            QString line;
            for (const QString& w : sentence.split(QLatin1Char(' '))) {
                const QString next = line.isEmpty() ? w : line + QLatin1Char(' ') + w;
                if (textSize(body, next).x > nx1 - nx && !line.isEmpty()) {
                    drawText(dl, body, ImVec2(nx, ny), th.text, line);
                    ny += body->FontSize * 1.3f;
                    line = w;
                } else {
                    line = next;
                }
            }
            drawText(dl, body, ImVec2(nx, ny), th.text, line);
            ny += body->FontSize * 1.8f;
            if (ny > bottom) break;
        }
    }
    panel.close();
}

}  // namespace kvscope::app
