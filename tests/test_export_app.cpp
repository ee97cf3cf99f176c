// test_export_app — exports of a real run drawn by the app's renderers, read back and checked against the
// traces. A fixture model (tiny-llama-gqa) runs a 10-step lesson (the prefill and 9 steps) through the app's
// engine worker; the side-by-side layout is exported as MP4, GIF, PNG frames, a PNG still and an SVG, and
// the counters as CSV, through the same ExportJob the dialog and `kvscope export` run. Checked: frame
// counts and sizes, that consecutive frames differ where the cache grew, that the pixels of known
// attention and K cells have the colour the colour map gives the traced value, that the CSV holds the
// traces' numbers, that Cancel leaves nothing, that the same run and settings draw the same heatmaps,
// that bad settings are refused before anything is written, and the Export dialog. Runs under Xvfb.
#include <QDir>
#include <QFile>
#include <QPainter>
#include <QProgressBar>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QtTest>

#include "export/export_dialog.h"
#include "export/export_job.h"
#include "export/png_export.h"
#include "export/view_frames.h"
#include "export/view_svg.h"
#include "headless_run.h"
#include "support/fixtures.h"
#include "support/video_decode.h"
#include "views/heatmap_draw.h"
#include "views/layout_renderer.h"

using namespace kvscope;
using namespace kvscope::app;

