#include "views/kv_cache_renderer.h"

#include <cmath>

#include "format.h"
#include "token_text.h"
#include "views/heatmap_draw.h"

namespace kvscope::app {

namespace {
constexpr double kSweepSeconds = 0.45;  // the recomputation sweep down the uncached rows
constexpr double kFlashSeconds = 0.35;  // the new row's flash as it lands

// A label step of 1, 2, 5, 10, 20, 50, ... rows so labels stay `minGap` pixels apart.
int niceStep(float rowPx, float minGap) {
    int step = 1;
    for (int mult : {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000}) {
        step = mult;
        if (rowPx * float(mult) >= minGap) break;
    }
    return step;
}
}  // namespace

void KvValueStats::addNewRows(const StepTrace& t, int layer) {
    if (layer < 0 || layer >= int(t.kv.size())) return;
    const LayerKV& lk = t.kv[size_t(layer)];
    const int hd = t.head_dim;
    // Position by position, every KV head's dimensions in turn: the order the view's texture rows have.
    for (int r = std::max(0, t.pos_begin - lk.row_begin); r < lk.n_rows; ++r)
        for (int h = 0; h < t.n_kv_heads; ++h)
            for (int d = 0; d < hd; ++d) {
                const size_t i = (size_t(h) * lk.n_rows + r) * hd + d;
                const float k = lk.k[i], v = lk.v[i];
                absK = std::max(absK, std::fabs(k));
                absV = std::max(absV, std::fabs(v));
                sqK += double(k) * k;
                sqV += double(v) * v;
                n += 1;
                if (!lk.k_computed.empty()) {
                    errK = std::max(errK, std::fabs(k - lk.k_computed[i]));
                    errV = std::max(errV, std::fabs(v - lk.v_computed[i]));
                }
            }
}

float KvValueStats::range(bool key) const {
    if (n <= 0) return 1.0f;
    const float rms = float(std::sqrt((key ? sqK : sqV) / n));
    const float peak = key ? absK : absV;
    return std::max(1e-6f, std::min(peak, 3.0f * rms));
}

bool KvCacheRenderer::affectedBy(const StoreChange& change, Side side) const {
    if (change.kind == StoreChange::Kind::appended) return change.side == side;
    if (change.kind == StoreChange::Kind::selection)
        return change.fields & (StoreChange::stepField | StoreChange::layerField);
    return true;
}

void KvCacheRenderer::releaseTextures(GlResources& gl) {
    if (!gl.ready()) return;
    if (!m_k.empty()) gl.gl().glDeleteTextures(GLsizei(m_k.size()), m_k.data());
    if (!m_v.empty()) gl.gl().glDeleteTextures(GLsizei(m_v.size()), m_v.data());
    if (!m_errK.empty()) gl.gl().glDeleteTextures(GLsizei(m_errK.size()), m_errK.data());
    if (!m_errV.empty()) gl.gl().glDeleteTextures(GLsizei(m_errV.size()), m_errV.data());
    m_k.clear();
    m_v.clear();
    m_errK.clear();
    m_errV.clear();
    m_uploaded.clear();
    m_stats.clear();
    m_model = nullptr;
}

void KvCacheRenderer::releaseGL(GlResources& gl) {
    releaseTextures(gl);
}

void KvCacheRenderer::sync(FrameContext& frame) {
    const TraceStore& store = frame.store;
    GlFunctions& gl = frame.gl.gl();
    const Model* model = store.hasModel() ? store.model().model.get() : nullptr;
    const auto& steps = store.steps(m_side);
    // A row per position up to the capacity; a cache variant past the context reaches further positions:
    // the textures then grow (doubling) and every step is uploaded again, and shrink back when the history
    // goes.
    const int capacity = std::max(1, store.hasModel() ? store.model().capacity : 1);
    int texRows = capacity;
    if (!steps.empty())
        while (texRows < steps.back().trace->pos_end)
            texRows *= 2;
    if (model != m_model || (model && texRows != m_texRows)) {
        releaseTextures(frame.gl);
        if (!model) return;
        m_model = model;
        const ModelConfig& c = model->config;
        m_layers = c.n_layers;
        m_kvHeads = c.n_kv_heads;
        m_headDim = c.head_dim;
        m_texRows = texRows;
        m_k.resize(size_t(m_layers));
        m_v.resize(size_t(m_layers));
        for (int l = 0; l < m_layers; ++l) {
            m_k[size_t(l)] = createFloatTexture2D(gl, c.kv_dim(), m_texRows);
            m_v[size_t(l)] = createFloatTexture2D(gl, c.kv_dim(), m_texRows);
        }
    }
    if (!m_model) return;
    size_t first = 0;  // the first step whose upload is missing or stale
    while (first < m_uploaded.size() && first < steps.size() && m_uploaded[first] == steps[first].serial)
        ++first;
    if (first == steps.size() && m_uploaded.size() == steps.size()) return;
    m_uploaded.resize(first);
    m_stats.resize(first);

    const int kvDim = m_kvHeads * m_headDim;
    std::vector<float> rowsK, rowsV;
    resetPixelStore(gl);
    for (size_t i = first; i < steps.size(); ++i) {
        const StepTrace& t = *steps[i].trace;
        std::vector<KvValueStats> stats =
            i > 0 ? m_stats[i - 1] : std::vector<KvValueStats>(size_t(m_layers));
        for (int l = 0; l < m_layers && l < int(t.kv.size()); ++l) {
            const LayerKV& lk = t.kv[size_t(l)];
            if (lk.n_rows <= 0 || lk.row_begin + lk.n_rows > m_texRows) continue;
            // The trace holds [head][row][dim]; a texture row is one position with every head side by side.
            rowsK.assign(size_t(lk.n_rows) * kvDim, 0.0f);
            rowsV.assign(rowsK.size(), 0.0f);
            for (int h = 0; h < m_kvHeads; ++h)
                for (int r = 0; r < lk.n_rows; ++r) {
                    const size_t src = (size_t(h) * lk.n_rows + r) * m_headDim;
                    const size_t dst = size_t(r) * kvDim + size_t(h) * m_headDim;
                    std::copy_n(lk.k.data() + src, m_headDim, rowsK.data() + dst);
                    std::copy_n(lk.v.data() + src, m_headDim, rowsV.data() + dst);
                }
            gl.glBindTexture(GL_TEXTURE_2D, m_k[size_t(l)]);
            gl.glTexSubImage2D(GL_TEXTURE_2D, 0, 0, lk.row_begin, kvDim, lk.n_rows, GL_RED, GL_FLOAT,
                               rowsK.data());
            gl.glBindTexture(GL_TEXTURE_2D, m_v[size_t(l)]);
            gl.glTexSubImage2D(GL_TEXTURE_2D, 0, 0, lk.row_begin, kvDim, lk.n_rows, GL_RED, GL_FLOAT,
                               rowsV.data());
            if (lk.k_computed.size() == lk.k.size()) {
                // A lossy cache: the error of each stored value, for the error overlay.
                if (m_errK.empty())
                    for (int e = 0; e < m_layers; ++e) {
                        m_errK.push_back(createFloatTexture2D(gl, kvDim, m_texRows));
                        m_errV.push_back(createFloatTexture2D(gl, kvDim, m_texRows));
                    }
                for (int h = 0; h < m_kvHeads; ++h)
                    for (int r = 0; r < lk.n_rows; ++r)
                        for (int d = 0; d < m_headDim; ++d) {
                            const size_t src = (size_t(h) * lk.n_rows + r) * m_headDim + d;
                            const size_t dst = size_t(r) * kvDim + size_t(h) * m_headDim + d;
                            rowsK[dst] = lk.k[src] - lk.k_computed[src];
                            rowsV[dst] = lk.v[src] - lk.v_computed[src];
                        }
                gl.glBindTexture(GL_TEXTURE_2D, m_errK[size_t(l)]);
                gl.glTexSubImage2D(GL_TEXTURE_2D, 0, 0, lk.row_begin, kvDim, lk.n_rows, GL_RED, GL_FLOAT,
                                   rowsK.data());
                gl.glBindTexture(GL_TEXTURE_2D, m_errV[size_t(l)]);
                gl.glTexSubImage2D(GL_TEXTURE_2D, 0, 0, lk.row_begin, kvDim, lk.n_rows, GL_RED, GL_FLOAT,
                                   rowsV.data());
            }
            // Colour-range statistics over the rows this step added (not the recomputed ones again).
            stats[size_t(l)].addNewRows(t, l);
        }
        gl.glBindTexture(GL_TEXTURE_2D, 0);
        m_uploaded.push_back(steps[i].serial);
        m_stats.push_back(std::move(stats));
        m_arrivalSerial = steps[i].serial;
        m_arrivalTime = frame.time;
    }
}

float KvCacheRenderer::rangeFor(int step, int layer, bool key) const {
    if (step < 0 || step >= int(m_stats.size())) return 1.0f;
    return m_stats[size_t(step)][size_t(layer)].range(key);
}

bool KvCacheRenderer::valueAt(const TraceStore& store, Side side, int step, int layer, bool key, int head,
                              int row, int dim, float* value, int* writtenBy) {
    for (int i = step; i >= 0; --i) {
        const StepTrace* t = store.trace(side, i);
        if (!t || layer >= int(t->kv.size())) continue;
        const LayerKV& lk = t->kv[size_t(layer)];
        if (row < lk.row_begin || row >= lk.row_begin + lk.n_rows) continue;
        const auto& data = key ? lk.k : lk.v;
        *value =
            data[(size_t(head) * lk.n_rows + size_t(row - lk.row_begin)) * size_t(t->head_dim) + size_t(dim)];
        *writtenBy = i;
        return true;
    }
    return false;
}

QRectF KvCacheRenderer::headRect(int layer, bool key, int head) const {
    for (const HeadBox& b : m_boxes)
        if (b.layer == layer && b.key == key && b.head == head)
            return QRectF(b.a.x, b.a.y, b.b.x - b.a.x, b.b.y - b.a.y);
    return {};
}

std::vector<float> KvCacheRenderer::textureRows(GlResources& gl, int layer, bool key, int rowBegin,
                                                int nRows) const {
    if (layer < 0 || layer >= m_layers) return {};
    return readFloatTexture2D(gl.gl(), key ? m_k[size_t(layer)] : m_v[size_t(layer)], m_kvHeads * m_headDim,
                              m_texRows, rowBegin, nRows);
}

namespace {
// |Δ| up to which a recomputed row counts as the same numbers: float rounding of a different summation
// order stays near 1e-7 of the values; the lockstep logits are held to 1e-4.
constexpr float kSameRowTolerance = 1e-4f;

QString formatDelta(float d) {
    if (!(d == d)) return QStringLiteral("NaN");
    if (d == 0.0f) return QStringLiteral("0");
    return QString::number(double(d), 'g', 2);
}
}  // namespace

QStringList KvCacheRenderer::stepLines(const TraceStore& store, Side side, int step) {
    const StepTrace* t = store.trace(side, step);
    if (!t) return {};
    QStringList lines;
    if (t->mode == SessionMode::cached) {
        // The exact cache, or (the right pane) a cache variant: both keep what they computed.
        if (t->restored) {
            lines << tr("Restored from a saved cache file: these rows were read, not computed.");
        } else if (t->pos_begin == 0) {
            lines << tr("The prefill computed the K and V of every prompt token once; the cache keeps them.");
        } else {
            const int reused = std::max(0, t->cache.rows - 1);
            lines << tr("This step: 1 new row per layer and KV head; %1 rows reused from the cache")
                         .arg(formatCount(uint64_t(reused)));
            lines << (t->cache.rows < t->pos_end
                          ? tr("0 rows rebuilt; %1 positions evicted by the policy")
                                .arg(formatCount(uint64_t(t->pos_end - t->cache.rows)))
                          : tr("0 rows rebuilt so far: a past token's K and V never change"));
        }
        return lines;
    }
    if (t->pos_begin == 0) {
        const StepTrace* other = store.trace(Side::cached, step);
        lines << (other && other->restored
                      ? tr("Nothing rebuilt yet: it computed every row once, where the cached run read them "
                           "from a file.")
                      : tr("Nothing rebuilt yet: the prefill computes every row once in both runs."));
        return lines;
    }
    lines << tr("Rebuilt this step: %1 rows per layer and KV head (%2 so far)")
                 .arg(formatCount(uint64_t(t->pos_begin)))
                 .arg(formatCount(uint64_t(store.rowsRebuiltUpTo(step))));
    const RecomputeCheck* proof = store.step(side, step).recompute.get();
    if (proof)
        lines << tr("max |Δ| against the cached run's rows: %1 (layer %2, row %3) — %4")
                     .arg(formatDelta(proof->maxAbs))
                     .arg(proof->worstLayer)
                     .arg(proof->worstRow)
                     .arg(proof->maxAbs <= kSameRowTolerance ? tr("the same numbers again")
                                                             : tr("they differ!"));
    else
        lines << tr("(compared with the cached run's rows in lockstep only)");
    return lines;
}

std::vector<KvCacheRenderer::LegendItem> KvCacheRenderer::legendItems(const Theme& th, const StepTrace& t,
                                                                      bool errorShown) {
    std::vector<LegendItem> items;
    const bool cached = t.mode == SessionMode::cached;
    // A lossy element type keeps the rounding it added: the legend offers the error overlay.
    const bool lossy = cached && t.cache.element != "f32";
    items.push_back({QColor(), &th.divergingStops,
                     lossy && errorShown ? tr("− 0 + error (stored − computed)") : tr("− 0 + value")});
    if (lossy)
        items.push_back(
            {th.accent, nullptr, errorShown ? tr("show values") : tr("show quantization error"), true});
    if (cached && !t.cache.contiguous)
        items.push_back({th.panel, nullptr, tr("evicted: gone from the cache"), false, /*struck=*/true});
    if (cached && t.cache.sinks > 0) items.push_back({th.accent, nullptr, tr("attention sinks (kept)")});
    items.push_back({th.newRow, nullptr,
                     t.restored                  ? tr("restored from the file")
                     : t.phase == Phase::prefill ? tr("written by the prefill")
                                                 : tr("written this step")});
    if (!cached && t.pos_begin > 0) {
        items.push_back({th.side(Side::uncached), nullptr, tr("rebuilt again")});
        items.push_back({th.side(Side::cached), nullptr, tr("= the cached rows")});
    } else if (cached && t.phase == Phase::decode) {
        items.push_back({th.panelRaised, nullptr, tr("rows above: kept, not recomputed")});
    }
    return items;
}

float KvCacheRenderer::legendItemWidth(const FrameContext& frame, ImFont* font, const LegendItem& item) {
    const float swatchW = item.bar ? frame.px(70) : frame.px(10) * 1.6f;
    return swatchW + frame.px(5) + textSize(font, item.text).x;
}

QString KvCacheRenderer::headerTitle(const StepTrace* t, Side side) {
    const bool cached = t ? t->mode == SessionMode::cached : side == Side::cached || rightRunIsVariant();
    if (!cached) return tr("K and V, rebuilt every step");
    if (t && t->cache.policy != "exact")
        return tr("KV cache (%1)").arg(QString::fromStdString(t->cache.label));
    return tr("KV cache");
}

QString KvCacheRenderer::headerSize(const StepTrace& t, const ModelConfig& c) {
    // What the cache holds, at its own element type with its scales (the counters' real figure), or what
    // the uncached run rebuilt and dropped; a variant that evicts holds fewer rows than there are positions.
    const int rows = t.pos_end;
    if (t.mode != SessionMode::cached)
        return tr("keeps 0 B (rebuilt %1)").arg(formatBytes(double(c.kv_bytes_per_token(4)) * rows));
    const double bytes = double(t.counters.kv_bytes_resident);
    return t.cache.rows < rows
               ? tr("holds %1 (%2 of %3 tokens)").arg(formatBytes(bytes)).arg(t.cache.rows).arg(rows)
               : tr("holds %1").arg(formatBytes(bytes));
}

void KvCacheRenderer::render(FrameContext& frame) {
    sync(frame);
    m_animating = false;
    m_boxes.clear();
    m_layerBoxes.clear();
    m_proofBoxes.clear();
    TraceStore& store = frame.store;
    const Theme& th = frame.theme;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->PushClipRect(frame.topLeft(), frame.bottomRight(), true);
    ImFont* bold = frame.imgui.font(FontRole::bold);
    ImFont* small = frame.imgui.font(FontRole::small);

    const int step = store.stepFor(m_side);
    const StepTrace* t = store.trace(m_side, step);
    const float pad = frame.px(10);
    const float x0 = float(frame.rect.left()) + pad, x1 = float(frame.rect.right()) - pad;
    float y = float(frame.rect.top()) + frame.px(6);
    // Before the first step the run's settings say it: the right pane may run a cache variant.
    const bool cached = t ? t->mode == SessionMode::cached : m_side == Side::cached || rightRunIsVariant();
    const QString title = headerTitle(t, m_side);
    drawText(dl, bold, ImVec2(x0, y), th.textStrong, title);
    if (!t || !m_model) {
        dl->PopClipRect();
        drawCentredMessage(frame, store.hasModel() ? tr("The cache is empty") : tr("No model loaded"),
                           store.hasModel() ? tr("Press Step (Space) to run the prompt through the model.")
                                            : tr("Open a model with File ▸ Open model…"),
                           y + bold->FontSize + frame.px(4));
        return;
    }
    const ModelConfig& c = m_model->config;
    const int rows = t->pos_end;
    const int held = cached ? t->cache.rows : rows;
    const double bytesPerValue = cached ? t->cache.bytes_per_value : 4.0;
    // Title, then the size; on the next line when the title leaves no room for it in either pane (both
    // panes take the same lines, so their rows line up).
    const QString size = headerSize(*t, c);
    auto wraps = [&](Side side) {
        const StepTrace* st = store.trace(side, store.stepFor(side));
        if (!st) return false;
        return x0 + textSize(bold, headerTitle(st, side)).x + frame.px(12) +
                   textSize(bold, headerSize(*st, c)).x >
               x1;
    };
    ImFont* sizeFont = bold;
    float sizeX = x0 + textSize(bold, title).x + frame.px(12);
    if (wraps(Side::cached) || wraps(Side::uncached)) {
        y += bold->FontSize + frame.px(2);
        sizeX = x0;
        sizeFont = small;
    }
    drawText(dl, sizeFont, ImVec2(sizeX, y), th.side(m_side), elide(sizeFont, size, x1 - sizeX));
    y += sizeFont->FontSize + frame.px(3);
    // The size formula with this model's numbers, as long as the view allows.
    const QString bpv = QString::number(bytesPerValue, 'g', 3);
    const QString element = cached && t->cache.element != "f32"
                                ? tr(" (%1 with its scales)").arg(QString::fromStdString(t->cache.element))
                                : QString();
    const QString formulas[] = {
        tr("= 2 (K and V) × %1 layers × %2 KV heads × %3 dims × %4 tokens × %5 bytes") + element,
        tr("= 2 × %1 layers × %2 KV heads × %3 dims × %4 tokens × %5 B"),
        tr("= 2 × %1 × %2 × %3 × %4 × %5 B"),
    };
    for (const QString& f : formulas) {
        const QString text = f.arg(c.n_layers).arg(c.n_kv_heads).arg(c.head_dim).arg(held).arg(bpv);
        if (textSize(small, text).x <= x1 - x0 || &f == &formulas[2]) {
            drawText(dl, small, ImVec2(x0, y), th.textDim, elide(small, text, x1 - x0));
            break;
        }
    }
    y += small->FontSize + frame.px(4);

    // ---- what the step kept or rebuilt: the uncached run's rebuilt rows, proven equal to the cached ones --
    // Both panes reserve the taller side's lines (and legend), so their rows line up position by position.
    const TraceStore::Step& stored = store.step(m_side, step);
    const RecomputeCheck* proof = cached ? nullptr : stored.recompute.get();
    const QStringList lines = stepLines(store, m_side, step);
    float linesH = 0;
    for (Side other : kSides) {
        float h = 0;
        for (const QString& line : stepLines(store, other, store.stepFor(other)))
            h += drawWrapped(nullptr, small, ImVec2(x0, y), x1 - x0, th.text, line);
        linesH = std::max(linesH, h);
    }
    // The legend's lines: as many as the longer legend of the two runs needs at this width.
    const float barH = frame.px(10), legendLineH = small->FontSize + frame.px(6);
    const std::vector<LegendItem> legend = legendItems(th, *t, m_showError && !m_errK.empty());
    int legendLines = 1;
    for (Side other : kSides) {
        const StepTrace* ot = store.trace(other, store.stepFor(other));
        if (!ot) continue;
        int n = 1;
        float lx = x0 + frame.px(40);
        for (const LegendItem& it : legendItems(th, *ot, m_showError)) {
            const float w = legendItemWidth(frame, small, it);
            if (lx + w > x1 && lx > x0 + frame.px(40)) {
                lx = x0 + frame.px(40);
                ++n;
            }
            lx += w + frame.px(16);
        }
        legendLines = std::max(legendLines, n);
    }
    float legendH = frame.px(14) + legendLineH * float(legendLines);
    // The rows come first: when the view is short (an export frame, a projector), the legend and then these
    // lines give way so that the rows keep a readable height (the narration says the same in words).
    {
        const int L = m_layers, H = m_kvHeads;
        const float widthForHeads = x1 - x0 - frame.px(40) - frame.px(14) * float(L - 1) -
                                    frame.px(5) * float(L) - frame.px(2) * float(2 * L * (H - 1));
        const bool overviewLikely = widthForHeads / float(2 * L * H) < frame.px(10);
        const float fixedH =
            bold->FontSize + 2 * small->FontSize + frame.px(9) + (overviewLikely ? frame.px(74) : 0.0f);
        const float wanted = std::min(float(rows) * frame.px(7), frame.px(100));
        auto rowsLeft = [&] {
            return float(frame.rect.bottom()) - y - linesH - frame.px(7) - legendH - fixedH;
        };
        if (rowsLeft() < wanted) legendH = 0;
        if (rowsLeft() < wanted) linesH = -frame.px(7);
    }
    if (linesH > 0) {
        const bool alarm = proof && proof->maxAbs > kSameRowTolerance;
        float ly = y;
        for (const QString& line : lines)
            ly += drawWrapped(dl, small, ImVec2(x0, ly), x1 - x0, alarm ? th.error : th.side(m_side), line);
    }
    y += linesH + frame.px(7);

    // ---- the selected step: rows written, recomputation sweep -----------------------------------------
    const bool animate = frame.interactive && stored.serial == m_arrivalSerial;
    const double age = frame.stepAge >= 0 ? frame.stepAge : animate ? frame.time - m_arrivalTime : 1e9;
    KvHeadDraw d;
    d.rows = rows;
    d.cols = m_headDim;
    d.newBegin = t->pos_begin;
    d.newEnd = t->pos_end;
    QColor newColour = th.newRow;
    newColour.setAlphaF(float(0.75 + 0.25 * std::exp(-age / kFlashSeconds)));
    d.newColour = newColour;
    d.gridColour = th.grid;
    if (!cached) {
        // The sweep runs over the rows rebuilt although the cache would have held them; the new row keeps
        // its own highlight.
        d.sweepRows = float(t->pos_begin);
        d.sweepColour = th.side(Side::uncached);
        d.sweepFront = age < kSweepSeconds ? float(age / kSweepSeconds) * float(rows) : -1.0f;
    }
    if (age < std::max(kSweepSeconds, kFlashSeconds) * 3) m_animating = true;

    const int L = m_layers, H = m_kvHeads;
    const float bottom = float(frame.rect.bottom()) - legendH;
    // Every layer side by side while each head's block stays wide enough to read; past that, an overview
    // of all layers (their growth to the context) above the selected layer in detail.
    const float gutter = frame.px(40);
    const float gapLayer = frame.px(14), gapKV = frame.px(5), gapHead = frame.px(2);
    const float allAvail =
        x1 - x0 - gutter - gapLayer * float(L - 1) - gapKV * float(L) - gapHead * float(2 * L * (H - 1));
    const float minHeadW = frame.px(10);
    const bool overview = allAvail / float(2 * L * H) < minHeadW;
    if (overview) {
        const float bandH = std::clamp((bottom - y) * 0.34f, frame.px(64), frame.px(200));
        drawOverview(frame, dl, QRectF(x0, y, x1 - x0, bandH), rows, step, d);
        y += bandH + frame.px(10);
    }
    const int firstLayer = overview ? std::clamp(store.layer(), 0, L - 1) : 0;
    const int nLayers = overview ? 1 : L;
    const float avail = x1 - x0 - gutter - gapLayer * float(nLayers - 1) - gapKV * float(nLayers) -
                        gapHead * float(2 * nLayers * (H - 1));
    const float headW = std::max(1.0f, avail / float(2 * nLayers * H));
    reportTooSmall(QStringLiteral("kv_cache: head block width"), headW, std::min(minHeadW, frame.px(6)));
    const float labelH = bold->FontSize + small->FontSize + frame.px(6),
                kvLabelH = small->FontSize + frame.px(3);
    const float rowsTop = y + labelH + kvLabelH;
    const float rowsH = std::max(frame.px(20), bottom - rowsTop);
    reportTooSmall(QStringLiteral("kv_cache: rows area height"), bottom - rowsTop, frame.px(60));
    const float rowPx = std::min(frame.px(18), rowsH / float(std::max(rows, 1)));
    const float blockH = rowPx * float(rows);
    const float gridX0 = x0 + gutter;

    const QColor sideColour = th.side(m_side);
    float x = gridX0;
    const float proofW = cached ? 0.0f : std::clamp(headW * 0.35f, frame.px(4), frame.px(10));
    for (int l = firstLayer; l < firstLayer + nLayers; ++l) {
        const float layerW = 2 * (headW * H + gapHead * (H - 1)) + gapKV;
        const bool selected = l == store.layer();
        // Layer name and its bytes, on two lines; the selected layer (the attention view's) is underlined.
        // Labels may use the gap to the next layer; names and units shorten when even that is too narrow.
        const double layerBytes = 2.0 * H * m_headDim * held * bytesPerValue;
        const float labelW = layerW + gapLayer * 0.8f;
        QString name = tr("Layer %1").arg(l);
        if (textSize(bold, tr("Layer %1").arg(L - 1)).x > labelW) name = tr("L%1").arg(l);
        QString layerSize = formatBytes(layerBytes);
        if (textSize(small, layerSize).x > labelW)
            layerSize =
                layerSize.section(QLatin1Char(' '), 0, 0) + layerSize.section(QLatin1Char(' '), 1).left(1);
        ImFont* nameFont = selected ? bold : small;
        drawText(dl, nameFont, ImVec2(x, y), selected ? th.textStrong : th.textDim,
                 elide(nameFont, name, labelW, true));
        drawText(dl, small, ImVec2(x, y + bold->FontSize + frame.px(1)), th.textDim,
                 elide(small, layerSize, labelW, true));
        if (selected)
            dl->AddRectFilled(ImVec2(x, y + labelH - frame.px(3)),
                              ImVec2(x + layerW, y + labelH - frame.px(1)), imColor(th.accent));
        for (int kv = 0; kv < 2; ++kv) {
            const bool key = kv == 0;
            const float bx = x + float(kv) * (headW * H + gapHead * (H - 1) + gapKV);
            drawText(dl, small, ImVec2(bx, y + labelH), th.textDim,
                     key ? QStringLiteral("K") : QStringLiteral("V"));
            for (int h = 0; h < H; ++h) {
                const float hx = bx + float(h) * (headW + gapHead);
                const ImVec2 a(hx, rowsTop), b(hx + headW, rowsTop + blockH);
                if (headW >= frame.px(24) && H > 1)
                    drawText(dl, small, ImVec2(hx + frame.px(12), y + labelH), th.textDim, tr("h%1").arg(h));
                const bool showError = m_showError && !m_errK.empty() && step < int(m_stats.size());
                d.texture = showError ? (key ? m_errK[size_t(l)] : m_errV[size_t(l)])
                                      : (key ? m_k[size_t(l)] : m_v[size_t(l)]);
                d.colOffset = h * m_headDim;
                d.cols = m_headDim;
                d.rect = QRectF(a.x, a.y, headW, blockH);
                d.range = showError ? std::max(1e-9f, key ? m_stats[size_t(step)][size_t(l)].errK
                                                          : m_stats[size_t(step)][size_t(l)].errV)
                                    : rangeFor(step, l, key);
                if (!queueKvHeadDraw(frame, dl, d)) {
                    dl->PopClipRect();
                    drawCentredMessage(frame, tr("A shader failed to build"), frame.gl.shaders().error());
                    return;
                }
                if (cached && !t->cache.contiguous) {
                    // Positions this layer and KV head no longer holds: gone, struck through.
                    for (int r = 0; r < rows;) {
                        if (t->cache.holds(l, h, r)) {
                            ++r;
                            continue;
                        }
                        int e = r;
                        while (e < rows && !t->cache.holds(l, h, e))
                            ++e;
                        const float ya = rowsTop + float(r) * rowPx, yb = rowsTop + float(e) * rowPx;
                        dl->AddRectFilled(ImVec2(a.x, ya), ImVec2(b.x, yb), imColor(th.panel, 0.92f));
                        for (int k = r; k < e; ++k) {
                            const float cy = rowsTop + (float(k) + 0.5f) * rowPx;
                            if (rowPx >= frame.px(3) || k == r)
                                dl->AddLine(ImVec2(a.x, cy), ImVec2(b.x, cy), imColor(th.textDim, 0.55f),
                                            std::max(1.0f, frame.px(1)));
                        }
                        r = e;
                    }
                }
                if (cached && t->cache.sinks > 0) {
                    // Attention sinks: kept whatever the window, marked on the block's left edge.
                    const float yb = rowsTop + float(std::min(t->cache.sinks, rows)) * rowPx;
                    dl->AddRectFilled(ImVec2(a.x - frame.px(3), a.y), ImVec2(a.x, yb), imColor(th.accent));
                }
                dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1),
                            imColor(selected ? sideColour : th.border, selected ? 0.9f : 1.0f));
                m_boxes.push_back({a, b, l, h, key});
            }
        }
        // The uncached run: beside the layer, the rows it rebuilt marked against the cached run's rows —
        // in the cached run's colour where they are the same numbers, in the error colour where not.
        if (!cached && t->pos_begin > 0) {
            const float px0 = x + layerW + frame.px(2), px1 = px0 + proofW;
            const float top = rowsTop, rebuiltBottom = rowsTop + rowPx * float(t->pos_begin);
            dl->AddRectFilled(ImVec2(px0, top), ImVec2(px1, rebuiltBottom),
                              imColor(th.side(Side::cached), 0.85f));
            if (proof && !proof->diff.row_max.empty() && l < proof->diff.n_layers) {
                // Rows that differ: one mark per pixel row at most (the work follows the pixels, not rows).
                const int perPixel = std::max(1, int(std::ceil(1.0f / std::max(rowPx, 1e-3f))));
                for (int r0 = 0; r0 < proof->rows; r0 += perPixel) {
                    float worst = 0;
                    for (int r = r0; r < std::min(proof->rows, r0 + perPixel); ++r)
                        worst = std::max(worst, proof->diff.at(l, r));
                    if (worst > kSameRowTolerance)
                        dl->AddRectFilled(ImVec2(px0, top + rowPx * float(r0)),
                                          ImVec2(px1, top + rowPx * float(r0 + perPixel)), imColor(th.error));
                }
            }
            m_proofBoxes.push_back(
                {ImVec2(px0 - frame.px(2), top), ImVec2(px1 + frame.px(2), rebuiltBottom), l});
        }
        // A click on a layer selects it for the attention view.
        if (mouseIn(frame, ImVec2(x, y), ImVec2(x + layerW, rowsTop + blockH)) && ImGui::IsMouseClicked(0))
            store.selectLayer(l);
        x += layerW + gapLayer;
    }

    // ---- row axis: positions, and the end of the prompt ------------------------------------------------
    const int every = niceStep(rowPx, small->FontSize * 1.1f);
    for (int r = 0; r < rows; r += every) {
        const QString n = QString::number(r);
        const ImVec2 s = textSize(small, n);
        const float cy = rowsTop + (float(r) + 0.5f) * rowPx;
        if (cy + s.y / 2 > rowsTop + blockH + 1) break;
        drawText(dl, small, ImVec2(gridX0 - frame.px(6) - s.x, cy - s.y / 2), th.textDim, n);
    }
    const int prompt = store.promptLength(m_side);
    if (prompt > 0 && prompt < rows) {
        const float py = rowsTop + float(prompt) * rowPx;
        dl->AddLine(ImVec2(gridX0 - frame.px(14), py), ImVec2(std::min(x, x1), py), imColor(th.textDim, 0.8f),
                    std::max(1.0f, frame.px(1)));
    }

    // ---- legend: every item, on as many lines as it takes (the space was reserved above) ---------------
    if (legendH > 0) {
        float ly = float(frame.rect.bottom()) - legendH + frame.px(8);
        float lx = gridX0;
        for (const LegendItem& it : legend) {
            const float w = legendItemWidth(frame, small, it);
            if (lx + w > x1 && lx > gridX0) {
                lx = gridX0;
                ly += legendLineH;
            }
            const float swatchW = it.bar ? frame.px(70) : barH * 1.6f;
            if (it.bar)
                drawColourBar(dl, ImVec2(lx, ly), ImVec2(lx + swatchW, ly + barH), *it.bar, false);
            else
                dl->AddRectFilled(ImVec2(lx, ly), ImVec2(lx + swatchW, ly + barH), imColor(it.swatch));
            if (it.struck) {
                dl->AddRect(ImVec2(lx, ly), ImVec2(lx + swatchW, ly + barH), imColor(th.border));
                dl->AddLine(ImVec2(lx, ly + barH / 2), ImVec2(lx + swatchW, ly + barH / 2),
                            imColor(th.textDim, 0.55f), std::max(1.0f, frame.px(1)));
            }
            drawText(dl, small, ImVec2(lx + swatchW + frame.px(5), ly - frame.px(2)), th.textDim, it.text);
            // The error overlay's switch is a legend item to click.
            if (it.errorSwitch &&
                mouseIn(frame, ImVec2(lx, ly - frame.px(3)), ImVec2(lx + w, ly + barH + frame.px(3))) &&
                ImGui::IsMouseClicked(0))
                m_showError = !m_showError;
            lx += w + frame.px(16);
        }
    }
    dl->PopClipRect();

    // ---- hover ---------------------------------------------------------------------------------------
    for (const HeadBox& box : m_boxes)
        if (mouseIn(frame, box.a, box.b)) drawHover(frame, box, rows, rowPx, step);
    for (const ProofBox& box : m_proofBoxes)
        if (mouseIn(frame, box.a, box.b)) {
            const int row = std::clamp(int((ImGui::GetIO().MousePos.y - box.a.y) / rowPx), 0, rows - 1);
            QStringList lines;
            if (proof && !proof->diff.row_max.empty() && row < proof->rows &&
                box.layer < proof->diff.n_layers) {
                const float delta = proof->diff.at(box.layer, row);
                lines << tr("Row %1 of layer %2 recomputed: max |Δ| = %3")
                             .arg(row)
                             .arg(box.layer)
                             .arg(formatDelta(delta));
                lines << (delta <= kSameRowTolerance
                              ? tr("identical to the cached run's row (float rounding), because a past "
                                   "token's K and V never change")
                              : tr("differs from the cached run's row by more than %1")
                                    .arg(formatDelta(kSameRowTolerance)));
                lines << tr("over K and V of all %1 KV heads × %2 dimensions").arg(H).arg(m_headDim);
            } else {
                lines << tr("Row %1 of layer %2: rebuilt at this step").arg(row).arg(box.layer);
                lines << tr("the cached run kept it from an earlier step (compared in lockstep only)");
            }
            showTooltip(frame, lines, th.side(Side::uncached));
        }
    for (const LayerBox& box : m_layerBoxes)
        if (mouseIn(frame, box.a, box.b)) {
            const double layerBytes = 2.0 * H * m_headDim * rows * 4.0;
            showTooltip(
                frame,
                {tr("Layer %1 of %2").arg(box.layer).arg(L),
                 tr("K and V of %1 KV heads × %2 positions = %3")
                     .arg(H)
                     .arg(rows)
                     .arg(formatBytes(layerBytes)),
                 tr("the column fills as the sequence grows to the context (%1 positions)").arg(m_texRows),
                 tr("click to show this layer below and in the attention view")},
                th.side(m_side));
        }
}

