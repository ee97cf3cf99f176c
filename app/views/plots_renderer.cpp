#include "views/plots_renderer.h"

#include <algorithm>
#include <cmath>

#include "kvscope/flop_groups.h"

namespace kvscope::app {

namespace {

// A tick step of 1, 2 or 5 × 10^k giving about `count` ticks up to `max`.
double niceStep(double max, int count) {
    if (!(max > 0)) return 1;
    const double raw = max / count;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * mag >= raw) return m * mag;
    return 10 * mag;
}

QString formatMs(double seconds) {
    return formatSeconds(seconds);
}
QString formatPlainFlops(double f) {
    return formatFlops(f);
}
QString formatPlainBytes(double b) {
    return formatBytes(b);
}

void dashedPolyline(ImDrawList* dl, const std::vector<ImVec2>& pts, ImU32 colour, float thickness,
                    float dash) {
    for (size_t i = 1; i < pts.size(); ++i) {
        const ImVec2 a = pts[i - 1], b = pts[i];
        const float len = std::hypot(b.x - a.x, b.y - a.y);
        for (float s = 0; s < len; s += 2 * dash) {
            const float e = std::min(len, s + dash);
            dl->AddLine(ImVec2(a.x + (b.x - a.x) * s / len, a.y + (b.y - a.y) * s / len),
                        ImVec2(a.x + (b.x - a.x) * e / len, a.y + (b.y - a.y) * e / len), colour, thickness);
        }
    }
}

}  // namespace

std::vector<PlotsRenderer::Point> PlotsRenderer::runningMedian(const std::vector<Point>& points, int window) {
    std::vector<Point> out;
    out.reserve(points.size());
    std::vector<double> w;
    for (size_t i = 0; i < points.size(); ++i) {
        // Centred on the point (shorter at the ends), so the line neither lags a trend nor starts on
        // whatever the first step happened to take.
        const size_t half = size_t(window) / 2;
        const size_t first = i >= half ? i - half : 0, last = std::min(points.size() - 1, i + half);
        w.clear();
        for (size_t j = first; j <= last; ++j)
            w.push_back(points[j].y);
        const size_t mid = w.size() / 2;
        std::nth_element(w.begin(), w.begin() + long(mid), w.end());
        double m = w[mid];
        if (w.size() % 2 == 0) m = (m + *std::max_element(w.begin(), w.begin() + long(mid))) / 2;
        out.push_back({points[i].x, m});
    }
    return out;
}

bool PlotsRenderer::affectedBy(const StoreChange& change, Side) const {
    if (change.kind == StoreChange::Kind::selection) return change.fields & StoreChange::stepField;
    return true;
}

std::vector<PlotsRenderer::Chart> PlotsRenderer::charts(const TraceStore& store) {
    std::vector<Chart> out(4);
    out[0] = {tr("Time per token"), tr("line: running median; dots: each step"), formatMs, {}, true};
    out[1] = {tr("FLOPs per token"), tr("dashed: attention's share"), formatPlainFlops, {}};
    out[2] = {tr("Cumulative FLOPs"), tr("prefill included"), formatPlainFlops, {}};
    out[3] = {tr("KV bytes"), tr("dashed: uncached scratch, as big, thrown away"), formatPlainBytes, {}};
    for (Side side : kSides) {
        Series time{side, false, {}}, flops{side, false, {}}, cumulative{side, false, {}},
            kv{side, false, {}}, peak{side, true, {}};
        Series prefillTime{side, false, {}, true, tr("prefill (time to first token)")};
        Series prefillFlops{side, false, {}, true, tr("prefill")};
        Series attention{side, true, {}, false, tr("attention")};
        for (const auto& s : store.steps(side)) {
            const StepTrace& t = *s.trace;
            const double x = double(t.pos_end);
            if (t.phase == Phase::decode) {
                time.points.push_back({x, t.counters.wall_seconds});
                flops.points.push_back({x, double(t.counters.flops())});
                attention.points.push_back({x, double(flops_in(t.counters, FlopGroup::attention))});
            } else {
                prefillTime.points.push_back({x, t.counters.wall_seconds});
                prefillFlops.points.push_back({x, double(t.counters.flops())});
            }
            cumulative.points.push_back({x, double(t.cumulative.flops())});
            kv.points.push_back({x, double(t.counters.kv_bytes_resident)});
            peak.points.push_back({x, double(t.counters.kv_bytes_peak)});
        }
        Series median{side, false, runningMedian(time.points, kMedianWindow)};
        time.faint = true;
        out[0].series.push_back(std::move(time));
        out[0].series.push_back(std::move(median));
        out[0].series.push_back(std::move(prefillTime));
        out[1].series.push_back(std::move(flops));
        out[1].series.push_back(std::move(attention));
        out[1].series.push_back(std::move(prefillFlops));
        out[2].series.push_back(std::move(cumulative));
        out[3].series.push_back(std::move(kv));
        if (side == Side::uncached) out[3].series.push_back(std::move(peak));
    }
    // The dashed scratch line lies exactly on the cached run's line (the same bytes): drawn last, on top.
    std::stable_partition(out[3].series.begin(), out[3].series.end(),
                          [](const Series& s) { return !s.dashed; });
    return out;
}