namespace {

// Where the attention views put weight `w` of query `q` on the colour map: the store's scale, the row
// divided by its largest weight when the store says so (as attention.frag does).
float attentionPosition(const TraceStore& store, Side side, int step, int q, float w) {
    float rowMax = 0;
    for (int k = 0; k <= q; ++k) {
        float x = 0;
        if (AttentionRenderer::weightAt(store, side, step, 0, 0, q, k, &x)) rowMax = std::max(rowMax, x);
    }
    return attentionColourPosition(w, rowMax, WeightScale(int(store.attentionScale())),
                                   store.attentionRowNormalised());
}

constexpr int kDecodeSteps = 9;  // with the prefill: a 10-step lesson
const QString kPrompt = QStringLiteral("1, 15, 27, 99, 5, 42");

Status runLesson(TraceStore& store) {
    HeadlessRun run;
    run.model = QString::fromStdString(test::model_fixture_path(QStringLiteral("tiny-llama-gqa")));
    run.prompt = kPrompt;
    run.steps = kDecodeSteps;
    return runHeadless(run, store);
}

// The clip the tests export: the side-by-side layout, 2 frames a step at 10 fps (20 frames).
ExportSettings clipSettings(ExportFormat format, const QString& out) {
    ExportSettings s;
    s.format = format;
    s.out = out;
    s.size = QSize(1280, 720);
    s.fps = 10;
    s.framesPerStep = 2;
    s.theme = QStringLiteral("light");
    return s;
}

// Runs a job to its end; the result (failed with the start error if it did not start).
ExportResult runJob(const ExportHistory& history, const ExportSettings& settings) {
    ExportJob job(history, settings);
    QSignalSpy finished(&job, &ExportJob::finished);
    if (Status s = job.start(); !s) {
        ExportResult r;
        r.error = QString::fromStdString(s.message());
        return r;
    }
    if (!finished.wait(300000)) {
        ExportResult r;
        r.error = QStringLiteral("the export did not finish in 5 minutes");
        return r;
    }
    return finished.at(0).at(0).value<ExportResult>();
}

// The largest per-channel difference between `colour` and the mean of a small square around `centre`.
int colourError(const QImage& image, QPointF centre, int radius, QRgb colour) {
    const QRect box(QPoint(int(centre.x()) - radius, int(centre.y()) - radius),
                    QSize(2 * radius + 1, 2 * radius + 1));
    const test::MeanColour m = test::meanColour(image, box);
    return int(std::ceil(std::max(
        {std::fabs(m.r - qRed(colour)), std::fabs(m.g - qGreen(colour)), std::fabs(m.b - qBlue(colour))})));
}

struct CellCheck {
    QPointF centre;
    QRgb colour;
    QString what;
};

// Known heatmap cells of the frame ViewFrames just drew: attention cells of head 0 (query rows before
// this step's, which carry no highlight) in both panes, and K cells of layer 0, KV head 0 in rows kept
// from earlier steps (cached pane), each with the colour its colour map gives the traced value.
std::vector<CellCheck> knownCells(ViewFrames& frames, bool withKv) {
    std::vector<CellCheck> cells;
    auto& layout = dynamic_cast<LayoutRenderer&>(frames.content());
    TraceStore& store = frames.store();
    const Theme& theme = themeFor(ThemeKind::light);
    const std::vector<unsigned char> sequential = colormapLut(theme.sequentialStops);
    const std::vector<unsigned char> diverging = colormapLut(theme.divergingStops);
    for (Side side : kSides) {
        const int step = store.stepFor(side);
        const StepTrace* t = store.trace(side, step);
        const QRectF tile = layout.attention(side).tileRect(0);
        const double cell = tile.width() / t->pos_end;
        for (int q : {1, t->pos_begin / 2, t->pos_begin - 1})
            for (int k : {0, q / 2, q}) {
                float w = 0;
                if (q < 0 || q >= t->pos_begin ||
                    !AttentionRenderer::weightAt(store, side, step, 0, 0, q, k, &w))
                    continue;
                cells.push_back(
                    {tile.topLeft() + QPointF((k + 0.5) * cell, (q + 0.5) * cell),
                     lutColour(sequential, attentionPosition(store, side, step, q, w)),
                     QStringLiteral("%1 attention q%2 k%3 = %4").arg(sideTitle(side)).arg(q).arg(k).arg(w)});
            }
    }
    if (withKv) {
        const int step = store.stepFor(Side::cached);
        const StepTrace* t = store.trace(Side::cached, step);
        KvCacheRenderer& kv = layout.kvCache(Side::cached);
        const QRectF block = kv.headRect(0, true, 0);
        const int dims = store.model().config().head_dim;
        const double w = block.width() / dims, h = block.height() / t->pos_end;
        for (int r : {0, t->pos_begin / 2, t->pos_begin - 1})
            for (int d : {0, dims / 2, dims - 1}) {
                float v = 0;
                int by = -1;
                if (!KvCacheRenderer::valueAt(store, Side::cached, step, 0, true, 0, r, d, &v, &by)) continue;
                cells.push_back({block.topLeft() + QPointF((d + 0.5) * w, (r + 0.5) * h),
                                 lutColour(diverging, kvColourPosition(v, kv.rangeFor(step, 0, true))),
                                 QStringLiteral("K row %1 dim %2 = %3").arg(r).arg(d).arg(v)});
            }
    }
    return cells;
}

// The band of a step's new K row of layer 0, KV head 0, in the cached pane of the frame just drawn.
QRect newRowBand(ViewFrames& frames) {
    auto& layout = dynamic_cast<LayoutRenderer&>(frames.content());
    const StepTrace* t = frames.store().trace(Side::cached, frames.store().stepFor(Side::cached));
    const QRectF block = layout.kvCache(Side::cached).headRect(0, true, 0);
    const double h = block.height() / t->pos_end;
    return QRectF(block.left() + 1, block.top() + t->pos_begin * h + 1, block.width() - 2, h - 2).toRect();
}

QStringList entriesIn(const QString& folder) {
    return QDir(folder).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
}

}  // namespace

class TestExportApp : public QObject {
    Q_OBJECT
    TraceStore m_store;
    ExportHistory m_history;

    // Decodes an exported clip and checks it against the frames the renderers draw for it.
    void checkClip(const QString& path, ExportFormat format, int tolerance);

