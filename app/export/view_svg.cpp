#include "export/view_svg.h"

#include <cmath>

#include "export/export_io.h"
#include "token_text.h"
#include "views/attention_renderer.h"
#include "views/heatmap_draw.h"
#include "views/kv_cache_renderer.h"

namespace kvscope::app {
namespace {

QString rangeText(float range) {
    return QString::number(double(range), 'g', 3);
}

QStringList tokenLabels(const TraceStore& store, Side side, int step) {
    const std::vector<int32_t> tokens = store.tokensUpTo(side, step);
    const Tokenizer* tok = store.model().tokenizer.get();
    QStringList labels;
    for (size_t i = 0; i < tokens.size(); ++i)
        labels << tokenLabel(tok, tokens[i], i == 0);
    return labels;
}

void addAttention(SvgPage& page, const TraceStore& store, Side side, int step, const ExportSettings& s,
                  const Theme& theme, const QString& prefix) {
    const ModelConfig& c = store.model().config();
    const StepTrace* t = store.trace(side, step);
    const int n = t->pos_end;
    const std::vector<unsigned char> lut = colormapLut(theme.sequentialStops);
    const QStringList labels = tokenLabels(store, side, step);
    for (int head = s.allHeads ? 0 : s.head; head < (s.allHeads ? c.n_heads : s.head + 1); ++head) {
        SvgHeatmap h;
        h.title = prefix + QStringLiteral("attention · layer %1 · head %2 (reads KV head %3)")
                               .arg(s.layer)
                               .arg(head)
                               .arg(head / std::max(1, c.group_size()));
        h.rows = h.cols = n;
        h.cells.resize(size_t(n) * n);
        // Coloured as the view colours them: the store's scale, each row by its largest weight or not.
        const auto scale = WeightScale(int(store.attentionScale()));
        std::vector<float> row(static_cast<size_t>(n));
        for (int q = 0; q < n; ++q) {
            float rowMax = 0;
            for (int k = 0; k < n; ++k) {
                float w = 0;
                const bool known =
                    k <= q && AttentionRenderer::weightAt(store, side, step, s.layer, head, q, k, &w);
                row[size_t(k)] = known ? w : -1.0f;
                if (known) rowMax = std::max(rowMax, w);
            }
            for (int k = 0; k < n; ++k)
                h.cells[size_t(q) * n + k] =
                    row[size_t(k)] >= 0
                        ? lutColour(lut, attentionColourPosition(row[size_t(k)], rowMax, scale,
                                                                 store.attentionRowNormalised()))
                        : theme.maskCell.rgb();
        }
        if (labels.size() == n) h.rowLabels = h.colLabels = labels;
        page.panels.push_back(std::move(h));
    }
}

void addKv(SvgPage& page, const TraceStore& store, Side side, int step, const ExportSettings& s,
           const Theme& theme, const QString& prefix) {
    const ModelConfig& c = store.model().config();
    const StepTrace* t = store.trace(side, step);
    const int n = t->pos_end;
    KvValueStats stats;
    for (int i = 0; i <= step; ++i)
        stats.addNewRows(*store.trace(side, i), s.layer);
    const std::vector<unsigned char> lut = colormapLut(theme.divergingStops);
    const QStringList labels = tokenLabels(store, side, step);
    for (int g = 0; g < c.n_kv_heads; ++g)
        for (bool key : {true, false}) {
            const float range = stats.range(key);
            SvgHeatmap h;
            h.title = prefix + QStringLiteral("%1 · layer %2 · KV head %3 (±%4)")
                                   .arg(key ? QStringLiteral("K") : QStringLiteral("V"))
                                   .arg(s.layer)
                                   .arg(g)
                                   .arg(rangeText(range));
            h.rows = n;
            h.cols = c.head_dim;
            h.cells.resize(size_t(n) * c.head_dim);
            for (int r = 0; r < n; ++r)
                for (int d = 0; d < c.head_dim; ++d) {
                    float v = 0;
                    int writtenBy = -1;
                    const bool known =
                        KvCacheRenderer::valueAt(store, side, step, s.layer, key, g, r, d, &v, &writtenBy);
                    h.cells[size_t(r) * c.head_dim + d] =
                        known ? lutColour(lut, kvColourPosition(v, range)) : theme.panel.rgb();
                }
            if (labels.size() == n) h.rowLabels = labels;
            page.panels.push_back(std::move(h));
        }
}

std::vector<QRgb> ramp(const std::vector<QColor>& stops) {
    const std::vector<unsigned char> lut = colormapLut(stops, 64);
    std::vector<QRgb> colours;
    for (size_t i = 0; i < 64; ++i)
        colours.push_back(qRgb(lut[i * 4], lut[i * 4 + 1], lut[i * 4 + 2]));
    return colours;
}

}  // namespace

Result<SvgPage> viewSvgPage(const ExportHistory& history, const ExportSettings& s) {
    ThemeKind kind = ThemeKind::light;
    if (!parseThemeKind(s.theme, &kind))
        return exportFailure(QStringLiteral("theme '%1': use light, dark or projector").arg(s.theme));
    const Theme& theme = themeFor(kind);
    // The history up to the step, in a store of its own: the lookups the views use read a store.
    TraceStore store;
    store.setModel(history.model);
    for (Side side : kSides) {
        const auto& steps = history.steps[size_t(sideIndex(side))];
        for (int i = 0; i <= s.stillStep && i < int(steps.size()); ++i)
            store.append(side, steps[size_t(i)].trace, steps[size_t(i)].maxLogitDiff);
    }
    const bool attention = s.view != ExportView::kvCache;
    const bool kv = s.view != ExportView::attention;
    std::vector<Side> sides;
    if (s.view == ExportView::sideBySide)
        sides = {Side::cached, Side::uncached};
    else
        sides = {s.uncachedRun ? Side::uncached : Side::cached};

    SvgPage page;
    page.size = s.size;
    page.background = theme.window;
    page.foreground = theme.textStrong;
    page.fontPixels = std::max(8.0, 14.0 * double(exportPixelScale(s)));
    page.title = s.title;
    page.caption = s.caption;
    for (Side side : sides) {
        const int step = store.stepFor(side);
        if (step < 0) continue;
        const QString prefix = sides.size() > 1 ? sideTitle(side) + QStringLiteral(" · ") : QString();
        if (attention) addAttention(page, store, side, step, s, theme, prefix);
        if (kv) addKv(page, store, side, step, s, theme, prefix);
    }
    if (attention)
        page.legends.push_back({QStringLiteral("attention weight"), QStringLiteral("0"), QStringLiteral("1"),
                                ramp(theme.sequentialStops)});
    if (kv)
        page.legends.push_back({QStringLiteral("K, V value (÷ the panel's range)"), QStringLiteral("−1"),
                                QStringLiteral("+1"), ramp(theme.divergingStops)});
    KVSCOPE_TRY(validateSvgPage(page));
    return page;
}

}  // namespace kvscope::app
