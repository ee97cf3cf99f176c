#include "export/heatmap_svg.h"

#include <QBuffer>
#include <QXmlStreamWriter>
#include <algorithm>
#include <cmath>

#include "export/export_format.h"
#include "export/export_io.h"

namespace kvscope::app {
namespace {

// Text widths are estimated (an SVG writer has no font metrics): 0.6 em per character is DejaVu Sans'
// average advance, generous enough that labels do not run into the cells.
constexpr double kCharWidthEm = 0.6;
constexpr double kLabelEm = 0.7;  // row and column labels, relative to the page font

struct PanelGeometry {
    QRectF area;      // the panel's whole slot
    QPointF titleAt;  // baseline start of the panel title
    QRectF grid;      // the cells
    double cell = 0;  // side of a cell
};

struct PageGeometry {
    QRectF panels;  // where the panel grid goes
    int columns = 1, rows = 1;
    std::vector<QRectF> legends;  // the ramps
};

double labelExtent(const QStringList& labels, double font) {
    qsizetype longest = 0;
    for (const QString& l : labels)
        longest = std::max(longest, l.size());
    return labels.isEmpty() ? 0.0 : double(longest) * kCharWidthEm * font * kLabelEm + 0.4 * font;
}

PageGeometry pageGeometry(const SvgPage& page) {
    const double f = page.fontPixels;
    PageGeometry g;
    QRectF body(f, f, page.size.width() - 2 * f, page.size.height() - 2 * f);
    if (!page.title.isEmpty()) body.setTop(body.top() + 1.8 * f);
    if (!page.caption.isEmpty()) body.setBottom(body.bottom() - 1.6 * f);
    if (!page.legends.empty()) {
        const double width = 5.0 * f;
        const double slot = body.height() / double(page.legends.size());
        for (size_t i = 0; i < page.legends.size(); ++i)
            g.legends.push_back(QRectF(body.right() - width + 3.0 * f,
                                       body.top() + double(i) * slot + 1.5 * f, 1.2 * f, slot - 3.0 * f));
        body.setRight(body.right() - width);
    }
    const int n = std::max<int>(1, int(page.panels.size()));
    g.columns = page.columns > 0 ? std::min(page.columns, n) : int(std::ceil(std::sqrt(double(n))));
    g.rows = (n + g.columns - 1) / g.columns;
    g.panels = body;
    return g;
}

PanelGeometry panelGeometry(const SvgPage& page, const PageGeometry& pg, int index) {
    const double f = page.fontPixels;
    const SvgHeatmap& h = page.panels[size_t(index)];
    PanelGeometry g;
    const double w = pg.panels.width() / pg.columns, ht = pg.panels.height() / pg.rows;
    g.area = QRectF(pg.panels.left() + (index % pg.columns) * w, pg.panels.top() + (index / pg.columns) * ht,
                    w, ht);
    QRectF inner = g.area.adjusted(0.5 * f, 0, -0.5 * f, -0.5 * f);
    if (!h.title.isEmpty()) {
        g.titleAt = QPointF(inner.left(), inner.top() + f);
        inner.setTop(inner.top() + 1.5 * f);
    }
    // Small multiples share one scale: label room (and so the cell size) is the same in every panel.
    double rowRoom = 0, colRoom = 0;
    for (const SvgHeatmap& other : page.panels) {
        rowRoom = std::max(rowRoom, labelExtent(other.rowLabels, f));
        colRoom = std::max(colRoom, labelExtent(other.colLabels, f));
    }
    inner.setLeft(inner.left() + std::min(rowRoom, 0.3 * inner.width()));
    inner.setBottom(inner.bottom() - std::min(colRoom, 0.3 * inner.height()));
    g.cell = std::max(0.0, std::min(inner.width() / h.cols, inner.height() / h.rows));
    const QSizeF gridSize(g.cell * h.cols, g.cell * h.rows);
    g.grid = QRectF(QPointF(inner.left() + (inner.width() - gridSize.width()) / 2, inner.top()), gridSize);
    return g;
}

QString num(double v) {
    return QString::number(v, 'f', 2);
}

void writeText(QXmlStreamWriter& xml, QPointF at, double size, const QString& text,
               const QString& anchor = {}, const QString& transform = {}, bool bold = false) {
    xml.writeStartElement(QStringLiteral("text"));
    xml.writeAttribute(QStringLiteral("x"), num(at.x()));
    xml.writeAttribute(QStringLiteral("y"), num(at.y()));
    xml.writeAttribute(QStringLiteral("font-size"), num(size));
    if (bold) xml.writeAttribute(QStringLiteral("font-weight"), QStringLiteral("bold"));
    if (!anchor.isEmpty()) xml.writeAttribute(QStringLiteral("text-anchor"), anchor);
    if (!transform.isEmpty()) xml.writeAttribute(QStringLiteral("transform"), transform);
    xml.writeCharacters(text);
    xml.writeEndElement();
}

void writeRect(QXmlStreamWriter& xml, const QRectF& r, QRgb colour) {
    xml.writeStartElement(QStringLiteral("rect"));
    xml.writeAttribute(QStringLiteral("x"), num(r.x()));
    xml.writeAttribute(QStringLiteral("y"), num(r.y()));
    xml.writeAttribute(QStringLiteral("width"), num(r.width()));
    xml.writeAttribute(QStringLiteral("height"), num(r.height()));
    xml.writeAttribute(QStringLiteral("fill"), QColor(colour).name(QColor::HexRgb));
    if (qAlpha(colour) != 255)
        xml.writeAttribute(QStringLiteral("fill-opacity"), num(qAlpha(colour) / 255.0));
    xml.writeEndElement();
}

void writePanel(QXmlStreamWriter& xml, const SvgPage& page, const SvgHeatmap& h, const PanelGeometry& g) {
    const double f = page.fontPixels, label = f * kLabelEm;
    xml.writeStartElement(QStringLiteral("g"));
    if (!h.title.isEmpty()) writeText(xml, g.titleAt, f, h.title, {}, {}, true);
    // Cells: one rect per run of equal colour along a row; crispEdges so neighbours meet without seams.
    xml.writeStartElement(QStringLiteral("g"));
    xml.writeAttribute(QStringLiteral("shape-rendering"), QStringLiteral("crispEdges"));
    for (int r = 0; r < h.rows; ++r) {
        const QRgb* row = h.cells.data() + size_t(r) * h.cols;
        for (int c = 0; c < h.cols;) {
            int end = c + 1;
            while (end < h.cols && row[end] == row[c])
                ++end;
            if (qAlpha(row[c]) != 0)
                writeRect(
                    xml,
                    QRectF(g.grid.left() + c * g.cell, g.grid.top() + r * g.cell, (end - c) * g.cell, g.cell),
                    row[c]);
            c = end;
        }
    }
    xml.writeEndElement();
    // Labels at most as tall as a cell (a long sequence's labels shrink; past 4 px they are dropped).
    const double labelSize = std::min(label, g.cell * 0.9);
    if (labelSize >= 4.0) {
        for (int r = 0; r < h.rowLabels.size(); ++r)
            writeText(xml,
                      QPointF(g.grid.left() - 0.3 * f, g.grid.top() + (r + 0.5) * g.cell + 0.35 * labelSize),
                      labelSize, h.rowLabels[r], QStringLiteral("end"));
        for (int c = 0; c < h.colLabels.size(); ++c) {
            const QPointF at(g.grid.left() + (c + 0.5) * g.cell + 0.35 * labelSize,
                             g.grid.bottom() + 0.3 * f);
            writeText(xml, at, labelSize, h.colLabels[c], QStringLiteral("end"),
                      QStringLiteral("rotate(-90 %1 %2)").arg(num(at.x()), num(at.y())));
        }
    }
    xml.writeEndElement();
}

void writeLegend(QXmlStreamWriter& xml, const SvgPage& page, const SvgLegend& legend, const QRectF& r) {
    const double f = page.fontPixels;
    xml.writeStartElement(QStringLiteral("g"));
    xml.writeAttribute(QStringLiteral("shape-rendering"), QStringLiteral("crispEdges"));
    const int n = int(legend.ramp.size());
    const double step = r.height() / std::max(1, n);
    for (int i = 0; i < n; ++i)  // high at the top
        writeRect(xml, QRectF(r.left(), r.top() + (n - 1 - i) * step, r.width(), step),
                  legend.ramp[size_t(i)]);
    xml.writeEndElement();
    const double small = f * kLabelEm;
    writeText(xml, QPointF(r.center().x(), r.top() - 0.5 * f), small, legend.high, QStringLiteral("middle"));
    writeText(xml, QPointF(r.center().x(), r.bottom() + small + 0.3 * f), small, legend.low,
              QStringLiteral("middle"));
    if (!legend.label.isEmpty()) {
        const QPointF at(r.left() - 0.4 * f, r.center().y());
        writeText(xml, at, small, legend.label, QStringLiteral("middle"),
                  QStringLiteral("rotate(-90 %1 %2)").arg(num(at.x()), num(at.y())));
    }
}

}  // namespace

Status validateSvgPage(const SvgPage& page) {
    KVSCOPE_TRY(validateFrameSize(ExportFormat::svg, page.size));
    if (page.panels.empty()) return exportFailure(QStringLiteral("SVG export: no heatmap to draw"));
    if (!(page.fontPixels > 0))
        return exportFailure(QStringLiteral("SVG export: the font size must be positive"));
    for (size_t i = 0; i < page.panels.size(); ++i) {
        const SvgHeatmap& h = page.panels[i];
        const QString name = QStringLiteral("SVG export: heatmap %1 ('%2')").arg(i).arg(h.title);
        if (h.rows < 1 || h.cols < 1)
            return exportFailure(
                QStringLiteral("%1 is %2×%3 cells; it needs at least one").arg(name).arg(h.rows).arg(h.cols));
        if (h.cells.size() != size_t(h.rows) * size_t(h.cols))
            return exportFailure(QStringLiteral("%1 has %2 cell colours for %3×%4 cells")
                                     .arg(name)
                                     .arg(h.cells.size())
                                     .arg(h.rows)
                                     .arg(h.cols));
        if (!h.rowLabels.isEmpty() && h.rowLabels.size() != h.rows)
            return exportFailure(QStringLiteral("%1 has %2 row labels for %3 rows")
                                     .arg(name)
                                     .arg(h.rowLabels.size())
                                     .arg(h.rows));
        if (!h.colLabels.isEmpty() && h.colLabels.size() != h.cols)
            return exportFailure(QStringLiteral("%1 has %2 column labels for %3 columns")
                                     .arg(name)
                                     .arg(h.colLabels.size())
                                     .arg(h.cols));
    }
    for (const SvgLegend& legend : page.legends)
        if (legend.ramp.empty())
            return exportFailure(
                QStringLiteral("SVG export: the legend '%1' has no colours").arg(legend.label));
    return Status::ok();
}

QRectF heatmapCellRect(const SvgPage& page, int panel, int row, int col) {
    assert(panel >= 0 && size_t(panel) < page.panels.size() && "heatmapCellRect: no such panel");
    const PanelGeometry g = panelGeometry(page, pageGeometry(page), panel);
    return QRectF(g.grid.left() + col * g.cell, g.grid.top() + row * g.cell, g.cell, g.cell);
}

QByteArray heatmapSvg(const SvgPage& page) {
    assert(validateSvgPage(page).is_ok() && "heatmapSvg: check the page with validateSvgPage() first");
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QXmlStreamWriter xml(&buffer);
    xml.setAutoFormatting(true);
    xml.setAutoFormattingIndent(1);
    xml.writeStartDocument();
    xml.writeStartElement(QStringLiteral("svg"));
    xml.writeDefaultNamespace(QStringLiteral("http://www.w3.org/2000/svg"));
    xml.writeAttribute(QStringLiteral("version"), QStringLiteral("1.1"));
    xml.writeAttribute(QStringLiteral("width"), QString::number(page.size.width()));
    xml.writeAttribute(QStringLiteral("height"), QString::number(page.size.height()));
    xml.writeAttribute(QStringLiteral("viewBox"),
                       QStringLiteral("0 0 %1 %2").arg(page.size.width()).arg(page.size.height()));
    xml.writeAttribute(QStringLiteral("font-family"), page.fontFamily);
    xml.writeAttribute(QStringLiteral("fill"), page.foreground.name(QColor::HexRgb));
    if (!page.title.isEmpty()) xml.writeTextElement(QStringLiteral("title"), page.title);

    writeRect(xml, QRectF(QPointF(0, 0), QSizeF(page.size)), page.background.rgba());
    const double f = page.fontPixels;
    if (!page.title.isEmpty()) writeText(xml, QPointF(f, 2.0 * f), 1.3 * f, page.title, {}, {}, true);
    const PageGeometry pg = pageGeometry(page);
    for (size_t i = 0; i < page.panels.size(); ++i)
        writePanel(xml, page, page.panels[i], panelGeometry(page, pg, int(i)));
    for (size_t i = 0; i < page.legends.size(); ++i)
        writeLegend(xml, page, page.legends[i], pg.legends[i]);
    if (!page.caption.isEmpty()) writeText(xml, QPointF(f, page.size.height() - f), f, page.caption);
    xml.writeEndElement();
    xml.writeEndDocument();
    return bytes;
}

Status writeHeatmapSvg(const SvgPage& page, const QString& path) {
    KVSCOPE_TRY(validateSvgPage(page));
    const QByteArray bytes = heatmapSvg(page);
    return writeFileBytes(bytes, path);
}

}  // namespace kvscope::app
