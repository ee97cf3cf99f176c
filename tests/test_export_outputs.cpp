// test_export_outputs — what an export leaves on disk when it succeeds, fails or is cancelled, and the
// clear errors bad requests get: the target appears only after success, a cancel or a failure leaves
// neither the target nor a temporary, an existing target survives until a replacing export succeeds.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "export/exporter.h"
#include "export/h264_level.h"
#include "support/synthetic_frames.h"

using namespace kvscope;
using namespace kvscope::app;
using kvscope::test::CancellingSource;
using kvscope::test::FailingSource;
using kvscope::test::GrowingGridSource;

namespace {

// Every entry in a folder, hidden ones (our temporaries) included.
QStringList entries(const QString& folder) {
    return QDir(folder).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                                  QDir::Name);
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

ExportRequest request(ExportFormat format, const QString& path) {
    ExportRequest r;
    r.format = format;
    r.outPath = path;
    r.video.fps = 10;
    r.video.threads = 1;
    return r;
}

QString targetName(ExportFormat format) {
    return writesFolder(format) ? QStringLiteral("frames") : QStringLiteral("out.") + formatSuffix(format);
}

}  // namespace

class TestExportOutputs : public QObject {
    Q_OBJECT
  private slots:
    void writesEachFrameFormat_data();
    void writesEachFrameFormat();
    void cancelLeavesNothing_data();
    void cancelLeavesNothing();
    void cancelKeepsExistingTarget();
    void failureLeavesNothing_data();
    void failureLeavesNothing();
    void existingTargetNeedsPermission();
    void replacesExistingTargetAfterSuccess();
    void badRequests_data();
    void badRequests();
    void h264Levels_data();
    void h264Levels();
};

void TestExportOutputs::writesEachFrameFormat_data() {
    QTest::addColumn<int>("format");
    for (ExportFormat f : {ExportFormat::mp4, ExportFormat::gif, ExportFormat::pngFrames, ExportFormat::png})
        QTest::newRow(qPrintable(formatName(f))) << int(f);
}

void TestExportOutputs::writesEachFrameFormat() {
    QFETCH(int, format);
    QTemporaryDir dir;
    GrowingGridSource source(QSize(160, 120));
    std::vector<ExportProgress> progress;
    ExportControl control(nullptr, [&](const ExportProgress& p) { progress.push_back(p); });
    const QString target = dir.filePath(targetName(ExportFormat(format)));
    const ExportResult result = exportFrames(source, request(ExportFormat(format), target), control);
    QVERIFY2(result.ok(), qPrintable(result.error));
    QVERIFY(result.bytes > 0);
    // Progress after every frame (GIF: every frame of each pass), ending at the total, with a time left.
    if (ExportFormat(format) != ExportFormat::png) {
        const int total = ExportFormat(format) == ExportFormat::gif ? 20 : 10;
        QCOMPARE(int(progress.size()), total);
        for (size_t i = 0; i < progress.size(); ++i) {
            QCOMPARE(progress[i].done, int(i) + 1);
            QCOMPARE(progress[i].total, total);
            QVERIFY(progress[i].remainingSeconds >= 0.0);
            QVERIFY(!progress[i].stage.isEmpty());
        }
        QCOMPARE(progress.back().remainingSeconds, 0.0);
    }
    // Only the target is left: the temporary was renamed, not copied.
    QCOMPARE(entries(dir.path()), QStringList{targetName(ExportFormat(format))});
    const QFileInfo info(target);
    QCOMPARE(info.permissions() & (QFile::ReadOther | QFile::ReadGroup), QFile::ReadOther | QFile::ReadGroup);
}

void TestExportOutputs::cancelLeavesNothing_data() {
    QTest::addColumn<int>("format");
    QTest::addColumn<int>("cancelAt");
    for (ExportFormat f : {ExportFormat::mp4, ExportFormat::gif, ExportFormat::pngFrames}) {
        QTest::addRow("%s at frame 0", qPrintable(formatName(f))) << int(f) << 0;
        QTest::addRow("%s at frame 4", qPrintable(formatName(f))) << int(f) << 4;
        QTest::addRow("%s at the last frame", qPrintable(formatName(f))) << int(f) << 9;
    }
    QTest::addRow("png") << int(ExportFormat::png) << 0;
}

void TestExportOutputs::cancelLeavesNothing() {
    QFETCH(int, format);
    QFETCH(int, cancelAt);
    QTemporaryDir dir;
    GrowingGridSource grid(QSize(160, 120));
    std::atomic<bool> cancel{false};
    CancellingSource source(grid, cancel, cancelAt);
    int lastReported = 0;
    ExportControl control(&cancel, [&](const ExportProgress& p) { lastReported = p.done; });
    const ExportResult result = exportFrames(
        source, request(ExportFormat(format), dir.filePath(targetName(ExportFormat(format)))), control);
    QCOMPARE(int(result.outcome), int(ExportResult::Outcome::cancelled));
    QVERIFY(result.error.isEmpty());
    QCOMPARE(entries(dir.path()), QStringList());
    QVERIFY(lastReported <= cancelAt + 1);  // stopped at the next check, frames after it were not drawn
}

