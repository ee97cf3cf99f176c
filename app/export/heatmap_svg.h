// heatmap_svg.h — one step's heatmaps (attention of a head, K or V rows of the cache) as an SVG page.
//
// Why hand-built SVG rather than QSvgGenerator: the views draw with OpenGL and Dear ImGui, not QPainter,
// so there is no painting for QSvgGenerator to record, and replaying a GL frame into SVG could only embed
// a raster. What a slide wants from a vector still is what the heatmap is — a grid of coloured cells and
// its labels — so this writes exactly that: one <rect> per run of equal cells in a row (crisp edges),
// labels and titles as real <text> (selectable, searchable, sharp at any zoom). The caller passes cell
// colours already through the view's colour map, so the SVG matches the views' colours exactly and this
// file needs no knowledge of the data behind them. XML goes through QXmlStreamWriter (escaping is Qt's).
//
// Layout (user units are pixels of `size`): a margin of one font size all round; the page title on top,
// the caption at the bottom, the legends (colour ramps) on the right, one above the other; panels in a grid
// of `columns` (0: as square as possible); each panel has its title, row labels on the left, column labels
// below (vertical), and square cells as large as fit, centred. heatmapCellRect() says where a cell lands.
#pragma once

#include <QByteArray>
#include <QColor>
#include <QRectF>
#include <QSize>
#include <QStringList>
#include <optional>
#include <vector>

#include "kvscope/status.h"

namespace kvscope::app {

struct SvgHeatmap {
    QString title;  // e.g. "layer 1 · head 0"
    int rows = 0, cols = 0;
    std::vector<QRgb>
        cells;              // [rows][cols]; a cell with alpha 0 is not drawn (e.g. above the causal diagonal)
    QStringList rowLabels;  // empty, or one per row (query tokens)
    QStringList colLabels;  // empty, or one per column (key tokens)
};

struct SvgLegend {
    QString label;           // e.g. "attention weight"
    QString low, high;       // the values at the ends of the ramp
    std::vector<QRgb> ramp;  // the colour map, low to high
};

struct SvgPage {
    QSize size{1920, 1080};
    QColor background = Qt::white;
    QColor foreground = Qt::black;
    QString fontFamily = QStringLiteral("DejaVu Sans");
    double fontPixels = 20.0;
    QString title, caption;
    std::vector<SvgHeatmap> panels;
    int columns = 0;
    std::vector<SvgLegend> legends;  // stacked top to bottom on the right (one per colour map used)
};

// The page's problems (size, cell counts, label counts), or ok.
Status validateSvgPage(const SvgPage& page);
// The SVG document; the page must be valid.
QByteArray heatmapSvg(const SvgPage& page);
Status writeHeatmapSvg(const SvgPage& page, const QString& path);
// Where cell (row, col) of panel `panel` is drawn, in the page's pixels.
QRectF heatmapCellRect(const SvgPage& page, int panel, int row, int col);

}  // namespace kvscope::app