void KvCacheRenderer::drawOverview(FrameContext& frame, ImDrawList* dl, const QRectF& band, int rows,
                                   int step, KvHeadDraw d) {
    TraceStore& store = frame.store;
    const Theme& th = frame.theme;
    ImFont* small = frame.imgui.font(FontRole::small);
    const int L = m_layers;
    const float x0 = float(band.left()), x1 = float(band.right());
    const float labelH = small->FontSize + frame.px(3);
    QString caption = tr("All %1 layers: K | V of %2 KV heads each, filled to %3 of %4 positions · click one")
                          .arg(L)
                          .arg(m_kvHeads)
                          .arg(rows)
                          .arg(m_texRows);
    if (textSize(small, caption).x > x1 - x0)
        caption = tr("All %1 layers · %2 of %3 positions").arg(L).arg(rows).arg(m_texRows);
    drawText(dl, small, ImVec2(x0, float(band.top())), th.textDim, elide(small, caption, x1 - x0));
    const float top = float(band.top()) + labelH + frame.px(2);
    const float numbersH = small->FontSize + frame.px(2);
    const float fullH = std::max(frame.px(20), float(band.bottom()) - top - numbersH);
    const float gap = L > 16 ? frame.px(2) : frame.px(4);
    const float layerW = std::max(2.0f, (x1 - x0 - gap * float(L - 1)) / float(L));
    reportTooSmall(QStringLiteral("kv_cache: overview column width"), layerW, frame.px(4));
    // Growth: each column is the whole context tall, filled to the rows held.
    const float filled = fullH * float(rows) / float(std::max(m_texRows, 1));
    d.rows = rows;
    d.cols = m_kvHeads * m_headDim;
    d.colOffset = 0;
    const int every = niceStep(layerW + gap, textSize(small, QString::number(L - 1)).x + frame.px(6));
    for (int l = 0; l < L; ++l) {
        const float lx = x0 + float(l) * (layerW + gap);
        const bool selected = l == store.layer();
        dl->AddRectFilled(ImVec2(lx, top), ImVec2(lx + layerW, top + fullH), imColor(th.panelRaised));
        const float half = (layerW - 1.0f) / 2.0f;
        for (int kv = 0; kv < 2; ++kv) {
            const bool key = kv == 0;
            d.texture = key ? m_k[size_t(l)] : m_v[size_t(l)];
            d.rect =
                QRectF(lx + float(kv) * (half + 1.0f), top, std::max(1.0f, half), std::max(1.0f, filled));
            d.range = rangeFor(step, l, key);
            queueKvHeadDraw(frame, dl, d);
        }
        dl->AddRect(ImVec2(lx - 1, top - 1), ImVec2(lx + layerW + 1, top + fullH + 1),
                    imColor(selected ? th.accent : th.border), 0, 0, selected ? frame.px(2) : 1.0f);
        if (l % every == 0 || selected) {
            const QString n = QString::number(l);
            const float w = textSize(small, n).x;
            drawText(dl, small, ImVec2(lx + layerW / 2 - w / 2, top + fullH + frame.px(2)),
                     selected ? th.textStrong : th.textDim, n);
        }
        const ImVec2 a(lx, top), b(lx + layerW + gap, top + fullH);
        m_layerBoxes.push_back({a, b, l});
        if (mouseIn(frame, a, b) && ImGui::IsMouseClicked(0)) store.selectLayer(l);
    }
}

