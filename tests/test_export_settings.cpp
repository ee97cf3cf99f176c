// test_export_settings — what an export is asked for, parsed and checked before any work: views, sizes,
// the frame timeline (which step each frame shows), progress lines, and `kvscope export`'s options with
// a clear error for each bad one.
#include <QtTest>

#include "export/export_command_line.h"
#include "export/export_control.h"
#include "export/export_settings.h"

using namespace kvscope;
using namespace kvscope::app;

namespace {
QStringList args(const QString& line) {
    return QStringList{QStringLiteral("kvscope-export")} + QProcess::splitCommand(line);
}
const QString kBase = QStringLiteral("--model m --prompt \"To be\" --steps 10 ");
}  // namespace

class TestExportSettings : public QObject {
    Q_OBJECT
  private slots:
    void views();
    void sizes_data();
    void sizes();
    void timeline();
    void progress();
    void commandDefaults();
    void commandOptions();
    void commandErrors_data();
    void commandErrors();
};

void TestExportSettings::views() {
    for (const QString& name : viewNames())
        QCOMPARE(viewName(*parseView(name)), name);
    QCOMPARE(*parseView(QStringLiteral("KV-Cache")), ExportView::kvCache);
    QCOMPARE(
        QString::fromStdString(parseView(QStringLiteral("heatmap")).message()),
        QStringLiteral("unknown view 'heatmap' (known: side-by-side, pane, kv-cache, attention, counters, "
                       "plots, tokens, scale, roofline, complexity, first-token, conversations)"));
}

void TestExportSettings::sizes_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QSize>("size");
    QTest::addColumn<QString>("error");
    QTest::newRow("1080p") << "1080p" << QSize(1920, 1080) << QString();
    QTest::newRow("720p") << "720P" << QSize(1280, 720) << QString();
    QTest::newRow("square") << "square" << QSize(1080, 1080) << QString();
    QTest::newRow("custom") << "800x450" << QSize(800, 450) << QString();
    QTest::newRow("times sign") << "1024 × 768" << QSize(1024, 768) << QString();
    QTest::newRow("zero") << "0x100" << QSize() << "export size 0×100: each side must be 1 to 8192 pixels";
    QTest::newRow("huge") << "9000x100" << QSize()
                          << "export size 9000×100: each side must be 1 to 8192 pixels";
    QTest::newRow("words")
        << "big" << QSize()
        << "size 'big': write WIDTHxHEIGHT (e.g. 1920x1080) or a preset (1080p, 720p, square)";
    QTest::newRow("negative") << "-5x10" << QSize() << "size '-5x10': write WIDTHxHEIGHT";
}

void TestExportSettings::sizes() {
    QFETCH(QString, text);
    QFETCH(QSize, size);
    QFETCH(QString, error);
    const Result<QSize> got = parseExportSize(text);
    if (error.isEmpty()) {
        QVERIFY2(got, got.message().c_str());
        QCOMPARE(*got, size);
    } else {
        QVERIFY(!got);
        QVERIFY2(QString::fromStdString(got.message()).startsWith(error), got.message().c_str());
    }
}

void TestExportSettings::timeline() {
    const Result<FrameTimeline> t = FrameTimeline::make(0, 10, 15, 11);
    QVERIFY(t);
    QCOMPARE(t->frameCount(), 165);
    QCOMPARE(t->stepAt(0), 0);  // the prefill first
    QCOMPARE(t->stepAt(14), 0);
    QCOMPARE(t->stepAt(15), 1);
    QCOMPARE(t->stepAt(164), 10);
    QCOMPARE(t->secondsIntoStep(17, 30), 2.0 / 30);
    const Result<FrameTimeline> part = FrameTimeline::make(3, 5, 1, 11);
    QCOMPARE(part->frameCount(), 3);
    QCOMPARE(part->stepAt(2), 5);
    QCOMPARE(QString::fromStdString(FrameTimeline::make(2, 11, 1, 11).message()),
             QStringLiteral("steps 2 to 11: the run has steps 0 (the prefill) to 10"));
    QCOMPARE(QString::fromStdString(FrameTimeline::make(5, 4, 1, 11).message()),
             QStringLiteral("steps 5 to 4: the run has steps 0 (the prefill) to 10"));
    QCOMPARE(QString::fromStdString(FrameTimeline::make(0, 1, 0, 11).message()),
             QStringLiteral("0 frames per step: use 1 to 600"));
    QCOMPARE(QString::fromStdString(FrameTimeline::make(0, 0, 1, 0).message()),
             QStringLiteral("nothing to export: no steps have been run"));
}