void TestExportOutputs::cancelKeepsExistingTarget() {
    QTemporaryDir dir;
    const QString target = dir.filePath(QStringLiteral("lesson.mp4"));
    writeFile(target, "the old export");
    GrowingGridSource grid(QSize(160, 120));
    std::atomic<bool> cancel{false};
    CancellingSource source(grid, cancel, 5);
    ExportControl control(&cancel, {});
    ExportRequest r = request(ExportFormat::mp4, target);
    r.replaceExisting = true;
    QCOMPARE(int(exportFrames(source, r, control).outcome), int(ExportResult::Outcome::cancelled));
    QCOMPARE(readAll(target), QByteArray("the old export"));
    QCOMPARE(entries(dir.path()), QStringList{QStringLiteral("lesson.mp4")});
}

void TestExportOutputs::failureLeavesNothing_data() {
    QTest::addColumn<int>("format");
    QTest::addColumn<int>("how");
    QTest::addColumn<QString>("message");
    for (ExportFormat f : {ExportFormat::mp4, ExportFormat::gif, ExportFormat::pngFrames}) {
        QTest::addRow("%s, renderer error", qPrintable(formatName(f)))
            << int(f) << int(FailingSource::How::error)
            << QStringLiteral("frame 3: the renderer lost its OpenGL context");
        QTest::addRow("%s, wrong frame size", qPrintable(formatName(f)))
            << int(f) << int(FailingSource::How::wrongSize)
            << QStringLiteral("frame 3 is 80×60 pixels, the export is 160×120");
    }
}

void TestExportOutputs::failureLeavesNothing() {
    QFETCH(int, format);
    QFETCH(int, how);
    QFETCH(QString, message);
    QTemporaryDir dir;
    GrowingGridSource grid(QSize(160, 120));
    FailingSource source(grid, 3, FailingSource::How(how));
    ExportControl control;
    const ExportResult result = exportFrames(
        source, request(ExportFormat(format), dir.filePath(targetName(ExportFormat(format)))), control);
    QCOMPARE(int(result.outcome), int(ExportResult::Outcome::failed));
    QCOMPARE(result.error, message);
    QCOMPARE(entries(dir.path()), QStringList());
}

void TestExportOutputs::existingTargetNeedsPermission() {
    QTemporaryDir dir;
    const QString target = dir.filePath(QStringLiteral("lesson.gif"));
    writeFile(target, "keep me");
    GrowingGridSource source(QSize(160, 120));
    ExportControl control;
    const ExportResult result = exportFrames(source, request(ExportFormat::gif, target), control);
    QVERIFY(!result.ok());
    QCOMPARE(result.error,
             QStringLiteral("'%1' already exists; choose another name or allow replacing it (--force)")
                 .arg(target));
    QCOMPARE(source.renders(), 0);  // refused before drawing anything
    QCOMPARE(readAll(target), QByteArray("keep me"));
}

void TestExportOutputs::replacesExistingTargetAfterSuccess() {
    QTemporaryDir dir;
    for (ExportFormat f : {ExportFormat::mp4, ExportFormat::pngFrames}) {
        const QString target = dir.filePath(targetName(f));
        if (writesFolder(f)) {
            QVERIFY(QDir(dir.path()).mkdir(targetName(f)));
            writeFile(target + QStringLiteral("/stale.png"), "old frame");
        } else {
            writeFile(target, "old video");
        }
        GrowingGridSource source(QSize(160, 120));
        ExportControl control;
        ExportRequest r = request(f, target);
        r.replaceExisting = true;
        const ExportResult result = exportFrames(source, r, control);
        QVERIFY2(result.ok(), qPrintable(result.error));
        if (writesFolder(f)) {
            QStringList want;
            for (int i = 0; i < 10; ++i)
                want << QStringLiteral("frame_%1.png").arg(i, 4, 10, QLatin1Char('0'));
            QCOMPARE(entries(target), want);  // the stale frame went with the old folder
        } else {
            QVERIFY(readAll(target).size() > 100);
        }
    }
    QCOMPARE(entries(dir.path()), (QStringList{QStringLiteral("frames"), QStringLiteral("out.mp4")}));
}