  private slots:
    void initTestCase();
    void mp4OfTenSteps() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lesson.mp4"));
        const ExportResult r = runJob(m_history, clipSettings(ExportFormat::mp4, path));
        QVERIFY2(r.ok(), qPrintable(r.error));
        checkClip(path, ExportFormat::mp4, 8);
    }
    void gifOfTenSteps() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lesson.gif"));
        const ExportResult r = runJob(m_history, clipSettings(ExportFormat::gif, path));
        QVERIFY2(r.ok(), qPrintable(r.error));
        checkClip(path, ExportFormat::gif, 8);
    }
    void pngFramesAndStill();
    void svgCellsHaveTheColourMapsColours();
    void csvHoldsTheTracesCounters();
    void cancelLeavesNothing();
    void sameRunSameHeatmaps();
    void badSettingsAreRefused_data();
    void badSettingsAreRefused();
    void dialog();
};

void TestExportApp::initTestCase() {
    if (test::fixtures_dir().empty()) QFAIL(test::fixtures_missing_message().c_str());
    const Status ran = runLesson(m_store);
    QVERIFY2(ran, ran.message().c_str());
    QCOMPARE(m_store.stepCount(Side::cached), kDecodeSteps + 1);
    QCOMPARE(m_store.stepCount(Side::uncached), kDecodeSteps + 1);
    m_history = ExportHistory::of(m_store);
}

void TestExportApp::checkClip(const QString& path, ExportFormat format, int tolerance) {
    const ExportSettings settings = *resolveExportSettings(clipSettings(format, path), m_history);
    const test::DecodedVideo video = test::decodeVideo(path);
    QVERIFY2(video.error.isEmpty(), qPrintable(video.error));
    const int frames = (kDecodeSteps + 1) * settings.framesPerStep;
    QCOMPARE(int(video.frames.size()), frames);
    QCOMPARE(QSize(video.width, video.height), settings.size);
    // The same frames drawn here, for where things are.
    auto drawn = ViewFrames::create(m_history, settings);
    QVERIFY2(drawn, drawn.message().c_str());
    ViewFrames& source = **drawn;
    int worst = 0;
    for (int i = 0; i < frames; ++i) {
        QVERIFY(source.renderFrame(i));
        const int step = source.timeline().stepAt(i);
        if (i % settings.framesPerStep == 0 && step > 0) {
            // The first frame of a step: where the new K row landed, it differs from the frame before.
            const QRect band = newRowBand(source);
            const test::ImageDifference d =
                test::difference(video.frames[size_t(i)], video.frames[size_t(i - 1)], band);
            QVERIFY2(d.mean > 20,
                     qPrintable(QStringLiteral("frame %1 (step %2): the new row's band differs by %3 "
                                               "on average from the frame before")
                                    .arg(i)
                                    .arg(step)
                                    .arg(d.mean)));
        }
        if (step < 3) continue;  // cells of at least 7 pixels: room for a 3×3 sample away from the edges
        for (const CellCheck& c : knownCells(source, false)) {
            const int error = colourError(video.frames[size_t(i)], c.centre, 1, c.colour);
            worst = std::max(worst, error);
            QVERIFY2(error <= tolerance, qPrintable(QStringLiteral("frame %1, %2: %3 away from %4")
                                                        .arg(i)
                                                        .arg(c.what)
                                                        .arg(error)
                                                        .arg(QColor(c.colour).name())));
        }
    }
    qInfo("%s: largest colour error at known attention cells %d (allowed %d)", qPrintable(formatName(format)),
          worst, tolerance);
}