void PlotsRenderer::render(FrameContext& frame) {
    const TraceStore& store = frame.store;
    const Theme& th = frame.theme;
    Panel panel(frame, tr("Cost per step, both runs"));
    ImDrawList* dl = panel.dl;
    ImFont *bold = panel.bold, *small = panel.small;
    const float x0 = panel.x0, x1 = panel.x1;
    float y = panel.y;
    // The legend beside the title, each item on the next line when it would not fit on this one.
    float lx = x0 + panel.titleWidth + frame.px(18);
    auto place = [&](float width) {
        if (lx + width > x1 && lx > x0) {
            lx = x0;
            y += small->FontSize + frame.px(6);
        }
    };
    for (Side side : kSides) {
        place(frame.px(28) + textSize(small, sideTitle(side)).x);
        dl->AddLine(ImVec2(lx, y + bold->FontSize * 0.55f),
                    ImVec2(lx + frame.px(22), y + bold->FontSize * 0.55f), imColor(th.side(side)),
                    frame.px(3));
        lx += frame.px(28);
        lx += drawText(dl, small, ImVec2(lx, y + frame.px(2)), th.text, sideTitle(side)).x + frame.px(18);
    }
    place(textSize(small, tr("x axis: tokens in the sequence")).x);
    drawText(dl, small, ImVec2(lx, y + frame.px(2)), th.textDim, tr("x axis: tokens in the sequence"));
    y += frame.px(26);
    if (store.empty()) {
        panel.close();
        drawCentredMessage(frame, tr("No steps yet"),
                           tr("Both runs' costs will be drawn here, step by step."));
        return;
    }
    const std::vector<Chart> all = charts(store);
    double xMax = 16;
    for (Side side : kSides)
        if (!store.steps(side).empty())
            xMax = std::max(xMax, double(store.steps(side).back().trace->pos_end));
    xMax *= 1.08;
    const StepTrace* sel = store.trace(Side::cached, store.stepFor(Side::cached));
    const double selectedX = sel ? double(sel->pos_end) : -1;
    // Four charts in a row, two by two, or one above another: whichever gives the charts the most room for
    // their titles and axes (a wide band at the bottom, a tab beside the narration, a page of its own).
    const float w = x1 - x0, h = float(frame.rect.bottom()) - y - frame.px(4);
    const float gap = frame.px(16);
    int cols = 4, rowsN = 1;
    float best = -1;
    for (int c : {4, 2, 1}) {
        const int r = 4 / c;
        const float cwc = (w - gap * float(c - 1)) / float(c), chc = (h - gap * float(r - 1)) / float(r);
        const float room = std::min(cwc, 1.6f * chc);
        if (room > best + 0.5f) {
            best = room;
            cols = c;
            rowsN = r;
        }
    }
    const float cw = (w - gap * float(cols - 1)) / float(cols),
                ch = (h - gap * float(rowsN - 1)) / float(rowsN);
    for (int i = 0; i < 4; ++i) {
        const float cx = x0 + float(i % cols) * (cw + gap), cy = y + float(i / cols) * (ch + gap);
        drawChart(frame, all[size_t(i)], ImVec2(cx, cy), ImVec2(cx + cw, cy + ch), xMax, selectedX);
    }
    panel.close();
}

