// test_export_stills — PNG frames, a single PNG and the SVG heatmap page, read back independently: the
// PNGs with Qt's reader (lossless: every pixel equals the source), the SVG with Qt Svg's renderer (cells
// land where heatmapCellRect says, in their exact colours) and Qt's XML reader (labels survive escaping).
#include <QDir>
#include <QImageReader>
#include <QPainter>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

#include "export/exporter.h"
#include "export/png_export.h"
#include "support/synthetic_frames.h"

using namespace kvscope;
using namespace kvscope::app;
using kvscope::test::GrowingGridSource;

namespace {

ExportRequest request(ExportFormat format, const QString& path) {
    ExportRequest r;
    r.format = format;
    r.outPath = path;
    return r;
}

bool samePixels(const QImage& a, const QImage& b) {
    return a.convertToFormat(QImage::Format_RGBX8888) == b.convertToFormat(QImage::Format_RGBX8888);
}

// A causal attention-like heatmap: cell (r, c) for c ≤ r, coloured by a ramp; above the diagonal empty.
SvgHeatmap causalHeatmap(const QString& title, int n, int shift) {
    SvgHeatmap h;
    h.title = title;
    h.rows = h.cols = n;
    h.cells.resize(size_t(n) * n, qRgba(0, 0, 0, 0));
    for (int r = 0; r < n; ++r) {
        h.rowLabels << QStringLiteral("q%1").arg(r);
        h.colLabels << QStringLiteral("k%1").arg(r);
        for (int c = 0; c <= r; ++c)
            h.cells[size_t(r) * n + c] = qRgb((40 * r + shift) % 256, (60 * c + shift) % 256, 200 - 10 * r);
    }
    return h;
}

}  // namespace

class TestExportStills : public QObject {
    Q_OBJECT
  private slots:
    void pngFramesAreTheFrames();
    void pngStillIsTheAskedFrame();
    void frameNamesSortInOrder();
    void svgCellsAndLabels();
    void svgRejectsBadPages();
};

void TestExportStills::pngFramesAreTheFrames() {
    QTemporaryDir dir;
    GrowingGridSource source(QSize(200, 100));
    ExportControl control;
    const QString folder = dir.filePath(QStringLiteral("frames"));
    const ExportResult result = exportFrames(source, request(ExportFormat::pngFrames, folder), control);
    QVERIFY2(result.ok(), qPrintable(result.error));
    const QStringList files = QDir(folder).entryList(QDir::Files, QDir::Name);
    QCOMPARE(files.size(), 10);
    for (int i = 0; i < 10; ++i) {
        QCOMPARE(files[i], QStringLiteral("frame_%1.png").arg(i, 4, 10, QLatin1Char('0')));
        QImageReader reader(QDir(folder).filePath(files[i]));
        QCOMPARE(reader.format(), QByteArray("png"));
        const QImage image = reader.read();
        QCOMPARE(image.size(), QSize(200, 100));
        QVERIFY2(samePixels(image, *source.renderFrame(i)), qPrintable(files[i]));
        // Where the content grew, consecutive frames differ; elsewhere they are equal.
        if (i > 0) {
            const QImage before = QImage(QDir(folder).filePath(files[i - 1]));
            const QRect grown = source.cellRect(i, 4);
            QVERIFY(image.pixel(grown.center()) != before.pixel(grown.center()));
            const QRect kept = source.cellRect(i - 1, 4);
            QCOMPARE(image.pixel(kept.center()), before.pixel(kept.center()));
        }
    }
}

void TestExportStills::pngStillIsTheAskedFrame() {
    QTemporaryDir dir;
    GrowingGridSource source(QSize(200, 100));
    ExportControl control;
    ExportRequest r = request(ExportFormat::png, dir.filePath(QStringLiteral("still.png")));
    r.stillFrame = 6;
    const ExportResult result = exportFrames(source, r, control);
    QVERIFY2(result.ok(), qPrintable(result.error));
    const QImage image(r.outPath);
    QVERIFY(samePixels(image, *source.renderFrame(6)));
    QCOMPARE(QColor(image.pixel(source.cellRect(6, 2).center())), GrowingGridSource::colourAt(6, 2));
    QCOMPARE(QColor(image.pixel(source.cellRect(7, 2).center())), GrowingGridSource::background());

    r.stillFrame = 10;
    r.outPath = dir.filePath(QStringLiteral("beyond.png"));
    const ExportResult beyond = exportFrames(source, r, control);
    QCOMPARE(beyond.error, QStringLiteral("frame 10 asked for a still, the clip has frames 0 to 9"));
    QVERIFY(!QFileInfo::exists(r.outPath));
}

