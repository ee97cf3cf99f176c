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
    if (model != m_model) {
        releaseTextures(frame.gl);
        if (!model) return;
        m_model = model;
        const ModelConfig& c = model->config;
        m_layers = c.n_layers;
        m_kvHeads = c.n_kv_heads;
        m_headDim = c.head_dim;
        m_texRows = std::max(1, store.model().capacity);
        m_k.resize(size_t(m_layers));
        m_v.resize(size_t(m_layers));
        for (int l = 0; l < m_layers; ++l) {
            m_k[size_t(l)] = createFloatTexture2D(gl, c.kv_dim(), m_texRows);
            m_v[size_t(l)] = createFloatTexture2D(gl, c.kv_dim(), m_texRows);
        }
    }
    if (!m_model) return;
    const auto& steps = store.steps(m_side);
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

void KvCacheRenderer::render(FrameContext& frame) {
    sync(frame);
    m_animating = false;
    m_boxes.clear();
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
    const bool cached = t ? t->mode == SessionMode::cached : m_side == Side::cached;
    const bool variant = t && cached && t->cache.policy != "exact";
    const QString title = !cached   ? tr("K and V, rebuilt every step")
                          : variant ? tr("KV cache (%1)").arg(QString::fromStdString(t->cache.label))
                                    : tr("KV cache");
    drawText(dl, bold, ImVec2(x0, y), th.textStrong, title);
    if (!t || !m_model) {
        dl->PopClipRect();
        drawCentredMessage(frame, store.hasModel() ? tr("The cache is empty") : tr("No model loaded"),
                           store.hasModel() ? tr("Press Step (Space) to run the prompt through the model.")
                                            : tr("Open a model with File ▸ Open model…"));
        return;
    }
    const ModelConfig& c = m_model->config;
    const int rows = t->pos_end;
    // What the cache holds, at its own element type with its scales (the counters' real figure); a variant
    // that evicts holds fewer rows than there are positions.
    const int held = cached ? t->cache.rows : rows;
    const double bytesPerValue = cached ? t->cache.bytes_per_value : 4.0;
    const double bytes =
        cached ? double(t->counters.kv_bytes_resident) : double(c.kv_bytes_per_token(4)) * rows;
    // Title, then the size: what the cache holds (cached) or what was rebuilt and dropped (uncached).
    const float titleW = textSize(bold, title).x;
    const QString size = !cached ? tr("keeps 0 B (rebuilt %1)").arg(formatBytes(bytes))
                         : held < rows
                             ? tr("holds %1 (%2 of %3 tokens)").arg(formatBytes(bytes)).arg(held).arg(rows)
                             : tr("holds %1").arg(formatBytes(bytes));
    drawText(dl, bold, ImVec2(x0 + titleW + frame.px(12), y), th.side(m_side),
             elide(bold, size, x1 - x0 - titleW - frame.px(12)));
    y += bold->FontSize + frame.px(3);
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
    y += small->FontSize + frame.px(8);

    // ---- geometry ------------------------------------------------------------------------------------
    const int L = m_layers, H = m_kvHeads;
    const float gutter = frame.px(40);
    const float gapLayer = frame.px(14), gapKV = frame.px(5), gapHead = frame.px(2);
    const float gridX0 = x0 + gutter;
    const float avail =
        x1 - gridX0 - gapLayer * float(L - 1) - gapKV * float(L) - gapHead * float(2 * L * (H - 1));
    const float headW = std::max(1.0f, avail / float(2 * L * H));
    const float labelH = bold->FontSize + small->FontSize + frame.px(6), kvLabelH = frame.px(17),
                legendH = frame.px(30);
    const float rowsTop = y + labelH + kvLabelH;
    const float rowsBottom = float(frame.rect.bottom()) - legendH;
    const float rowsH = std::max(frame.px(20), rowsBottom - rowsTop);
    const float rowPx = std::min(frame.px(18), rowsH / float(std::max(rows, 1)));
    const float blockH = rowPx * float(rows);

    // ---- the selected step: rows written, recomputation sweep -----------------------------------------
    const bool animate = frame.interactive && store.step(m_side, step).serial == m_arrivalSerial;
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
        d.sweepRows = float(rows);
        d.sweepColour = th.side(Side::uncached);
        d.sweepFront = age < kSweepSeconds ? float(age / kSweepSeconds) * float(rows) : -1.0f;
        // The new row's own highlight would hide the point: every row was written this step.
        d.newColour.setAlphaF(float(d.newColour.alphaF() * 0.8));
    }
    if (age < std::max(kSweepSeconds, kFlashSeconds) * 3) m_animating = true;

    const QColor sideColour = th.side(m_side);
    float x = gridX0;
    for (int l = 0; l < L; ++l) {
        const float layerW = 2 * (headW * H + gapHead * (H - 1)) + gapKV;
        const bool selected = l == store.layer();
        // Layer name and its bytes, on two lines; the selected layer (the attention view's) is underlined.
        // Labels may use the gap to the next layer; names and units shorten when even that is too narrow.
        const double layerBytes = 2.0 * H * m_headDim * held * bytesPerValue;
        const float labelW = layerW + gapLayer * 0.8f;
        const bool longNames = textSize(bold, tr("Layer %1").arg(L - 1)).x <= labelW;
        const QString name = longNames ? tr("Layer %1").arg(l) : tr("L%1").arg(l);
        QString layerSize = formatBytes(layerBytes);
        if (textSize(small, layerSize).x > labelW)
            layerSize =
                layerSize.section(QLatin1Char(' '), 0, 0) + layerSize.section(QLatin1Char(' '), 1).left(1);
        ImFont* nameFont = selected ? bold : small;
        drawText(dl, nameFont, ImVec2(x, y), selected ? th.textStrong : th.textDim,
                 elide(nameFont, name, labelW));
        drawText(dl, small, ImVec2(x, y + bold->FontSize + frame.px(1)), th.textDim,
                 elide(small, layerSize, labelW));
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
        dl->AddLine(ImVec2(gridX0 - frame.px(14), py), ImVec2(x1, py), imColor(th.textDim, 0.8f),
                    std::max(1.0f, frame.px(1)));
    }

    // ---- legend (items that do not fit are left out, never overlapped) ------------------------------
    const float ly = float(frame.rect.bottom()) - legendH + frame.px(8);
    float lx = gridX0;
    const float barH = frame.px(10);
    auto item = [&](const QColor& swatch, const std::vector<QColor>* bar, const QString& text) {
        const float swatchW = bar ? frame.px(70) : barH * 1.6f;
        const float w = swatchW + frame.px(5) + textSize(small, text).x;
        if (lx + w > x1) return;
        if (bar)
            drawColourBar(dl, ImVec2(lx, ly), ImVec2(lx + swatchW, ly + barH), *bar, false);
        else
            dl->AddRectFilled(ImVec2(lx, ly), ImVec2(lx + swatchW, ly + barH), imColor(swatch));
        drawText(dl, small, ImVec2(lx + swatchW + frame.px(5), ly - frame.px(2)), th.textDim, text);
        lx += w + frame.px(16);
    };
    if (rowsH >= frame.px(40)) {
        const bool errorShown = m_showError && !m_errK.empty();
        item(QColor(), &th.divergingStops,
             errorShown ? tr("− 0 + error (stored − computed)") : tr("− 0 + value"));
        if (!m_errK.empty()) {
            // The error overlay's switch: a legend item to click.
            const float before = lx;
            item(th.accent, nullptr, errorShown ? tr("show values") : tr("show quantization error"));
            if (lx > before &&
                mouseIn(frame, ImVec2(before, ly - frame.px(3)), ImVec2(lx, ly + barH + frame.px(3))) &&
                ImGui::IsMouseClicked(0))
                m_showError = !m_showError;
        }
        if (cached && !t->cache.contiguous) item(th.panel, nullptr, tr("evicted: gone from the cache"));
        if (cached && t->cache.sinks > 0) item(th.accent, nullptr, tr("attention sinks (kept)"));
        item(th.newRow, nullptr,
             t->phase == Phase::prefill ? tr("written by the prefill") : tr("written this step"));
        if (!cached)
            item(th.side(Side::uncached), nullptr, tr("recomputed this step: all %1 rows").arg(rows));
        else if (t->phase == Phase::decode)
            item(th.panelRaised, nullptr, tr("rows above: kept, not recomputed"));
    }
    dl->PopClipRect();

    // ---- hover ---------------------------------------------------------------------------------------
    for (const HeadBox& box : m_boxes)
        if (mouseIn(frame, box.a, box.b)) drawHover(frame, box, rows, rowPx, step);
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
    if (t && t->mode == SessionMode::uncached)
        lines << tr("recomputed from scratch at this step (and at every step before)");
    else
        lines << (writtenBy == step ? tr("written by this step")
                                    : tr("written at step %1, reused since").arg(writtenBy));
    showTooltip(frame, lines, frame.theme.side(m_side));
}

}  // namespace kvscope::app