void TestExportApp::pngFramesAndStill() {
    QTemporaryDir dir;
    const QString folder = dir.filePath(QStringLiteral("frames"));
    const ExportResult r = runJob(m_history, clipSettings(ExportFormat::pngFrames, folder));
    QVERIFY2(r.ok(), qPrintable(r.error));
    const ExportSettings settings =
        *resolveExportSettings(clipSettings(ExportFormat::pngFrames, folder), m_history);
    QCOMPARE(entriesIn(folder).size(), 20);
    auto drawn = ViewFrames::create(m_history, settings);
    QVERIFY(drawn);
    ViewFrames& source = **drawn;
    for (int i = 0; i < source.frameCount(); ++i) {
        const Result<QImage> expected = source.renderFrame(i);
        QVERIFY(expected);
        const QImage frame(QDir(folder).filePath(pngFrameName(i, source.frameCount())));
        QCOMPARE(frame.size(), settings.size);
        // Lossless: the file is the frame.
        QCOMPARE(frame.convertToFormat(QImage::Format_RGBX8888), *expected);
        if (source.timeline().stepAt(i) < 3) continue;
        for (const CellCheck& c : knownCells(source, true))
            QVERIFY2(colourError(frame, c.centre, 0, c.colour) <= 2,
                     qPrintable(
                         QStringLiteral("frame %1, %2: %3 in the PNG, the colour map says %4")
                             .arg(i)
                             .arg(c.what)
                             .arg(QColor(frame.pixel(c.centre.toPoint())).name(), QColor(c.colour).name())));
    }
    // A still of step 7 is the finished picture of step 7.
    ExportSettings still = clipSettings(ExportFormat::png, dir.filePath(QStringLiteral("step7.png")));
    still.stillStep = 7;
    const ExportResult rs = runJob(m_history, still);
    QVERIFY2(rs.ok(), qPrintable(rs.error));
    const QImage picture(still.out);
    QCOMPARE(picture.size(), still.size);
    auto one = ViewFrames::create(m_history, *resolveExportSettings(still, m_history));
    QVERIFY(one);
    QCOMPARE((*one)->frameCount(), 1);
    QCOMPARE(picture.convertToFormat(QImage::Format_RGBX8888), *(*one)->renderFrame(0));
    QCOMPARE((*one)->store().stepFor(Side::cached), 7);
}

void TestExportApp::svgCellsHaveTheColourMapsColours() {
    QTemporaryDir dir;
    ExportSettings s = clipSettings(ExportFormat::svg, dir.filePath(QStringLiteral("step9.svg")));
    const ExportResult r = runJob(m_history, s);
    QVERIFY2(r.ok(), qPrintable(r.error));
    const ExportSettings resolved = *resolveExportSettings(s, m_history);
    QCOMPARE(resolved.stillStep, kDecodeSteps);
    const Result<SvgPage> page = viewSvgPage(m_history, resolved);
    QVERIFY(page);
    // Per run: attention head 0, then K and V of the two KV heads; two legends.
    QCOMPARE(int(page->panels.size()), 2 * (1 + 2 * 2));
    QCOMPARE(int(page->legends.size()), 2);
    QSvgRenderer svg(s.out);
    QVERIFY(svg.isValid());
    QImage picture(s.size, QImage::Format_RGB32);
    picture.fill(Qt::white);
    QPainter painter(&picture);
    svg.render(&painter);
    painter.end();

    const Theme& theme = themeFor(ThemeKind::light);
    const std::vector<unsigned char> sequential = colormapLut(theme.sequentialStops);
    const std::vector<unsigned char> diverging = colormapLut(theme.divergingStops);
    const StepTrace* last = m_store.trace(Side::cached, kDecodeSteps);
    KvValueStats stats;
    for (int i = 0; i <= kDecodeSteps; ++i)
        stats.addNewRows(*m_store.trace(Side::cached, i), 0);
    int checked = 0;
    for (int q = 0; q < last->pos_end; q += 3)
        for (int k = 0; k <= q; k += 2) {
            float w = 0;
            QVERIFY(AttentionRenderer::weightAt(m_store, Side::cached, kDecodeSteps, 0, 0, q, k, &w));
            const QPointF at = heatmapCellRect(*page, 0, q, k).center();
            QCOMPARE(
                QColor(picture.pixel(at.toPoint())),
                QColor(lutColour(sequential, attentionPosition(m_store, Side::cached, kDecodeSteps, q, w))));
            ++checked;
        }
    // Above the diagonal: masked, as in the view.
    QCOMPARE(QColor(picture.pixel(heatmapCellRect(*page, 0, 0, 5).center().toPoint())), theme.maskCell);
    for (int row = 0; row < last->pos_end; row += 2)
        for (int d = 0; d < 16; d += 5) {
            float v = 0;
            int by = -1;
            QVERIFY(
                KvCacheRenderer::valueAt(m_store, Side::cached, kDecodeSteps, 0, true, 0, row, d, &v, &by));
            const QPointF at = heatmapCellRect(*page, 1, row, d).center();
            QCOMPARE(QColor(picture.pixel(at.toPoint())),
                     QColor(lutColour(diverging, kvColourPosition(v, stats.range(true)))));
            ++checked;
        }
    QVERIFY(checked > 40);
}