void TestExportStills::frameNamesSortInOrder() {
    QCOMPARE(pngFrameName(0, 1), QStringLiteral("frame_0000.png"));
    QCOMPARE(pngFrameName(9999, 10000), QStringLiteral("frame_9999.png"));
    QCOMPARE(pngFrameName(7, 10001), QStringLiteral("frame_00007.png"));
}

void TestExportStills::svgCellsAndLabels() {
    SvgPage page;
    page.size = QSize(1280, 720);
    page.title = QStringLiteral("Attention at step 5 <cached> & more");
    page.caption = QStringLiteral("layer 0, the prompt \"To be\"");
    page.panels = {causalHeatmap(QStringLiteral("head 0"), 6, 0),
                   causalHeatmap(QStringLiteral("head 1"), 6, 90)};
    page.panels[0].colLabels[2] = QStringLiteral("<&\"'>");
    page.legends.push_back(SvgLegend{QStringLiteral("weight"),
                                     QStringLiteral("0"),
                                     QStringLiteral("1"),
                                     {qRgb(0, 0, 80), qRgb(0, 128, 128), qRgb(250, 250, 0)}});
    QTemporaryDir dir;
    ExportRequest r = request(ExportFormat::svg, dir.filePath(QStringLiteral("attention.svg")));
    const ExportResult result = exportSvg(page, r);
    QVERIFY2(result.ok(), qPrintable(result.error));

    // Rendered by Qt Svg at the page size: every drawn cell's centre has the cell's colour, and an empty
    // cell (above the diagonal) shows the background.
    QSvgRenderer svg(r.outPath);
    QVERIFY(svg.isValid());
    QCOMPARE(svg.defaultSize(), page.size);
    QImage image(page.size, QImage::Format_RGB32);
    image.fill(Qt::magenta);
    {
        QPainter painter(&image);
        svg.render(&painter);
    }
    for (int p = 0; p < 2; ++p)
        for (int row = 0; row < 6; ++row)
            for (int col = 0; col < 6; ++col) {
                const QRectF cell = heatmapCellRect(page, p, row, col);
                QVERIFY(cell.width() > 8);
                const QRgb want =
                    col <= row ? page.panels[size_t(p)].cells[size_t(row) * 6 + col] : page.background.rgb();
                QCOMPARE(QColor(image.pixel(cell.center().toPoint())).name(), QColor(want).name());
            }
    // The two panels sit side by side, the same size.
    QVERIFY(heatmapCellRect(page, 1, 0, 0).left() > heatmapCellRect(page, 0, 0, 5).right());
    QCOMPARE(heatmapCellRect(page, 1, 0, 0).size(), heatmapCellRect(page, 0, 0, 0).size());

    // The text is text, escaped and read back intact.
    QFile file(r.outPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QXmlStreamReader xml(&file);
    QStringList texts;
    int rects = 0;
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement) continue;
        if (xml.name() == QLatin1String("text")) texts << xml.readElementText();
        if (xml.name() == QLatin1String("rect")) ++rects;
    }
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    QVERIFY(texts.contains(page.title));
    QVERIFY(texts.contains(page.caption));
    QVERIFY(texts.contains(QStringLiteral("<&\"'>")));
    QVERIFY(texts.contains(QStringLiteral("q5")));
    QVERIFY(texts.contains(QStringLiteral("head 1")));
    // 21 drawn cells per panel (no two neighbours share a colour here), the background, 3 legend stops.
    QCOMPARE(rects, 2 * 21 + 1 + 3);
}

void TestExportStills::svgRejectsBadPages() {
    QTemporaryDir dir;
    const ExportRequest r = request(ExportFormat::svg, dir.filePath(QStringLiteral("bad.svg")));
    SvgPage page;
    QCOMPARE(exportSvg(page, r).error, QStringLiteral("SVG export: no heatmap to draw"));
    page.panels = {causalHeatmap(QStringLiteral("h"), 4, 0)};
    page.panels[0].cells.pop_back();
    QCOMPARE(exportSvg(page, r).error,
             QStringLiteral("SVG export: heatmap 0 ('h') has 15 cell colours for 4×4 cells"));
    page.panels = {causalHeatmap(QStringLiteral("h"), 4, 0)};
    page.panels[0].rowLabels.removeLast();
    QCOMPARE(exportSvg(page, r).error,
             QStringLiteral("SVG export: heatmap 0 ('h') has 3 row labels for 4 rows"));
    page.panels = {causalHeatmap(QStringLiteral("h"), 4, 0)};
    page.size = QSize(9000, 100);
    QCOMPARE(exportSvg(page, r).error,
             QStringLiteral("export size 9000×100: each side must be 1 to 8192 pixels"));
    QVERIFY(QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot).isEmpty());
}

QTEST_MAIN(TestExportStills)
#include "test_export_stills.moc"