void TestExportSettings::progress() {
    ExportProgress p;
    p.stage = QStringLiteral("encoding H.264");
    p.done = 16;
    p.total = 64;
    p.frame = 16;
    p.frames = 64;
    p.remainingSeconds = 3.2;
    QCOMPARE(progressLine(p), QStringLiteral("encoding H.264: frame 16 of 64, 25% in all, 3.2 s left"));
    p.remainingSeconds = -1;
    QCOMPARE(progressLine(p), QStringLiteral("encoding H.264: frame 16 of 64, 25% in all"));
    // A GIF's second pass over a 60-frame clip: the frames the dialog promised, not 120 units.
    ExportControl control(nullptr, [&](const ExportProgress& q) { p = q; });
    control.report(47, 60, QStringLiteral("encoding GIF"), 2, 2);
    QCOMPARE(p.done, 107);
    QCOMPARE(p.total, 120);
    QVERIFY2(
        progressLine(p).startsWith(QStringLiteral("encoding GIF: frame 47 of 60 (pass 2 of 2), 89% in all")),
        qPrintable(progressLine(p)));
}

void TestExportSettings::commandDefaults() {
    const Result<ExportCommand> c = parseExportCommand(args(kBase + "--out lesson.mp4"));
    QVERIFY2(c, c.message().c_str());
    QCOMPARE(c->model, QStringLiteral("m"));
    QCOMPARE(c->prompt, QStringLiteral("To be"));
    QCOMPARE(c->steps, 10);
    QCOMPARE(c->settings.format, ExportFormat::mp4);  // from the suffix
    QCOMPARE(c->settings.view, ExportView::sideBySide);
    QCOMPARE(c->settings.size, QSize(1920, 1080));
    QCOMPARE(c->settings.fps, 30);
    QCOMPARE(c->settings.framesPerStep, 15);
    QCOMPARE(c->settings.theme, QStringLiteral("light"));
    QCOMPARE(c->settings.force, false);
    QCOMPARE(c->settings.lastStep, -1);
    QCOMPARE(c->temperature, 0.0f);
    const Result<ExportCommand> gif = parseExportCommand(args(kBase + "--out a.gif"));
    QCOMPARE(gif->settings.fps, 15);
    QCOMPARE(gif->settings.framesPerStep, 7);
}

void TestExportSettings::commandOptions() {
    const Result<ExportCommand> c = parseExportCommand(
        args(kBase +
             "--out frames --format png-frames --view attention --run uncached --layer 1 --head all "
             "--size square --fps 24 --frames-per-step 6 --first-step 2 --last-step 8 --theme dark "
             "--font-scale 1.5 --title \"KV cache\" --caption \"step by step\" --seed 7 --temperature 0.8 "
             "--force"));
    QVERIFY2(c, c.message().c_str());
    QCOMPARE(c->settings.format, ExportFormat::pngFrames);
    QCOMPARE(c->settings.view, ExportView::attention);
    QVERIFY(c->settings.uncachedRun);
    QCOMPARE(c->settings.layer, 1);
    QVERIFY(c->settings.allHeads);
    QCOMPARE(c->settings.size, QSize(1080, 1080));
    QCOMPARE(c->settings.fps, 24);
    QCOMPARE(c->settings.framesPerStep, 6);
    QCOMPARE(c->settings.firstStep, 2);
    QCOMPARE(c->settings.lastStep, 8);
    QCOMPARE(c->settings.theme, QStringLiteral("dark"));
    QCOMPARE(c->settings.fontScale, 1.5);
    QCOMPARE(c->settings.title, QStringLiteral("KV cache"));
    QCOMPARE(c->settings.caption, QStringLiteral("step by step"));
    QCOMPARE(c->seed, quint64(7));
    QCOMPARE(c->temperature, 0.8f);
    QVERIFY(c->settings.force);
    const Result<ExportCommand> still =
        parseExportCommand(args(kBase + "--out a.svg --head 3 --still-step 4"));
    QCOMPARE(still->settings.head, 3);
    QVERIFY(!still->settings.allHeads);
    QVERIFY(still->settings.animate);
    QVERIFY(!parseExportCommand(args(kBase + "--out a.gif --animation off"))->settings.animate);
    // No --model: the embedded model, found where the app finds it.
    QVERIFY(parseExportCommand(args("--prompt a --steps 3 --out a.mp4"))->model.isEmpty());
}