void TestExportApp::csvHoldsTheTracesCounters() {
    QTemporaryDir dir;
    ExportSettings s = clipSettings(ExportFormat::csv, dir.filePath(QStringLiteral("counters.csv")));
    const ExportResult r = runJob(m_history, s);
    QVERIFY2(r.ok(), qPrintable(r.error));
    QFile file(s.out);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1 + 2 * (kDecodeSteps + 1) * (kOpClassCount + 1));
    const QStringList header = lines[0].split(QLatin1Char(','));
    auto at = [&](const QStringList& row, const char* name) {
        return row[header.indexOf(QLatin1String(name))];
    };
    int line = 1;
    for (Side side : kSides)
        for (int i = 0; i <= kDecodeSteps; ++i) {
            const StepTrace& t = *m_store.trace(side, i);
            for (int op = 0; op <= kOpClassCount; ++op) {
                const QStringList row = lines[line++].split(QLatin1Char(','));
                const OpCounters o = op < kOpClassCount ? t.counters.by_op[size_t(op)] : t.counters.total();
                QCOMPARE(at(row, "mode"), QString::fromLatin1(side == Side::cached ? "cached" : "uncached"));
                QCOMPARE(at(row, "step").toInt(), t.step);
                QCOMPARE(at(row, "pos_end").toInt(), t.pos_end);
                QCOMPARE(at(row, "flops").toULongLong(), o.flops);
                QCOMPARE(at(row, "weight_bytes").toULongLong(), o.weight_bytes);
                QCOMPARE(at(row, "kv_read").toULongLong(), o.kv_read);
                QCOMPARE(at(row, "kv_written").toULongLong(), o.kv_written);
                QCOMPARE(at(row, "calls").toULongLong(), o.calls);
                QCOMPARE(at(row, "seconds").toDouble(),
                         o.seconds);  // the shortest decimal reads back exactly
                QCOMPARE(at(row, "tokens_recomputed").toULongLong(), t.counters.tokens_recomputed);
                QCOMPARE(at(row, "kv_bytes_resident").toULongLong(), t.counters.kv_bytes_resident);
                QCOMPARE(at(row, "wall_seconds").toDouble(), t.counters.wall_seconds);
            }
        }
    // The uncached run recomputed every earlier row at every step, the cached one none.
    QCOMPARE(m_store.trace(Side::uncached, kDecodeSteps)->counters.tokens_recomputed,
             uint64_t(m_store.trace(Side::uncached, kDecodeSteps)->pos_end - 1));
    QCOMPARE(m_store.trace(Side::cached, kDecodeSteps)->counters.tokens_recomputed, uint64_t(0));
}