void TestExportOutputs::badRequests_data() {
    QTest::addColumn<int>("format");
    QTest::addColumn<QSize>("size");
    QTest::addColumn<int>("fps");
    QTest::addColumn<QString>("path");  // relative to a temporary folder
    QTest::addColumn<QString>("message");
    const QSize ok(160, 120);
    QTest::newRow("missing folder") << int(ExportFormat::mp4) << ok << 10
                                    << QStringLiteral("no/such/folder/a.mp4")
                                    << QStringLiteral("folder '%1/no/such/folder' does not exist");
    QTest::newRow("parent is a file") << int(ExportFormat::gif) << ok << 10 << QStringLiteral("file/a.gif")
                                      << QStringLiteral("'%1/file' is not a folder");
    QTest::newRow("target is a folder") << int(ExportFormat::mp4) << ok << 10 << QStringLiteral("sub")
                                        << QStringLiteral("cannot write '%1/sub': it is a folder");
    QTest::newRow("frames into a file")
        << int(ExportFormat::pngFrames) << ok << 10 << QStringLiteral("file")
        << QStringLiteral("cannot write PNG frames to '%1/file': it is a file");
    QTest::newRow("empty path") << int(ExportFormat::png) << ok << 10 << QString()
                                << QStringLiteral("no output path given");
    QTest::newRow("zero width") << int(ExportFormat::png) << QSize(0, 120) << 10 << QStringLiteral("a.png")
                                << QStringLiteral("export size 0×120: each side must be 1 to 8192 pixels");
    QTest::newRow("too tall") << int(ExportFormat::gif) << QSize(64, 8193) << 10 << QStringLiteral("a.gif")
                              << QStringLiteral("export size 64×8193: each side must be 1 to 8192 pixels");
    QTest::newRow("odd for H.264") << int(ExportFormat::mp4) << QSize(1919, 1080) << 30
                                   << QStringLiteral("a.mp4")
                                   << QStringLiteral(
                                          "export size 1919×1080: H.264 (yuv420p) needs even width and "
                                          "height; try 1920×1080");
    QTest::newRow("beyond H.264 levels")
        << int(ExportFormat::mp4) << QSize(8192, 8192) << 30 << QStringLiteral("a.mp4")
        << QStringLiteral("export size 8192×8192 is larger than any H.264 level");
    QTest::newRow("GIF too fast") << int(ExportFormat::gif) << ok << 60 << QStringLiteral("a.gif")
                                  << QStringLiteral("GIF at 60 fps: GIF frame delays are in 1/100 s");
    QTest::newRow("zero fps") << int(ExportFormat::mp4) << ok << 0 << QStringLiteral("a.mp4")
                              << QStringLiteral("0 fps: use 1 to 120 frames per second");
    QTest::newRow("svg from frames") << int(ExportFormat::svg) << ok << 10 << QStringLiteral("a.svg")
                                     << QStringLiteral("frames cannot be exported as svg");
}

void TestExportOutputs::badRequests() {
    QFETCH(int, format);
    QFETCH(QSize, size);
    QFETCH(int, fps);
    QFETCH(QString, path);
    QFETCH(QString, message);
    QTemporaryDir dir;
    writeFile(dir.filePath(QStringLiteral("file")), "x");
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("sub")));
    GrowingGridSource source(size);
    ExportControl control;
    ExportRequest r = request(ExportFormat(format), path.isEmpty() ? QString() : dir.filePath(path));
    r.video.fps = fps;
    const ExportResult result = exportFrames(source, r, control);
    QCOMPARE(int(result.outcome), int(ExportResult::Outcome::failed));
    QVERIFY2(result.error.contains(message.contains(QLatin1String("%1")) ? message.arg(dir.path()) : message),
             qPrintable(result.error));
    QCOMPARE(source.renders(), 0);
    QCOMPARE(entries(dir.path()), (QStringList{QStringLiteral("file"), QStringLiteral("sub")}));
}

void TestExportOutputs::h264Levels_data() {
    QTest::addColumn<QSize>("size");
    QTest::addColumn<int>("fps");
    QTest::addColumn<int>("level");
    // Worked from Table A-1: frame size in macroblocks (MaxFS), macroblocks per second (MaxMBPS).
    QTest::newRow("320x240@10") << QSize(320, 240) << 10 << 30;      // 300 MBs
    QTest::newRow("1280x720@30") << QSize(1280, 720) << 30 << 31;    // 3600 MBs, 108000/s
    QTest::newRow("1280x720@60") << QSize(1280, 720) << 60 << 32;    // 216000/s
    QTest::newRow("1080x1080@30") << QSize(1080, 1080) << 30 << 32;  // 68×68 = 4624 MBs
    QTest::newRow("1920x1080@30") << QSize(1920, 1080) << 30 << 40;  // 120×68 = 8160 MBs, 244800/s
    QTest::newRow("1920x1080@60") << QSize(1920, 1080) << 60 << 42;  // 489600/s
    QTest::newRow("3840x2160@30") << QSize(3840, 2160) << 30 << 51;  // 32400 MBs
    QTest::newRow("8192x16@30") << QSize(8192, 16) << 30 << 51;  // 512 MBs wide: needs √(8·MaxFS) ≥ 512
    QTest::newRow("8192x4320@30") << QSize(8192, 4320) << 30 << 60;  // 138240 MBs
    QTest::newRow("8192x8192") << QSize(8192, 8192) << 30 << 0;      // 262144 MBs: no level
}

void TestExportOutputs::h264Levels() {
    QFETCH(QSize, size);
    QFETCH(int, fps);
    QFETCH(int, level);
    const std::optional<H264Level> got = chooseH264Level(size, fps);
    QCOMPARE(got ? got->idc : 0, level);
}

QTEST_MAIN(TestExportOutputs)
#include "test_export_outputs.moc"