void KvCacheRenderer::drawHover(FrameContext& frame, const HeadBox& box, int rows, float rowPx, int step) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const int row = std::clamp(int((m.y - box.a.y) / rowPx), 0, rows - 1);
    const int dim =
        std::clamp(int((m.x - box.a.x) / (box.b.x - box.a.x) * float(m_headDim)), 0, m_headDim - 1);
    const TraceStore& store = frame.store;
    const ModelConfig& c = m_model->config;
    const std::vector<int32_t> tokens = store.tokensUpTo(m_side, step);
    const Tokenizer* tok = store.model().tokenizer.get();
    QStringList lines;
    lines << tr("Layer %1 · %2 · KV head %3")
                 .arg(box.layer)
                 .arg(box.key ? tr("key (K)") : tr("value (V)"))
                 .arg(box.head);
    const int g = c.group_size();
    lines << (g > 1 ? tr("read by query heads %1–%2 (grouped-query attention)")
                          .arg(box.head * g)
                          .arg(box.head * g + g - 1)
                    : tr("read by query head %1").arg(box.head));
    if (row < int(tokens.size()))
        lines << tr("position %1: %2").arg(row).arg(tokenQuoted(tok, tokens[size_t(row)], row == 0));
    float value = 0;
    int writtenBy = -1;
    const StepTrace* t = store.trace(m_side, step);
    if (valueAt(store, m_side, step, box.layer, box.key, box.head, row, dim, &value, &writtenBy)) {
        lines << tr("dimension %1 = %2").arg(dim).arg(double(value), 0, 'f', 4);
        // A lossy cache: the value as the model computed it, and the rounding the cache added.
        if (const StepTrace* w = store.trace(m_side, writtenBy); w && box.layer < int(w->kv.size())) {
            const LayerKV& lk = w->kv[size_t(box.layer)];
            const auto& computed = box.key ? lk.k_computed : lk.v_computed;
            const size_t i =
                (size_t(box.head) * lk.n_rows + size_t(row - lk.row_begin)) * size_t(w->head_dim) +
                size_t(dim);
            if (!computed.empty() && i < computed.size())
                lines << tr("computed %1, stored as %2 (%3): error %4")
                             .arg(double(computed[i]), 0, 'f', 4)
                             .arg(double(value), 0, 'f', 4)
                             .arg(QString::fromStdString(w->cache.element))
                             .arg(double(value - computed[i]), 0, 'g', 3);
        }
    }
    if (t && t->mode == SessionMode::cached && !t->cache.contiguous &&
        !t->cache.holds(box.layer, box.head, row))
        lines << tr("evicted by %1: this layer and head no longer hold it")
                     .arg(QString::fromStdString(t->cache.label));
    else if (t && row < t->cache.sinks)
        lines << tr("an attention sink: kept for as long as the run goes");
    if (t && t->mode == SessionMode::uncached) {
        if (row < t->pos_begin) {
            lines << tr("rebuilt from scratch at this step (and at every step before)");
            const RecomputeCheck* proof = store.step(m_side, step).recompute.get();
            if (proof && !proof->diff.row_max.empty() && row < proof->rows)
                lines << tr("max |Δ| against the cached run's row: %1 — the same numbers again")
                             .arg(formatDelta(proof->diff.at(box.layer, row)));
        } else {
            lines << tr("new at this step: the one row a cache would compute");
        }
    } else {
        lines << (writtenBy == step ? tr("written by this step")
                                    : tr("written at step %1, reused since").arg(writtenBy));
    }
    showTooltip(frame, lines, frame.theme.side(m_side));
}

}  // namespace kvscope::app