void TestExportApp::cancelLeavesNothing() {
    QTemporaryDir dir;
    ExportSettings s = clipSettings(ExportFormat::mp4, dir.filePath(QStringLiteral("long.mp4")));
    s.framesPerStep = 20;  // 200 frames: long enough to cancel in the middle
    ExportJob job(m_history, s);
    QSignalSpy finished(&job, &ExportJob::finished);
    int reports = 0;
    connect(&job, &ExportJob::progress, &job, [&](const ExportProgress& p) {
        ++reports;
        if (p.done >= 5) job.cancel();
    });
    QVERIFY(job.start());
    QVERIFY(finished.wait(120000));
    const ExportResult r = finished.at(0).at(0).value<ExportResult>();
    QCOMPARE(int(r.outcome), int(ExportResult::Outcome::cancelled));
    QVERIFY(reports >= 5);
    QVERIFY2(entriesIn(dir.path()).isEmpty(), qPrintable(entriesIn(dir.path()).join(QStringLiteral(", "))));
    // Cancelled before the first frame (the flag up at once): nothing either, and an existing file survives.
    QFile existing(dir.filePath(QStringLiteral("keep.gif")));
    QVERIFY(existing.open(QIODevice::WriteOnly));
    existing.write("old");
    existing.close();
    ExportSettings g = clipSettings(ExportFormat::gif, existing.fileName());
    g.force = true;
    ExportJob early(m_history, g);
    QSignalSpy earlyDone(&early, &ExportJob::finished);
    QVERIFY(early.start());
    early.cancel();
    QVERIFY(earlyDone.wait(60000));
    QCOMPARE(int(earlyDone.at(0).at(0).value<ExportResult>().outcome), int(ExportResult::Outcome::cancelled));
    QCOMPARE(entriesIn(dir.path()), QStringList{QStringLiteral("keep.gif")});
    QVERIFY(existing.open(QIODevice::ReadOnly));
    QCOMPARE(existing.readAll(), QByteArray("old"));
}

// Timings are measured, so the counters' numbers and the time plots differ from run to run; the heatmaps
// (and the tokens) are the model's numbers and must be the same. Frames are also the same whatever order
// they are asked for in (a GIF's second pass, a preview).
void TestExportApp::sameRunSameHeatmaps() {
    TraceStore again;
    const Status ran = runLesson(again);
    QVERIFY2(ran, ran.message().c_str());
    const ExportSettings s =
        *resolveExportSettings(clipSettings(ExportFormat::mp4, QStringLiteral("unused.mp4")), m_history);
    auto a = ViewFrames::create(m_history, s);
    auto b = ViewFrames::create(ExportHistory::of(again), s);
    QVERIFY(a && b);
    const int last = (*a)->frameCount() - 1;
    for (int i = 0; i <= last; ++i)
        QVERIFY((*a)->renderFrame(i));
    const QImage forward = *(*a)->renderFrame(last);
    const QImage direct = *(*b)->renderFrame(last);
    auto& layout = dynamic_cast<LayoutRenderer&>((*b)->content());
    std::vector<QRect> heatmaps;
    for (Side side : kSides) {
        heatmaps.push_back(layout.attention(side).tileRect(0).toRect());
        for (int layer = 0; layer < 2; ++layer)
            for (bool key : {true, false})
                for (int head = 0; head < 2; ++head)
                    heatmaps.push_back(layout.kvCache(side).headRect(layer, key, head).toRect());
    }
    for (const QRect& r : heatmaps) {
        QVERIFY(!r.isEmpty());
        QCOMPARE(forward.copy(r), direct.copy(r));
    }
    // Back in time and forward again, within one source: the very same frames.
    const QImage first = *(*a)->renderFrame(0);
    QCOMPARE(*(*a)->renderFrame(last), forward);
    QCOMPARE(*(*a)->renderFrame(0), first);
    // Animations follow the timeline: the two frames of a step differ (the new row's flash fades, the
    // uncached sweep moves), and without animation they are the same picture, drawn once.
    QVERIFY(*(*a)->renderFrame(2) != *(*a)->renderFrame(3));
    ExportSettings still = s;
    still.animate = false;
    auto c = ViewFrames::create(m_history, still);
    QVERIFY(c);
    QCOMPARE(*(*c)->renderFrame(2), *(*c)->renderFrame(3));
    QCOMPARE((*c)->framesDrawn(), 1);
}

