#include "views/block_map_renderer.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "format.h"
#include "theme.h"

namespace kvscope::app {

QColor conversationColour(int i) {
    static const QColor kColours[] = {QColor(0x4e, 0x9a, 0xf0), QColor(0xe8, 0x6f, 0x5a),
                                      QColor(0x5c, 0xc0, 0x6a), QColor(0xc0, 0x7c, 0xe8),
                                      QColor(0xe8, 0xb4, 0x3c), QColor(0x3c, 0xc8, 0xc0),
                                      QColor(0xe0, 0x6a, 0xb0), QColor(0x9a, 0xa0, 0x50)};
    return kColours[((i % 8) + 8) % 8];
}

namespace {

// Square cells, as large as let `cells` of them fit in the area, row by row.
struct Grid {
    float left = 0, top = 0, size = 0;
    int cols = 1;
    ImVec2 a(int i) const { return ImVec2(left + float(i % cols) * size, top + float(i / cols) * size); }
    ImVec2 b(int i) const {
        const ImVec2 p = a(i);
        return ImVec2(p.x + size - 1, p.y + size - 1);
    }
    int at(ImVec2 p, int cells) const {
        if (p.x < left || p.y < top || size <= 0) return -1;
        const int c = int((p.x - left) / size), r = int((p.y - top) / size);
        const int i = r * cols + c;
        return c < cols && i < cells ? i : -1;
    }
};

Grid fitGrid(float left, float top, float width, float height, int cells) {
    Grid g;
    g.left = left;
    g.top = top;
    float size = std::floor(std::sqrt(width * height / float(std::max(cells, 1))));
    for (; size > 2; size -= 1) {
        const int cols = std::max(1, int(width / size));
        if (float((cells + cols - 1) / cols) * size <= height) break;
    }
    g.size = std::max(size, 2.0f);
    g.cols = std::max(1, int(width / g.size));
    return g;
}

// Diagonal lines over a rectangle: allocated memory that holds no token.
void hatch(ImDrawList* dl, ImVec2 a, ImVec2 b, const QColor& colour, float spacing) {
    if (b.x <= a.x || b.y <= a.y) return;
    QColor under = colour;
    under.setAlphaF(0.22f);
    dl->AddRectFilled(a, b, imColor(under));
    dl->PushClipRect(a, b, true);
    const float h = b.y - a.y;
    for (float x = a.x - h; x < b.x; x += spacing)
        dl->AddLine(ImVec2(x, b.y), ImVec2(x + h, a.y), imColor(colour), 1.0f);
    dl->PopClipRect();
}

// One cell: a stripe per conversation that references it, each filled for the rows written and hatched
// after them; outlined when shared.
void drawCell(ImDrawList* dl, const Theme& th, ImVec2 a, ImVec2 b, const std::vector<int>& convs, int rows,
              int blockTokens, bool shared, float size) {
    const float fraction = blockTokens > 0 ? std::clamp(float(rows) / float(blockTokens), 0.0f, 1.0f) : 0.0f;
    const float filledTo = a.x + std::round(fraction * (b.x - a.x));
    const int n = std::max<int>(1, int(convs.size()));
    for (int k = 0; k < n; ++k) {
        const QColor c = conversationColour(convs.empty() ? 0 : convs[size_t(k)]);
        const float y0 = a.y + (b.y - a.y) * float(k) / float(n),
                    y1 = a.y + (b.y - a.y) * float(k + 1) / float(n);
        if (filledTo > a.x) dl->AddRectFilled(ImVec2(a.x, y0), ImVec2(filledTo, y1), imColor(c));
        if (filledTo < b.x) hatch(dl, ImVec2(filledTo, y0), ImVec2(b.x, y1), c, std::max(3.0f, size / 4));
    }
    if (shared) dl->AddRect(a, b, imColor(th.textStrong), 0, 0, std::clamp(std::floor(size / 8), 1.0f, 3.0f));
}

}  // namespace

void BlockMapRenderer::render(FrameContext& frame) {
    const Theme& th = frame.theme;
    const BlockMaps& maps = *m_maps;
    Panel panel(frame, tr("Many conversations in one memory budget"));
    ImDrawList* dl = panel.dl;
    ImFont *small = panel.small, *bold = panel.bold;
    if (!maps.snapshot) {
        panel.close();
        drawCentredMessage(
            frame, tr("Not run yet"),
            tr("Press Run conversations: they run together on the loaded model, their KV cache "
               "paged in blocks on the left and reserved up front on the right."));
        return;
    }
    const ConversationsSnapshot& s = *maps.snapshot;
    const MemoryMap& paged = s.paged;
    const MemoryMap& reserved = s.reserved;
    const int blockTokens = paged.block_size > 0 ? paged.block_size : 16;
    panel.note(tr("%1 conversations · %2 of KV memory · step %3%4")
                   .arg(s.tokens.size())
                   .arg(formatBytes(double(paged.budget_bytes)))
                   .arg(s.steps)
                   .arg(s.finished ? tr(", finished") : QString()),
               th.textDim);

    // The legend: each conversation's colour and length, then what the marks mean.
    const float legendLine = small->FontSize + frame.px(4);
    std::vector<std::pair<QColor, QString>> entries;
    for (int i = 0; i < int(s.tokens.size()); ++i)
        entries.push_back({conversationColour(i),
                           tr("%1 (%2 tokens)")
                               .arg(i < maps.names.size() ? maps.names[i] : tr("conversation %1").arg(i + 1))
                               .arg(s.tokens[size_t(i)].size())});
    const float swatch = small->FontSize * 0.9f;
    int legendLines = 2;  // at least one line of names and the key
    {
        float x = panel.x0;
        for (const auto& e : entries) {
            const float w = swatch + frame.px(4) + textSize(small, e.second).x + frame.px(14);
            if (x + w > panel.x1 && x > panel.x0) {
                ++legendLines;
                x = panel.x0;
            }
            x += w;
        }
    }
    const float bottom = float(frame.rect.bottom()) - frame.px(6);
    const float legendTop = bottom - float(legendLines) * legendLine;
    const float top = panel.y + bold->FontSize + frame.px(10);
    const float gap = frame.px(18);
    const float halfW = (panel.x1 - panel.x0 - gap) / 2;
    const float gridTop = top + bold->FontSize + small->FontSize + frame.px(8);
    if (halfW < frame.px(60) || legendTop - gridTop < frame.px(24)) {
        reportTooSmall(QStringLiteral("conversations block maps"), std::min(halfW, legendTop - gridTop),
                       frame.px(24));
        panel.close();
        return;
    }
    const uint64_t blockBytes = paged.bytes_per_token * uint64_t(blockTokens);
    const int cells = blockBytes ? int(paged.budget_bytes / blockBytes) : 0;
    int shared = 0;
    for (const auto& b : paged.blocks)
        shared += b.ref_count > 1;
    QStringList tip;
    QColor tipAccent;

    // Paged: block b of the budget is cell b.
    {
        const float x = panel.x0;
        drawText(dl, bold, ImVec2(x, top), th.textStrong, tr("Paged: blocks of the budget"));
        drawText(dl, small, ImVec2(x, top + bold->FontSize + frame.px(2)), th.textDim,
                 elide(small,
                       tr("%1 of %2 blocks in use (%3 shared), %4 free; %5 tokens a block")
                           .arg(paged.n_blocks - paged.n_free)
                           .arg(paged.n_blocks)
                           .arg(shared)
                           .arg(paged.n_free)
                           .arg(blockTokens),
                       halfW));
        const Grid g = fitGrid(x, gridTop, halfW, legendTop - gridTop - frame.px(6), cells);
        for (int i = 0; i < cells; ++i)
            dl->AddRect(g.a(i), g.b(i), imColor(th.grid));
        for (int b = 0; b < int(paged.blocks.size()) && b < cells; ++b) {
            const auto& blk = paged.blocks[size_t(b)];
            if (blk.ref_count == 0) continue;
            drawCell(dl, th, g.a(b), g.b(b), blk.sequences, blk.rows_used, paged.block_size,
                     blk.ref_count > 1, g.size);
        }
        if (frame.interactive) {
            const int i = g.at(ImGui::GetIO().MousePos, cells);
            if (i >= 0 && mouseIn(frame, g.a(i), g.b(i))) {
                const auto* blk = i < int(paged.blocks.size()) ? &paged.blocks[size_t(i)] : nullptr;
                if (!blk || blk->ref_count == 0) {
                    tip << tr("Block %1: free").arg(i);
                } else {
                    QStringList who;
                    for (int seq : blk->sequences)
                        who << (seq < maps.names.size() ? maps.names[seq]
                                                        : tr("conversation %1").arg(seq + 1));
                    tip << tr("Block %1: %2 of %3 tokens written")
                               .arg(i)
                               .arg(blk->rows_used)
                               .arg(blockTokens);
                    tip << (blk->ref_count > 1
                                ? tr("shared by %1: %2").arg(blk->ref_count).arg(who.join(", "))
                                : tr("held by %1").arg(who.join(", ")));
                    tipAccent = conversationColour(blk->sequences.empty() ? 0 : blk->sequences.front());
                }
            }
        }
    }

    // Reserved up front: each admitted conversation's whole reservation, in cells of the paged block size.
    {
        const float x = panel.x0 + halfW + gap;
        const int reservation =
            reserved.sequences.empty() ? maps.limit : reserved.sequences[0].reserved_tokens;
        drawText(dl, bold, ImVec2(x, top), th.textStrong,
                 tr("Reserved up front: each conversation its limit"));
        drawText(dl, small, ImVec2(x, top + bold->FontSize + frame.px(2)), th.textDim,
                 elide(small,
                       tr("%1 reservations of %2 tokens; cells of %3 tokens")
                           .arg(reserved.sequences.size())
                           .arg(reservation)
                           .arg(blockTokens),
                       halfW));
        const Grid g = fitGrid(x, gridTop, halfW, legendTop - gridTop - frame.px(6), cells);
        for (int i = 0; i < cells; ++i)
            dl->AddRect(g.a(i), g.b(i), imColor(th.grid));
        std::vector<int> admitted;  // reserved sequence ids are handed out in order to the admitted ones
        for (int i = 0; i < int(s.admittedReserved.size()); ++i)
            if (s.admittedReserved[size_t(i)]) admitted.push_back(i);
        const int hovered = frame.interactive ? g.at(ImGui::GetIO().MousePos, cells) : -1;
        int at = 0;
        for (const auto& seq : reserved.sequences) {
            const int n = (seq.reserved_tokens + blockTokens - 1) / blockTokens;
            const int conv = seq.id < int(admitted.size()) ? admitted[size_t(seq.id)] : seq.id;
            for (int j = 0; j < n && at < cells; ++j, ++at) {
                const int rows = std::clamp(seq.length - j * blockTokens, 0, blockTokens);
                drawCell(dl, th, g.a(at), g.b(at), {conv}, rows, blockTokens, false, g.size);
                if (at == hovered && mouseIn(frame, g.a(at), g.b(at))) {
                    tip << tr("%1's reservation, cell %2 of %3")
                               .arg(conv < maps.names.size() ? maps.names[conv]
                                                             : tr("conversation %1").arg(conv + 1))
                               .arg(j + 1)
                               .arg(n);
                    tip << tr("%1 of %2 tokens written").arg(rows).arg(blockTokens);
                    tipAccent = conversationColour(conv);
                }
            }
        }
        if (tip.isEmpty() && hovered >= at && mouseIn(frame, g.a(hovered), g.b(hovered)))
            tip << tr("Free: too little left for another reservation of %1 tokens").arg(reservation);
    }

    // The legend.
    float lx = panel.x0, ly = legendTop;
    for (const auto& e : entries) {
        const float w = swatch + frame.px(4) + textSize(small, e.second).x + frame.px(14);
        if (lx + w > panel.x1 && lx > panel.x0) {
            lx = panel.x0;
            ly += legendLine;
        }
        const float sy = ly + (small->FontSize - swatch) / 2;
        dl->AddRectFilled(ImVec2(lx, sy), ImVec2(lx + swatch, sy + swatch), imColor(e.first));
        drawText(dl, small, ImVec2(lx + swatch + frame.px(4), ly), th.text, e.second);
        lx += w;
    }
    ly += legendLine;
    lx = panel.x0;
    auto key = [&](auto drawSwatch, const QString& text) {
        const float sy = ly + (small->FontSize - swatch) / 2;
        drawSwatch(ImVec2(lx, sy), ImVec2(lx + swatch, sy + swatch));
        lx += swatch + frame.px(4);
        lx += drawText(dl, small, ImVec2(lx, ly), th.textDim, text).x + frame.px(14);
    };
    const QColor sample = conversationColour(0);
    key([&](ImVec2 a, ImVec2 b) { dl->AddRect(a, b, imColor(th.grid)); }, tr("free"));
    key(
        [&](ImVec2 a, ImVec2 b) {
            const float mid = (a.y + b.y) / 2;
            dl->AddRectFilled(a, ImVec2(b.x, mid), imColor(conversationColour(0)));
            dl->AddRectFilled(ImVec2(a.x, mid), b, imColor(conversationColour(1)));
            dl->AddRect(a, b, imColor(th.textStrong), 0, 0, std::max(1.0f, std::floor(swatch / 8)));
        },
        tr("outlined and striped: shared by those conversations"));
    key([&](ImVec2 a, ImVec2 b) { hatch(dl, a, b, sample, std::max(3.0f, swatch / 4)); },
        tr("hatched: allocated, no token in it (waste)"));
    panel.close();
    if (!tip.isEmpty()) showTooltip(frame, tip, tipAccent);
}

}  // namespace kvscope::app
