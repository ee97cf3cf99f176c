// test_export_cli — `kvscope export` as a user runs it, in a child process: with no display at all it
// starts its own Xvfb and writes a GIF and the counters of a fixture model's run (read back and checked),
// reports progress on stderr, and refuses bad input with a clear message and a non-zero exit before any
// file appears: an unwritable path, an unknown format, a step range past the end, a size of 0 or over
// 8192, a layer the model lacks, an existing file without --force, and no OpenGL available.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include "support/fixtures.h"
#include "support/video_decode.h"

using namespace kvscope;

namespace {

struct Run {
    int exitCode = -1;
    QString err;
};

// No display and no platform chosen: what a server or a CI job has.
QProcessEnvironment headless() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
        env.remove(QString::fromLatin1(name));
    return env;
}

Run kvscopeExport(const QStringList& args, const QProcessEnvironment& env = headless()) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(KVSCOPE_APP), QStringList{QStringLiteral("export")} + args);
    Run r;
    if (!p.waitForFinished(300000)) {
        p.kill();
        p.waitForFinished();
        r.err = QStringLiteral("kvscope export did not finish in 5 minutes");
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.err = QString::fromLocal8Bit(p.readAllStandardError());
    return r;
}

QStringList lesson(int steps) {
    return {QStringLiteral("--model"),
            QString::fromStdString(test::model_fixture_path(QStringLiteral("tiny-llama-gqa"))),
            QStringLiteral("--prompt"),
            QStringLiteral("1, 15, 27, 99"),
            QStringLiteral("--steps"),
            QString::number(steps)};
}

QStringList entriesIn(const QString& folder) {
    return QDir(folder).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
}

}  // namespace