void TestExportSettings::commandErrors_data() {
    QTest::addColumn<QString>("line");
    QTest::addColumn<QString>("error");
    QTest::newRow("no prompt") << "--model m --steps 3 --out a.mp4"
                               << "--prompt is required";
    QTest::newRow("bad animation") << kBase + "--out a.mp4 --animation maybe"
                                   << "--animation maybe: use on or off";
    QTest::newRow("no out") << kBase << "--out is required";
    QTest::newRow("unknown option") << kBase + "--out a.mp4 --colour red"
                                    << "Unknown option 'colour'.";
    QTest::newRow("stray argument") << kBase + "--out a.mp4 extra"
                                    << "unexpected argument 'extra'";
    QTest::newRow("unknown format")
        << kBase + "--out a.webm --format webm"
        << "unknown export format 'webm' (known: mp4, gif, png-frames, png, svg, csv, json)";
    QTest::newRow("no suffix") << kBase + "--out lesson"
                               << "cannot tell the format from 'lesson': add --format";
    QTest::newRow("unknown suffix") << kBase + "--out lesson.avi"
                                    << "cannot tell the format from 'lesson.avi'";
    QTest::newRow("bad steps") << "--model m --prompt a --steps ten --out a.mp4"
                               << "--steps ten: expected a whole number from 0 to 100000";
    QTest::newRow("bad view") << kBase + "--out a.mp4 --view heatmap"
                              << "unknown view 'heatmap'";
    QTest::newRow("bad run") << kBase + "--out a.mp4 --run both"
                             << "--run both: use cached or uncached";
    QTest::newRow("bad head") << kBase + "--out a.mp4 --head first"
                              << "--head first: expected a whole number";
    QTest::newRow("bad size") << kBase + "--out a.mp4 --size huge"
                              << "size 'huge': write WIDTHxHEIGHT";
    QTest::newRow("odd mp4")
        << kBase + "--out a.mp4 --size 1279x720"
        << "export size 1279×720: H.264 (yuv420p) needs even width and height; try 1280×720";
    QTest::newRow("gif too fast") << kBase + "--out a.gif --fps 60"
                                  << "GIF at 60 fps";
    QTest::newRow("fps zero") << kBase + "--out a.mp4 --fps 0"
                              << "--fps 0: expected a whole number from 1 to 120";
    QTest::newRow("last step beyond") << kBase + "--out a.mp4 --last-step 11"
                                      << "steps 0 to 11: the run has steps 0 (the prefill) to 10";
    QTest::newRow("first after last") << kBase + "--out a.mp4 --first-step 6 --last-step 5"
                                      << "steps 6 to 5: the run has steps 0 (the prefill) to 10";
    QTest::newRow("still beyond") << kBase + "--out a.png --still-step 12"
                                  << "--still-step 12: the run has steps 0 (the prefill) to 10";
    QTest::newRow("bad theme") << kBase + "--out a.mp4 --theme neon"
                               << "--theme neon: use light, dark or projector";
    QTest::newRow("bad font scale") << kBase + "--out a.mp4 --font-scale 0"
                                    << "--font-scale 0: expected a number";
    QTest::newRow("bad temperature") << kBase + "--out a.mp4 --temperature hot"
                                     << "--temperature hot";
    QTest::newRow("bad seed") << kBase + "--out a.mp4 --seed -1"
                              << "--seed -1: expected a whole number";
}

void TestExportSettings::commandErrors() {
    QFETCH(QString, line);
    QFETCH(QString, error);
    const Result<ExportCommand> c = parseExportCommand(args(line));
    QVERIFY(!c);
    QVERIFY2(QString::fromStdString(c.message()).startsWith(error), c.message().c_str());
}

QTEST_GUILESS_MAIN(TestExportSettings)
#include "test_export_settings.moc"