void PlotsRenderer::drawChart(FrameContext& frame, const Chart& chart, ImVec2 a, ImVec2 b, double xMax,
                              double selectedX) {
    const Theme& th = frame.theme;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImFont* small = frame.imgui.font(FontRole::small);
    ImFont* body = frame.imgui.font(FontRole::bold);
    drawPanel(dl, a, b, th.panelRaised, th.border, frame.px(4));
    // The title whole: in the small type when the bold one does not fit (a narrow chart in large text).
    ImFont* titleFont = textSize(body, chart.title).x <= b.x - a.x - frame.px(12) ? body : small;
    const float titleW = drawText(dl, titleFont, ImVec2(a.x + frame.px(8), a.y + frame.px(5)), th.text,
                                  elide(titleFont, chart.title, b.x - a.x - frame.px(12)))
                             .x;
    // The note beside the title when it fits whole (beside the log-scale switch, where there is one);
    // otherwise it goes into the chart's tooltip rather than being cut.
    const QString toggleText = m_logTime ? tr("log scale ✓") : tr("log scale");
    const float toggleW =
        chart.logScaleOffered && frame.interactive ? textSize(small, toggleText).x + frame.px(24) : 0.0f;
    const bool noteFits = textSize(small, chart.note).x <= b.x - a.x - titleW - frame.px(26) - toggleW;
    if (noteFits)
        drawText(dl, small, ImVec2(a.x + frame.px(16) + titleW, a.y + frame.px(7)), th.textDim, chart.note);
    double yMax = 0, yMinPositive = 0;
    size_t points = 0;
    size_t linePoints = 0;
    for (const Series& s : chart.series) {
        points += s.points.size();
        if (!s.prefill) linePoints += s.points.size();
        for (const Point& p : s.points)
            if (p.y > 0 && (yMinPositive <= 0 || p.y < yMinPositive)) yMinPositive = p.y;
    }
    // The prefill does the whole prompt in one step: it sets the scale only when there is nothing else yet;
    // above the decode steps it is drawn at the top edge with its value written beside it.
    // A spike in the raw (faint) points does not rescale either: the running median sets it.
    for (const Series& s : chart.series)
        if (!s.faint && (!s.prefill || linePoints == 0))
            for (const Point& p : s.points)
                yMax = std::max(yMax, p.y);
    if (points == 0) {
        const QString empty = tr("appears with the first decode step");
        const ImVec2 size = textSize(small, empty);
        drawText(dl, small, ImVec2((a.x + b.x - size.x) / 2, (a.y + b.y - size.y) / 2), th.textDim, empty);
        return;
    }
    // The log-scale switch, in the chart's top-right corner (the window only; exports use the scale set).
    const bool log = chart.logScaleOffered && m_logTime && yMinPositive > 0;
    if (chart.logScaleOffered && frame.interactive) {
        const QString& label = toggleText;
        const ImVec2 size = textSize(small, label);
        const ImVec2 ta(b.x - size.x - frame.px(14), a.y + frame.px(5)),
            tb(b.x - frame.px(6), a.y + frame.px(7) + size.y);
        const bool hover = mouseIn(frame, ta, tb);
        dl->AddRect(ta, tb, imColor(hover ? th.accent : th.border), frame.px(3));
        drawText(dl, small, ImVec2(ta.x + frame.px(4), ta.y + frame.px(1)), m_logTime ? th.text : th.textDim,
                 label);
        if (hover) {
            showTooltip(frame, {tr("Logarithmic time axis"),
                                tr("equal steps are equal ratios: the cached and uncached times stay "
                                   "readable together")});
            if (ImGui::IsMouseClicked(0)) m_logTime = !m_logTime;
        }
    }
    if (!(yMax > 0)) yMax = 1;
    double yMin = 0, yStep = 0;
    if (log) {
        yMin = std::pow(10.0, std::floor(std::log10(yMinPositive)));
        yMax = std::pow(10.0, std::ceil(std::log10(std::max(yMax, yMinPositive) * 1.05)));
        if (yMax <= yMin) yMax = yMin * 10;
    } else {
        yStep = niceStep(yMax * 1.05, 4);
        yMax = std::ceil(yMax * 1.05 / yStep) * yStep;
    }
    // Plot area, leaving room for the y labels on the left and x labels below.
    const QString widest = chart.format(yMax);
    const float left = a.x + frame.px(10) + textSize(small, widest).x + frame.px(6);
    const float top = a.y + frame.px(12) + body->FontSize;
    const float right = b.x - frame.px(10), bottom = b.y - frame.px(8) - small->FontSize - frame.px(4);
    if (right - left < frame.px(30) || bottom - top < frame.px(20)) return;
    auto X = [&](double x) { return left + float(x / xMax) * (right - left); };
    auto Y = [&](double v) {
        if (log) {
            const double t =
                (std::log10(std::max(v, yMin)) - std::log10(yMin)) / (std::log10(yMax) - std::log10(yMin));
            return bottom - float(t) * (bottom - top);
        }
        return bottom - float(v / yMax) * (bottom - top);
    };
    auto gridLine = [&](double v) {
        dl->AddLine(ImVec2(left, Y(v)), ImVec2(right, Y(v)), imColor(th.grid));
        const QString label = chart.format(v);
        drawText(dl, small, ImVec2(left - frame.px(6) - textSize(small, label).x, Y(v) - small->FontSize / 2),
                 th.textDim, label);
    };
    if (log) {
        // A line per decade, labelled while the labels do not crowd each other.
        const int decades = int(std::lround(std::log10(yMax / yMin)));
        const int every =
            std::max(1, int(std::ceil(decades * (small->FontSize + frame.px(6)) / (bottom - top))));
        for (int d = 0; d <= decades; d += every)
            gridLine(yMin * std::pow(10.0, d));
    } else {
        for (double v = 0; v <= yMax * 1.0001; v += yStep)
            gridLine(v);
    }
    const double xStep = niceStep(xMax, std::max(2, int((right - left) / frame.px(60))));
    for (double v = 0; v <= xMax; v += xStep) {
        const QString label = QString::number(v, 'f', 0);
        drawText(dl, small, ImVec2(X(v) - textSize(small, label).x / 2, bottom + frame.px(4)), th.textDim,
                 label);
    }
    dl->AddLine(ImVec2(left, bottom), ImVec2(right, bottom), imColor(th.border));
    if (selectedX >= 0)
        dl->AddLine(ImVec2(X(selectedX), top), ImVec2(X(selectedX), bottom), imColor(th.accent, 0.7f),
                    frame.px(1));
    dl->PushClipRect(ImVec2(left, top - frame.px(2)), ImVec2(right + frame.px(2), bottom + frame.px(2)),
                     true);
    for (const Series& s : chart.series) {
        if (s.faint) {
            // Each measured step, faint; one above the scale sits on the top edge as a small triangle.
            const ImU32 dot = imColor(th.side(s.side), 0.35f);
            for (const Point& p : s.points) {
                const float px = X(p.x);
                if (!log && p.y > yMax) {
                    dl->AddTriangleFilled(ImVec2(px, top - frame.px(1)),
                                          ImVec2(px - frame.px(3), top + frame.px(5)),
                                          ImVec2(px + frame.px(3), top + frame.px(5)), dot);
                    continue;
                }
                dl->AddCircleFilled(ImVec2(px, Y(p.y)), frame.px(1.8f), dot);
            }
            continue;
        }
        std::vector<ImVec2> pts;
        pts.reserve(s.points.size());
        for (const Point& p : s.points)
            pts.push_back(ImVec2(X(p.x), Y(p.y)));
        const ImU32 colour = imColor(th.side(s.side), s.dashed ? 0.8f : 1.0f);
        if (s.prefill) {
            for (size_t i = 0; i < pts.size(); ++i) {
                const bool above = s.points[i].y > yMax;
                const ImVec2 c(pts[i].x, above ? top + frame.px(7) : pts[i].y);
                const float r = frame.px(6);
                dl->AddQuadFilled(ImVec2(c.x, c.y - r), ImVec2(c.x + r, c.y), ImVec2(c.x, c.y + r),
                                  ImVec2(c.x - r, c.y), colour);
                dl->AddQuad(ImVec2(c.x, c.y - r), ImVec2(c.x + r, c.y), ImVec2(c.x, c.y + r),
                            ImVec2(c.x - r, c.y), imColor(th.textStrong), frame.px(1));
                if (above) {
                    // Right of the marker, or left of it where the chart ends first.
                    const QString value = QStringLiteral("↑ %1").arg(chart.format(s.points[i].y));
                    const float w = textSize(small, value).x;
                    const ImVec2 clipMin = dl->GetClipRectMin(), clipMax = dl->GetClipRectMax();
                    float lx = c.x + r + frame.px(3);
                    if (lx + w > clipMax.x) lx = c.x - r - frame.px(3) - w;
                    lx = std::clamp(lx, clipMin.x, std::max(clipMin.x, clipMax.x - w));
                    const float ly = std::clamp(c.y - small->FontSize / 2, clipMin.y,
                                                std::max(clipMin.y, clipMax.y - small->FontSize));
                    drawText(dl, small, ImVec2(lx, ly), th.textStrong, value);
                }
            }
            continue;
        }
        if (pts.size() == 1) dl->AddCircleFilled(pts[0], frame.px(3), colour);
        if (s.dashed) {
            // On top of the cached line it would vanish: a halo in the chart's colour under each dash.
            dashedPolyline(dl, pts, imColor(th.panelRaised), frame.px(5), frame.px(6));
            dashedPolyline(dl, pts, colour, frame.px(2.5f), frame.px(6));
        } else if (pts.size() > 1) {
            dl->AddPolyline(pts.data(), int(pts.size()), colour, 0, frame.px(2.2f));
        }
    }
    dl->PopClipRect();
    // Hover: the values of both runs at the nearest position.
    if (mouseIn(frame, ImVec2(left, top), ImVec2(right, bottom))) {
        const double x = double(ImGui::GetIO().MousePos.x - left) / double(right - left) * xMax;
        QStringList lines{noteFits ? chart.title
                                   : chart.title + QStringLiteral(" (") + chart.note + QStringLiteral(")")};
        double shownX = -1;
        for (const Series& s : chart.series) {
            const Point* best = nullptr;
            for (const Point& p : s.points)
                if (!best || std::fabs(p.x - x) < std::fabs(best->x - x)) best = &p;
            if (!best) continue;
            shownX = best->x;
            lines << QStringLiteral("%1%2: %3")
                         .arg(sideTitle(s.side))
                         .arg(!s.label.isEmpty()      ? QStringLiteral(" (%1)").arg(s.label)
                              : s.dashed              ? tr(" (scratch, during the step)")
                              : s.faint               ? tr(" (this step)")
                              : chart.logScaleOffered ? tr(" (median of %1)").arg(kMedianWindow)
                                                      : QString())
                         .arg(chart.format(best->y));
        }
        if (shownX >= 0) {
            lines.insert(1, tr("at %1 tokens").arg(shownX, 0, 'f', 0));
            dl->AddLine(ImVec2(X(shownX), top), ImVec2(X(shownX), bottom), imColor(th.textDim, 0.6f));
        }
        showTooltip(frame, lines);
    }
}

}  // namespace kvscope::app