void TestExportApp::badSettingsAreRefused_data() {
    QTest::addColumn<QString>("change");
    QTest::addColumn<QString>("error");
    QTest::newRow("steps past the end") << "last=10"
                                        << "steps 0 to 10: the run has steps 0 (the prefill) to 9";
    QTest::newRow("first after last") << "first=5 last=4"
                                      << "steps 5 to 4: the run has steps 0 (the prefill) to 9";
    QTest::newRow("still past the end")
        << "png still=12"
        << "step 12 asked for a still: the run has steps 0 (the prefill) to 9";
    QTest::newRow("layer") << "layer=2"
                           << "layer 2: the model has layers 0 to 1";
    QTest::newRow("head") << "head=4"
                          << "head 4: the model has heads 0 to 3";
    QTest::newRow("svg of counters") << "svg counters"
                                     << "an SVG draws heatmaps: the counters view has none";
    QTest::newRow("size 0") << "size=0"
                            << "export size 0×0: each side must be 1 to 8192 pixels";
    QTest::newRow("size too big") << "size=9000"
                                  << "export size 9000×9000: each side must be 1 to 8192 pixels";
    QTest::newRow("theme") << "theme"
                           << "theme 'neon': use light, dark or projector";
}

void TestExportApp::badSettingsAreRefused() {
    QFETCH(QString, change);
    QFETCH(QString, error);
    QTemporaryDir dir;
    ExportSettings s = clipSettings(ExportFormat::mp4, dir.filePath(QStringLiteral("x.mp4")));
    if (change.contains(QStringLiteral("first="))) s.firstStep = 5;
    if (change.contains(QStringLiteral("last=")))
        s.lastStep = change.contains(QStringLiteral("=10")) ? 10 : 4;
    if (change.startsWith(QStringLiteral("png"))) {
        s.format = ExportFormat::png;
        s.stillStep = 12;
    }
    if (change == QStringLiteral("layer=2")) s.layer = 2;
    if (change == QStringLiteral("head=4")) s.head = 4;
    if (change.startsWith(QStringLiteral("svg"))) {
        s.format = ExportFormat::svg;
        s.view = ExportView::counters;
    }
    if (change == QStringLiteral("size=0")) s.size = QSize(0, 0);
    if (change == QStringLiteral("size=9000")) s.size = QSize(9000, 9000);
    if (change == QStringLiteral("theme")) s.theme = QStringLiteral("neon");
    ExportJob job(m_history, s);
    const Status started = job.start();
    QVERIFY(!started);
    QVERIFY2(QString::fromStdString(started.message()).startsWith(error), started.message().c_str());
    QVERIFY(entriesIn(dir.path()).isEmpty());
}

