#include "views/attention_renderer.h"

#include <algorithm>
#include <cmath>

#include "token_text.h"
#include "views/heatmap_draw.h"

namespace kvscope::app {

namespace {
int pow2AtLeast(int n) {
    int p = 16;
    while (p < n)
        p *= 2;
    return p;
}
// Tints that tell KV-head groups apart in the small multiples.
QColor groupColour(const Theme& th, int group) {
    static const QColor dark[] = {QColor("#7aa2ff"), QColor("#c792ea"), QColor("#89ddff"), QColor("#f78c6c")};
    static const QColor light[] = {QColor("#2f5fd0"), QColor("#8e44ad"), QColor("#0f7fa6"),
                                   QColor("#b9502d")};
    return (th.isDark() ? dark : light)[group % 4];
}
}  // namespace

bool AttentionRenderer::affectedBy(const StoreChange& change, Side side) const {
    if (change.kind == StoreChange::Kind::appended) return change.side == side;
    return true;
}

void AttentionRenderer::releaseTexture(GlResources& gl) {
    if (m_texture && gl.ready()) gl.gl().glDeleteTextures(1, &m_texture);
    if (m_rowMax && gl.ready()) gl.gl().glDeleteTextures(1, &m_rowMax);
    m_texture = 0;
    m_rowMax = 0;
    m_size = 0;
    m_layer = -1;
    m_uploaded.clear();
}

void AttentionRenderer::releaseGL(GlResources& gl) {
    releaseTexture(gl);
    m_model = nullptr;
}

void AttentionRenderer::sync(FrameContext& frame) {
    const TraceStore& store = frame.store;
    GlFunctions& gl = frame.gl.gl();
    const Model* model = store.hasModel() ? store.model().model.get() : nullptr;
    if (model != m_model) {
        releaseTexture(frame.gl);
        m_model = model;
        if (!model) return;
        m_heads = model->config.n_heads;
    }
    if (!m_model) return;
    const auto& steps = store.steps(m_side);
    const int needed = steps.empty() ? 1 : steps.back().trace->pos_end;
    const int layer = store.layer();
    if (layer != m_layer || needed > m_size) {
        // A new layer or a longer sequence than the texture holds: start over (rare: sizes double).
        releaseTexture(frame.gl);
        m_size = pow2AtLeast(needed);
        m_texture = createHalfTextureArray(gl, m_size, m_size, m_heads);
        m_rowMax = createFloatTexture2D(gl, m_size, m_heads);
        m_layer = layer;
    }
    size_t first = 0;
    while (first < m_uploaded.size() && first < steps.size() && m_uploaded[first] == steps[first].serial)
        ++first;
    m_uploaded.resize(first);
    if (first == steps.size()) return;
    resetPixelStore(gl);
    for (size_t i = first; i < steps.size(); ++i) {
        const StepTrace& t = *steps[i].trace;
        if (layer < int(t.attention.size())) {
            const LayerAttention& a = t.attention[size_t(layer)];
            if (a.n_rows > 0 && a.row_begin + a.n_rows <= m_size && a.n_keys <= m_size) uploadRows(gl, a);
        }
        m_uploaded.push_back(steps[i].serial);
    }
    gl.glBindTexture(GL_TEXTURE_2D_ARRAY, 0);
}

void AttentionRenderer::uploadRows(GlFunctions& gl, const LayerAttention& a) {
    // Each new row's largest weight too, for per-row normalisation (only the new rows: the work follows
    // what changed).
    std::vector<float> maxima(size_t(a.n_rows));
    std::vector<uint16_t> block;  // a compact head's rows laid out [n_rows][n_keys], zeros past causal
    if (a.compact()) block.resize(size_t(a.n_rows) * size_t(a.n_keys));
    gl.glBindTexture(GL_TEXTURE_2D_ARRAY, m_texture);  // the row maxima go to another target (2D)
    for (int h = 0; h < m_heads; ++h) {
        if (a.compact()) {
            for (int r = 0; r < a.n_rows; ++r) {
                const uint16_t* in = a.half_row(h, r);
                const int keys = a.row_keys(r);
                uint16_t* out = block.data() + size_t(r) * a.n_keys;
                std::copy(in, in + keys, out);
                std::fill(out + keys, out + a.n_keys, uint16_t(0));
                // Weights are ≥ 0, and non-negative halves order as their bit patterns do.
                maxima[size_t(r)] = half_to_float(*std::max_element(in, in + keys));
            }
            gl.glTexSubImage3D(GL_TEXTURE_2D_ARRAY, 0, 0, a.row_begin, h, a.n_keys, a.n_rows, 1, GL_RED,
                               GL_HALF_FLOAT, block.data());
        } else {
            for (int r = 0; r < a.n_rows; ++r) {
                const float* w = a.row(h, r);
                maxima[size_t(r)] = *std::max_element(w, w + a.n_keys);
            }
            gl.glTexSubImage3D(GL_TEXTURE_2D_ARRAY, 0, 0, a.row_begin, h, a.n_keys, a.n_rows, 1, GL_RED,
                               GL_FLOAT, a.row(h, 0));
        }
        gl.glBindTexture(GL_TEXTURE_2D, m_rowMax);
        gl.glTexSubImage2D(GL_TEXTURE_2D, 0, a.row_begin, h, a.n_rows, 1, GL_RED, GL_FLOAT, maxima.data());
    }
    gl.glBindTexture(GL_TEXTURE_2D, 0);
}

std::vector<float> AttentionRenderer::textureRows(GlResources& gl, int head, int n) const {
    if (!m_texture || head < 0 || head >= m_heads) return {};
    const std::vector<float> plane = readFloatTextureLayer(gl.gl(), m_texture, m_size, m_size, m_heads, head);
    std::vector<float> out(size_t(n) * size_t(n));
    for (int r = 0; r < n && r < m_size; ++r)
        for (int k = 0; k < n && k < m_size; ++k)
            out[size_t(r) * n + k] = plane[size_t(r) * m_size + k];
    return out;
}

QRectF AttentionRenderer::tileRect(int head) const {
    for (const Tile& t : m_tiles)
        if (t.head == head) return QRectF(t.a.x, t.a.y, t.b.x - t.a.x, t.b.y - t.a.y);
    return {};
}

bool AttentionRenderer::weightAt(const TraceStore& store, Side side, int step, int layer, int head, int query,
                                 int key, float* weight) {
    for (int i = step; i >= 0; --i) {
        const StepTrace* t = store.trace(side, i);
        if (!t || layer >= int(t->attention.size())) continue;
        const LayerAttention& a = t->attention[size_t(layer)];
        if (query < a.row_begin || query >= a.row_begin + a.n_rows) continue;
        if (key < 0 || key >= a.n_keys) return false;
        *weight = a.weight(head, query - a.row_begin, key);
        return true;
    }
    return false;
}

void AttentionRenderer::drawHeader(FrameContext& frame, float& y) {
    TraceStore& store = frame.store;
    const Theme& th = frame.theme;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImFont* bold = frame.imgui.font(FontRole::bold);
    const float x0 = float(frame.rect.left()) + frame.px(10);
    const float right = float(frame.rect.right()) - frame.px(10);
    float x = x0 + drawText(dl, bold, ImVec2(x0, y), th.textStrong, tr("Attention")).x + frame.px(14);
    if (!store.hasModel()) return;
    const ModelConfig& c = store.model().config();
    const QString scaleName = store.attentionScale() == TraceStore::AttentionScale::log    ? tr("log")
                              : store.attentionScale() == TraceStore::AttentionScale::sqrt ? tr("√")
                                                                                           : tr("linear");
    if (!frame.interactive) {
        // A picture (export): the selection and the colour scale as text, no buttons to press; on as many
        // lines as it needs.
        ImFont* body = frame.imgui.font(FontRole::body);
        QStringList parts;
        parts << (store.allHeads() ? tr("layer %1 · %2 layers · all %3 heads")
                                         .arg(store.layer())
                                         .arg(c.n_layers)
                                         .arg(c.n_heads)
                                   : tr("layer %1 · %2 layers · head %3")
                                         .arg(store.layer())
                                         .arg(c.n_layers)
                                         .arg(store.head()));
        parts << tr("scale %1%2")
                     .arg(scaleName, store.attentionRowNormalised() ? tr(" · row max = 1") : QString());
        for (const QString& part : parts) {
            const float w = textSize(body, part).x;
            if (x + w > right && x > x0) {
                x = x0;
                y += bold->FontSize + frame.px(4);
            }
            drawText(dl, body, ImVec2(x, y + (bold->FontSize - body->FontSize) / 2), th.textDim,
                     elide(body, part, right - x));
            x += w + frame.px(14);
        }
        y += bold->FontSize + frame.px(8);
        return;
    }
    ImGui::PushID(this);
    const float buttonW = ImGui::GetFontSize() + ImGui::GetStyle().FramePadding.x * 2;
    const float lineH = ImGui::GetFontSize() + ImGui::GetStyle().FramePadding.y * 2 + frame.px(4);
    // Each control goes on the next line when it would not fit on this one.
    auto wrapFor = [&](float width) {
        if (x + width > right && x > x0) {
            x = x0;
            y += lineH;
        }
    };
    auto stepper = [&](const char* id, const QString& label, int value, int count, auto select) {
        // "L2 · 4 layers": the index as the rest of the app writes it (from 0) and how many there are; "2/3"
        // read as "2 of 3".
        const QString text = label.arg(value).arg(count);
        wrapFor(textSize(ImGui::GetFont(), text).x + 2 * buttonW + frame.px(8));
        ImGui::SetCursorScreenPos(ImVec2(x, y - frame.px(2)));
        ImGui::PushID(id);
        if (ImGui::SmallButton("\xE2\x97\x80")) select(value - 1);  // ◀
        ImGui::SameLine(0, frame.px(4));
        ImGui::TextUnformatted(text.toUtf8().constData());
        ImGui::SameLine(0, frame.px(4));
        if (ImGui::SmallButton("\xE2\x96\xB6")) select(value + 1);  // ▶
        ImGui::PopID();
        x = ImGui::GetItemRectMax().x + frame.px(14);
    };
    auto button = [&](const QString& label, const QString& tip, auto press) {
        const QByteArray text = label.toUtf8();
        wrapFor(textSize(ImGui::GetFont(), label).x + ImGui::GetStyle().FramePadding.x * 2);
        ImGui::SetCursorScreenPos(ImVec2(x, y - frame.px(2)));
        if (ImGui::SmallButton(text.constData())) press();
        if (ImGui::IsItemHovered()) showTooltip(frame, {label, tip}, th.accent);
        x = ImGui::GetItemRectMax().x + frame.px(10);
    };
    stepper("layer", tr("L%1 · %2 layers"), store.layer(), c.n_layers, [&](int v) { store.selectLayer(v); });
    if (!store.allHeads())
        stepper("head", tr("H%1 · %2 heads"), store.head(), c.n_heads, [&](int v) { store.selectHead(v); });
    button(store.allHeads() ? tr("one head") : tr("all %1 heads").arg(c.n_heads),
           tr("one head large, or every head of the layer grouped by the KV head they read (H)"),
           [&] { store.setAllHeads(!store.allHeads()); });
    button(tr("scale: %1").arg(scaleName), tr("how weights map to colour: linear, √ or log (1e-4 … 1)"), [&] {
        const auto next =
            store.attentionScale() == TraceStore::AttentionScale::sqrt  ? TraceStore::AttentionScale::log
            : store.attentionScale() == TraceStore::AttentionScale::log ? TraceStore::AttentionScale::linear
                                                                        : TraceStore::AttentionScale::sqrt;
        store.setAttentionScale(next);
    });
    button(store.attentionRowNormalised() ? tr("row max = 1: on") : tr("row max = 1: off"),
           tr("each query row divided by its largest weight: at long contexts a row's weights are small "
              "and a shared scale shows black"),
           [&] { store.setAttentionRowNormalised(!store.attentionRowNormalised()); });
    button(store.attentionZoom() ? tr("last rows: on") : tr("last rows: off"),
           tr("at long contexts, only the newest query rows that fit at a readable height (all keys across)"),
           [&] { store.setAttentionZoom(!store.attentionZoom()); });
    ImGui::PopID();
    y += lineH + frame.px(2);
}

void AttentionRenderer::drawTile(FrameContext& frame, ImDrawList* dl, const Tile& tile, const StepTrace& t) {
    const Theme& th = frame.theme;
    const TraceStore& store = frame.store;
    AttentionDraw d;
    d.texture = m_texture;
    d.rowMax = m_rowMax;
    d.head = tile.head;
    d.keys = tile.keys;
    d.queryBegin = tile.queryBegin;
    d.queryCount = tile.queryCount;
    d.rect = QRectF(tile.a.x, tile.a.y, tile.b.x - tile.a.x, tile.b.y - tile.a.y);
    d.rowBegin = t.restored ? t.pos_end : t.pos_begin;  // a restored step computed no attention rows
    d.rowEnd = t.pos_end;
    d.scale = WeightScale(int(store.attentionScale()));
    d.rowNormalised = store.attentionRowNormalised();
    d.rowColour = th.newRow;
    d.rowColour.setAlphaF(0.9f);
    d.maskColour = th.maskCell;
    d.gridColour = th.grid;
    if (!queueAttentionDraw(frame, dl, d)) return;
    dl->AddRect(ImVec2(tile.a.x - 1, tile.a.y - 1), ImVec2(tile.b.x + 1, tile.b.y + 1), imColor(th.border));
}

void AttentionRenderer::render(FrameContext& frame) {
    sync(frame);
    m_tiles.clear();
    TraceStore& store = frame.store;
    const Theme& th = frame.theme;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->PushClipRect(frame.topLeft(), frame.bottomRight(), true);
    float y = float(frame.rect.top()) + frame.px(6);
    drawHeader(frame, y);
    const int step = store.stepFor(m_side);
    const StepTrace* t = store.trace(m_side, step);
    if (!t || !m_model || !m_texture) {
        dl->PopClipRect();
        drawCentredMessage(frame, tr("No attention yet"),
                           tr("Each step adds one row: how much the new token looks at each earlier one."),
                           y);
        return;
    }
    if (frame.gl.shaders().program(QStringLiteral("heatmap.vert"), QStringLiteral("attention.frag")) ==
        nullptr) {
        dl->PopClipRect();
        drawCentredMessage(frame, tr("A shader failed to build"), frame.gl.shaders().error());
        return;
    }
    const ModelConfig& c = m_model->config;
    ImFont* small = frame.imgui.font(FontRole::small);
    const int cells = t->pos_end;
    const float x0 = float(frame.rect.left()) + frame.px(10), x1 = float(frame.rect.right()) - frame.px(10);
    const float footerH = small->FontSize * 2 + frame.px(12);
    const float bottom = float(frame.rect.bottom()) - footerH;
    const Tokenizer* tok = store.model().tokenizer.get();

    if (!store.allHeads()) {
        // ---- one head, large, with token labels when they fit ------------------------------------------
        const float barW = frame.px(12), barGap = frame.px(34);
        const std::vector<int32_t> tokens = store.tokensUpTo(m_side, step);
        const float availW0 = x1 - x0 - barW - barGap, availH = bottom - y - frame.px(4);
        // Long contexts: the last query rows that fit at a readable height, every key across.
        const float readableRow = frame.px(5);
        int queryCount = cells;
        if (store.attentionZoom() && float(cells) * readableRow > availH)
            queryCount = std::clamp(int(availH / readableRow), 1, cells);
        const int queryBegin = cells - queryCount;
        const bool zoomed = queryCount < cells;
        const float probe = (zoomed ? availH / float(queryCount) : std::min(availW0, availH) / float(cells));
        // Token labels need a wider gutter: they give way when the heatmap would be too small with them.
        const bool labels = probe >= small->FontSize * 1.05f &&
                            (zoomed || std::min(availW0 - frame.px(64), availH) >= frame.px(80));
        // Without token labels the gutter holds positions: as wide as the largest one and its margin.
        const float numbersW = textSize(small, QString::number(std::max(cells - 1, 0))).x + frame.px(8);
        const float gutter = labels ? frame.px(64) : std::min(frame.px(34), numbersW);
        const float availW = availW0 - gutter;
        float w, h;
        // Short of room (large type, a short pane): the heatmap takes the caption's line; the caption below
        // keeps only what still fits, or gives way.
        const float roomH = availH < frame.px(80) ? availH + small->FontSize + frame.px(4) : availH;
        if (zoomed) {
            w = std::max(frame.px(20), availW);
            h = std::max(frame.px(20), roomH);
        } else {
            w = h = std::max(frame.px(20), std::min(availW, roomH));
        }
        reportTooSmall(QStringLiteral("attention: heatmap"), std::min(w, h), frame.px(80));
        Tile tile{ImVec2(x0 + gutter, y),
                  ImVec2(x0 + gutter + w, y + h),
                  store.head(),
                  cells,
                  queryBegin,
                  queryCount};
        drawTile(frame, dl, tile, *t);
        m_tiles.push_back(tile);
        const float cellH = h / float(queryCount), cellW = w / float(cells);
        // Query axis: the token of each row (or its position).
        const int every = labels ? 1 : std::max(1, int(std::ceil(small->FontSize * 1.2f / cellH)));
        for (int r = queryBegin; r < cells; r += every) {
            const float cy = y + (float(r - queryBegin) + 0.5f) * cellH;
            const QString text =
                labels && r < int(tokens.size())
                    ? elide(small, tokenLabel(tok, tokens[size_t(r)], r == 0), gutter - frame.px(8), true)
                    : QString::number(r);
            const ImVec2 s = textSize(small, text);
            if (cy + s.y / 2 > tile.b.y + 1) break;
            const bool current = r >= t->pos_begin && r < t->pos_end;
            drawText(dl, small, ImVec2(tile.a.x - frame.px(6) - s.x, cy - s.y / 2),
                     current ? th.textStrong : th.textDim, text);
        }
        // Key axis below: tokens when each column can hold one, else positions at even steps.
        const float keyY = tile.b.y + frame.px(3);
        float lastRight = -1e9f;
        const int keyEvery =
            std::max(1, int(std::ceil(textSize(small, QString::number(cells)).x * 1.6f / cellW)));
        for (int k = 0; k < cells; ++k) {
            QString text;
            if (cellW >= small->FontSize * 2.2f && k < int(tokens.size()))
                text = elide(small, tokenLabel(tok, tokens[size_t(k)], k == 0), cellW - frame.px(2), true);
            else if (k % keyEvery == 0)
                text = QString::number(k);
            if (text.isEmpty()) continue;
            const float cx = tile.a.x + (float(k) + 0.5f) * cellW, tw = textSize(small, text).x;
            if (cx - tw / 2 < lastRight + frame.px(4) || cx + tw / 2 > x1) continue;
            drawText(dl, small, ImVec2(cx - tw / 2, keyY), th.textDim, text);
            lastRight = cx + tw / 2;
        }
        // Colour bar: its ends name what they mean under the scale in use.
        const ImVec2 ba(tile.b.x + frame.px(10), tile.a.y), bb(tile.b.x + frame.px(10) + barW, tile.b.y);
        drawColourBar(dl, ba, bb, th.sequentialStops, true);
        const bool norm = store.attentionRowNormalised();
        const QString top = norm ? tr("max") : QStringLiteral("1");
        const QString low = store.attentionScale() == TraceStore::AttentionScale::log ? QStringLiteral("1e-4")
                                                                                      : QStringLiteral("0");
        drawText(dl, small, ImVec2(bb.x + frame.px(3), ba.y - frame.px(2)), th.textDim, top);
        drawText(dl, small, ImVec2(bb.x + frame.px(3), bb.y - small->FontSize), th.textDim, low);
        const int kvHead = store.head() / std::max(1, c.group_size());
        QStringList caption;
        caption
            << tr("head %1 of layer %2 · reads KV head %3").arg(store.head()).arg(store.layer()).arg(kvHead);
        if (zoomed)
            caption << tr("the last %1 of %2 query rows (%3–%4)")
                           .arg(queryCount)
                           .arg(cells)
                           .arg(queryBegin)
                           .arg(cells - 1);
        caption << tr("rows: the token asking (query) · columns: the tokens it looks at (keys)");
        if (norm) caption << tr("each row scaled to its largest weight");
        // The caption under the key axis: the most telling parts that fit the footer, wrapped, whole.
        const float footerTop = tile.b.y + small->FontSize + frame.px(6);
        const float footerRoom = float(frame.rect.bottom()) - frame.px(2) - footerTop;
        for (int n = int(caption.size()); n >= 1; --n) {
            const QString text = caption.mid(0, n).join(QStringLiteral(" · "));
            if (drawWrapped(nullptr, small, ImVec2(x0, footerTop), x1 - x0, th.textDim, text) <= footerRoom) {
                drawWrapped(dl, small, ImVec2(x0, footerTop), x1 - x0, th.textDim, text);
                break;
            }
        }
    } else {
        // ---- every head of the layer, grouped by the KV head they read ----------------------------------
        const int n = c.n_heads, g = std::max(1, c.group_size());
        const float labelH = small->FontSize + frame.px(4), gap = frame.px(10);
        int bestCols = 1;
        float bestSide = 0;
        for (int cols = 1; cols <= n; ++cols) {
            const int rowsN = (n + cols - 1) / cols;
            const float s = std::min((x1 - x0 - gap * float(cols - 1)) / float(cols),
                                     (bottom - y - float(rowsN) * (labelH + gap)) / float(rowsN));
            if (s > bestSide) {
                bestSide = s;
                bestCols = cols;
            }
        }
        const float side = std::max(frame.px(10), bestSide);
        reportTooSmall(QStringLiteral("attention: small multiple"), side, frame.px(40));
        for (int h = 0; h < n; ++h) {
            const int col = h % bestCols, row = h / bestCols;
            const float tx = x0 + float(col) * (side + gap),
                        ty = y + float(row) * (side + labelH + gap) + labelH;
            const int group = h / g;
            const QColor gc = groupColour(th, group);
            drawText(dl, small, ImVec2(tx, ty - labelH), gc,
                     elide(small, tr("q%1 · KV %2").arg(h).arg(group), side, true));
            Tile tile{ImVec2(tx, ty), ImVec2(tx + side, ty + side), h, cells, 0, cells};
            drawTile(frame, dl, tile, *t);
            dl->AddRect(ImVec2(tile.a.x - 2, tile.a.y - 2), ImVec2(tile.b.x + 2, tile.b.y + 2), imColor(gc),
                        0, 0, 2.0f);
            m_tiles.push_back(tile);
            if (mouseIn(frame, tile.a, tile.b) && ImGui::IsMouseDoubleClicked(0)) {
                store.selectHead(h);
                store.setAllHeads(false);
            }
        }
        QString caption;
        if (c.n_kv_heads == c.n_heads)
            caption = tr("%1 query heads, each with its own KV head (multi-head attention)").arg(n);
        else if (c.n_kv_heads == 1)
            caption = tr("%1 query heads all share one KV head (multi-query attention)").arg(n);
        else
            caption = tr("%1 query heads share %2 KV heads, %3 each (grouped-query attention): same colour, "
                         "same K and V")
                          .arg(n)
                          .arg(c.n_kv_heads)
                          .arg(g);
        if (textSize(small, caption).x > x1 - x0)
            caption = tr("%1 query heads · %2 KV heads: same colour, same K and V").arg(n).arg(c.n_kv_heads);
        drawText(dl, small, ImVec2(x0, bottom + frame.px(6)), th.textDim, elide(small, caption, x1 - x0));
    }
    dl->PopClipRect();
    for (const Tile& tile : m_tiles)
        if (mouseIn(frame, tile.a, tile.b)) drawHover(frame, tile, step);
}

void AttentionRenderer::drawHover(FrameContext& frame, const Tile& tile, int step) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const float cellW = (tile.b.x - tile.a.x) / float(tile.keys);
    const float cellH = (tile.b.y - tile.a.y) / float(tile.queryCount);
    const int key = std::clamp(int((m.x - tile.a.x) / cellW), 0, tile.keys - 1);
    const int query = std::clamp(tile.queryBegin + int((m.y - tile.a.y) / cellH), tile.queryBegin,
                                 tile.queryBegin + tile.queryCount - 1);
    const TraceStore& store = frame.store;
    const std::vector<int32_t> tokens = store.tokensUpTo(m_side, step);
    const Tokenizer* tok = store.model().tokenizer.get();
    auto name = [&](int p) {
        return p < int(tokens.size()) ? tokenQuoted(tok, tokens[size_t(p)], p == 0) : QString();
    };
    QStringList lines;
    lines << tr("Layer %1 · head %2").arg(store.layer()).arg(tile.head);
    lines << tr("query: position %1 %2").arg(query).arg(name(query));
    lines << tr("key: position %1 %2").arg(key).arg(name(key));
    float w = 0;
    if (key > query)
        lines << tr("masked: a token never looks at later tokens");
    else if (weightAt(store, m_side, step, store.layer(), tile.head, query, key, &w))
        lines << tr("weight %1 (%2% of this query's attention)")
                     .arg(double(w), 0, 'f', 4)
                     .arg(double(w) * 100.0, 0, 'f', 1);
    if (cellW < 1.0f)
        lines << tr("(%1 keys share each pixel here: the colour is the largest of them)")
                     .arg(int(std::ceil(1.0f / cellW)));
    showTooltip(frame, lines, frame.theme.side(m_side));
}

}  // namespace kvscope::app