class TestExportCli : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        if (test::fixtures_dir().empty()) QFAIL(test::fixtures_missing_message().c_str());
    }

    void gifWithoutADisplay() {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("lesson.gif"));
        const Run r =
            kvscopeExport(lesson(3) + QStringList{QStringLiteral("--view"), QStringLiteral("kv-cache"),
                                                  QStringLiteral("--size"), QStringLiteral("480x270"),
                                                  QStringLiteral("--fps"), QStringLiteral("8"),
                                                  QStringLiteral("--frames-per-step"), QStringLiteral("2"),
                                                  QStringLiteral("--out"), out});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("no display: drawing on a private Xvfb")), qPrintable(r.err));
        // Progress counts the clip's 8 frames, as the dialog does, and names the GIF's two passes.
        QVERIFY2(r.err.contains(QStringLiteral("frame 8 of 8 (pass 2 of 2)")), qPrintable(r.err));
        QVERIFY2(!r.err.contains(QStringLiteral("of 16")), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("wrote ") + QFileInfo(out).absoluteFilePath()),
                 qPrintable(r.err));
        const test::DecodedVideo video = test::decodeVideo(out);
        QVERIFY2(video.error.isEmpty(), qPrintable(video.error));
        QCOMPARE(int(video.frames.size()), 4 * 2);  // the prefill and 3 steps, 2 frames each
        QCOMPARE(QSize(video.width, video.height), QSize(480, 270));
        QCOMPARE(entriesIn(dir.path()), QStringList{QStringLiteral("lesson.gif")});
    }

    // The first-token view measures prompts of 16, 32, … tokens on the model first (wall time), then
    // draws them: a still of the chart, its rows reported on stderr.
    void firstTokenStill() {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("first-token.png"));
        const Run r =
            kvscopeExport(lesson(2) + QStringList{QStringLiteral("--view"), QStringLiteral("first-token"),
                                                  QStringLiteral("--size"), QStringLiteral("720p"),
                                                  QStringLiteral("--out"), out});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QRegularExpression timed(QStringLiteral("first token of (\\d+) prompt lengths timed on CPU"));
        const QRegularExpressionMatch m = timed.match(r.err);
        QVERIFY2(m.hasMatch(), qPrintable(r.err));
        QVERIFY(m.captured(1).toInt() >= 2);
        const QImage image(out);
        QCOMPARE(image.size(), QSize(1280, 720));
        // Both series are drawn: the pause (the uncached run's colour) and each word after it (the cached
        // run's), in the light theme's colours as the other views use them.
        int pause = 0, stream = 0;
        for (int y = 0; y < image.height(); ++y)
            for (int x = 0; x < image.width(); ++x) {
                const QColor c = image.pixelColor(x, y);
                pause += c.red() > 200 && c.green() > 60 && c.green() < 120 && c.blue() < 60;
                stream +=
                    c.red() < 60 && c.green() > 110 && c.green() < 170 && c.blue() > 100 && c.blue() < 160;
            }
        QVERIFY2(pause > 200 && stream > 200, qPrintable(QStringLiteral("%1 %2").arg(pause).arg(stream)));
        QCOMPARE(entriesIn(dir.path()), QStringList{QStringLiteral("first-token.png")});
    }

    // MP4 and GIF are written by a module the program opens on first use: without it, one clear line, exit
    // 1, nothing written; the other formats do not need it.
    void videoModuleMissing() {
        QTemporaryDir dir;
        QProcessEnvironment env = headless();
        env.insert(QStringLiteral("KVSCOPE_VIDEO_MODULE"), dir.filePath(QStringLiteral("missing.so")));
        const QString out = dir.filePath(QStringLiteral("lesson.gif"));
        Run r = kvscopeExport(lesson(1) + QStringList{QStringLiteral("--size"), QStringLiteral("320x180"),
                                                      QStringLiteral("--out"), out},
                              env);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains(QStringLiteral("libkvscope_video.so, which are not installed (looked in ") +
                                dir.filePath(QStringLiteral("missing.so"))),
                 qPrintable(r.err));
        QVERIFY(entriesIn(dir.path()).isEmpty());
        const QString png = dir.filePath(QStringLiteral("still.png"));
        r = kvscopeExport(lesson(1) + QStringList{QStringLiteral("--size"), QStringLiteral("320x180"),
                                                  QStringLiteral("--out"), png},
                          env);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QCOMPARE(QImage(png).size(), QSize(320, 180));
    }

    void countersAsJson() {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("counters.json"));
        const Run r = kvscopeExport(lesson(4) + QStringList{QStringLiteral("--out"), out});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject doc = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(doc.value(QStringLiteral("format")).toString(), QStringLiteral("kvscope-counters"));
        const QJsonArray runs = doc.value(QStringLiteral("runs")).toArray();
        QCOMPARE(runs.size(), 2);
        for (const QJsonValue& run : runs) {
            const QJsonArray steps = run.toObject().value(QStringLiteral("steps")).toArray();
            QCOMPARE(steps.size(), 5);
            QCOMPARE(steps.last().toObject().value(QStringLiteral("pos_end")).toInt(), 4 + 4);
        }
    }

    void badInput_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("env");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        const QStringList base = lesson(3);
        auto with = [&](std::initializer_list<const char*> more) {
            QStringList a = base;
            for (const char* m : more)
                a << QString::fromUtf8(m);
            return a;
        };
        QTest::newRow("folder missing") << with({"--out", "/nonexistent-kvscope/lesson.mp4"}) << "" << 1
                                        << "cannot write '/nonexistent-kvscope/lesson.mp4': folder "
                                           "'/nonexistent-kvscope' does not exist";
        QTest::newRow("unwritable folder")
            << with({"--out", "/proc/lesson.mp4"}) << "" << 1 << "cannot write in folder '/proc'";
        QTest::newRow("unknown format")
            << with({"--out", "OUT/a.webm", "--format", "webm"}) << "" << 2
            << "unknown export format 'webm' (known: mp4, gif, png-frames, png, svg, "
               "csv, json)";
        QTest::newRow("steps past the end") << with({"--out", "OUT/a.mp4", "--last-step", "9"}) << "" << 2
                                            << "steps 0 to 9: the run has steps 0 (the prefill) to 3";
        QTest::newRow("size 0") << with({"--out", "OUT/a.mp4", "--size", "0x0"}) << "" << 2
                                << "export size 0×0: each side must be 1 to 8192 pixels";
        QTest::newRow("size over 8192") << with({"--out", "OUT/a.png", "--size", "8200x100"}) << "" << 2
                                        << "export size 8200×100: each side must be 1 to 8192 pixels";
        QTest::newRow("layer") << with({"--out", "OUT/a.png", "--layer", "7"}) << "" << 1
                               << "layer 7: the model has layers 0 to 1";
        QTest::newRow("too many steps")
            << QStringList{QStringLiteral("--model"),
                           QString::fromStdString(test::model_fixture_path(QStringLiteral("tiny-llama-gqa"))),
                           QStringLiteral("--prompt"),
                           QStringLiteral("1, 2"),
                           QStringLiteral("--steps"),
                           QStringLiteral("300"),
                           QStringLiteral("--out"),
                           QStringLiteral("OUT/a.csv")}
            << "" << 1 << "steps: 2 prompt tokens and 300 steps need 302 positions";
        QTest::newRow("no such model")
            << QStringList{QStringLiteral("--model"),  QStringLiteral("/nonexistent.gguf"),
                           QStringLiteral("--prompt"), QStringLiteral("1"),
                           QStringLiteral("--steps"),  QStringLiteral("2"),
                           QStringLiteral("--out"),    QStringLiteral("OUT/a.csv")}
            << "" << 1 << "/nonexistent.gguf";
        QTest::newRow("exists") << with({"--out", "OUT/existing.mp4"}) << "" << 1
                                << "already exists; choose another name or allow replacing it (--force)";
        QTest::newRow("no OpenGL") << with({"--out", "OUT/a.png"}) << "minimal" << 1
                                   << "no OpenGL available: cannot create an OpenGL 3.3 context (Qt platform "
                                      "'minimal')";
        QTest::newRow("no display, no Xvfb")
            << with({"--out", "OUT/a.png"}) << "no-xvfb" << 1
            << "no OpenGL available: there is no display (DISPLAY is unset) and "
               "no Xvfb";
    }

    void badInput() {
        QFETCH(QStringList, args);
        QFETCH(QString, env);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        QTemporaryDir dir;
        QFile existing(dir.filePath(QStringLiteral("existing.mp4")));
        QVERIFY(existing.open(QIODevice::WriteOnly));
        existing.write("a lesson from yesterday");
        existing.close();
        for (QString& a : args)
            a.replace(QStringLiteral("OUT/"), dir.path() + QLatin1Char('/'));
        QProcessEnvironment e = headless();
        if (env == QStringLiteral("minimal"))
            e.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("minimal"));
        if (env == QStringLiteral("no-xvfb"))
            e.insert(QStringLiteral("PATH"), dir.path());  // nothing to run there
        const Run r = kvscopeExport(args, e);
        QCOMPARE(r.exitCode, exitCode);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        // The error is the last line (Qt may warn before it, e.g. about XDG_RUNTIME_DIR).
        const QStringList lines = r.err.trimmed().split(QLatin1Char('\n'));
        QVERIFY2(lines.last().startsWith(QStringLiteral("kvscope export: ")), qPrintable(r.err));
        // Nothing written, nothing half-written, the old file untouched.
        QCOMPARE(entriesIn(dir.path()), QStringList{QStringLiteral("existing.mp4")});
        QVERIFY(existing.open(QIODevice::ReadOnly));
        QCOMPARE(existing.readAll(), QByteArray("a lesson from yesterday"));
    }
};

QTEST_GUILESS_MAIN(TestExportCli)
#include "test_export_cli.moc"