void TestExportApp::dialog() {
    ExportDialog dialog(m_store, ThemeKind::dark);
    QStringList asked;
    bool replace = false;
    dialog.setReplaceQuestion([&](const QString& path) {
        asked << path;
        return replace;
    });
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    // Layer and head are offered only for the views that draw them.
    {
        auto* layer = dialog.findChild<QWidget*>(QStringLiteral("layer"));
        auto* head = dialog.findChild<QWidget*>(QStringLiteral("head"));
        QVERIFY(layer && head);
        ExportSettings v = dialog.settings();
        const std::pair<ExportView, std::pair<bool, bool>> expected[] = {
            {ExportView::attention, {true, true}},  {ExportView::kvCache, {true, false}},
            {ExportView::plots, {false, false}},    {ExportView::firstToken, {false, false}},
            {ExportView::sideBySide, {true, true}},
        };
        for (const auto& [view, uses] : expected) {
            v.view = view;
            dialog.setSettings(v);
            QCOMPARE(layer->isEnabled(), uses.first);
            QCOMPARE(head->isEnabled(), uses.second);
        }
    }
    // It fits a 1280×720 projector with a title bar to spare: its Export and Close buttons stay on screen.
    QVERIFY2(dialog.height() <= 680 && dialog.width() <= 1280,
             qPrintable(QStringLiteral("%1×%2").arg(dialog.width()).arg(dialog.height())));
    // The preview is the first frame, at the export's size: the defaults are 1080p MP4, light, all steps.
    QCOMPARE(dialog.preview().size(), QSize(1920, 1080));
    QCOMPARE(dialog.settings().theme, QStringLiteral("light"));
    QCOMPARE(dialog.settings().lastStep, kDecodeSteps);

    QTemporaryDir dir;
    ExportSettings s = dialog.settings();
    s.format = ExportFormat::gif;
    s.out = dir.filePath(QStringLiteral("lesson.gif"));
    s.size = QSize(640, 360);
    s.fps = 10;
    s.framesPerStep = 1;
    s.firstStep = 2;
    s.lastStep = 5;
    s.view = ExportView::attention;
    s.title = QStringLiteral("Attention, step by step");
    dialog.setSettings(s);
    QSignalSpy previewed(&dialog, &ExportDialog::previewUpdated);
    QVERIFY(previewed.wait(10000));
    QCOMPARE(dialog.preview().size(), QSize(640, 360));
    if (const QString shots = qEnvironmentVariable("KVSCOPE_TEST_SHOTS"); !shots.isEmpty())
        dialog.grab().save(QDir(shots).filePath(QStringLiteral("export_dialog.png")));

    QSignalSpy finished(&dialog, &ExportDialog::exportFinished);
    dialog.startExport();
    QVERIFY(dialog.exporting());
    QVERIFY(finished.wait(60000));
    QVERIFY2(finished.at(0).at(0).value<ExportResult>().ok(), qPrintable(dialog.statusText()));
    QVERIFY2(dialog.statusText().startsWith(QStringLiteral("Wrote ")), qPrintable(dialog.statusText()));
    QCOMPARE(int(test::decodeVideo(s.out).frames.size()), 4);
    QVERIFY(asked.isEmpty());

    // The file exists now: asked first; "no" exports nothing.
    dialog.startExport();
    QCOMPARE(asked.size(), 1);
    QVERIFY(!dialog.exporting());
    replace = true;
    dialog.startExport();
    QCOMPARE(asked.size(), 2);
    QVERIFY(finished.wait(60000));
    QVERIFY(finished.at(1).at(0).value<ExportResult>().ok());

    // Cancel in the middle of a long MP4: nothing but the GIF is left.
    s.format = ExportFormat::mp4;
    s.out = dir.filePath(QStringLiteral("long.mp4"));
    s.size = QSize(1280, 720);
    s.framesPerStep = 30;
    s.firstStep = 0;
    s.lastStep = kDecodeSteps;
    dialog.setSettings(s);
    dialog.startExport();
    auto* bar = dialog.findChild<QProgressBar*>(QStringLiteral("progress"));
    QVERIFY(bar);
    QTRY_VERIFY_WITH_TIMEOUT(bar->value() >= 3, 60000);
    QVERIFY(dialog.statusText().contains(QStringLiteral(" left")));  // the time left
    dialog.cancelExport();
    QVERIFY(finished.wait(60000));
    QCOMPARE(int(finished.at(2).at(0).value<ExportResult>().outcome), int(ExportResult::Outcome::cancelled));
    QCOMPARE(dialog.statusText(), QStringLiteral("Cancelled: nothing was written."));
    QCOMPARE(entriesIn(dir.path()), QStringList{QStringLiteral("lesson.gif")});
}

QTEST_MAIN(TestExportApp)
#include "test_export_app.moc"
