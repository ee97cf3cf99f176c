#include "lessons/lesson_pack_command.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QSurfaceFormat>
#include <atomic>
#include <csignal>
#include <cstdio>

#include "export/export_settings.h"
#include "export/virtual_display.h"
#include "format.h"
#include "gl/offscreen_renderer.h"
#include "lessons/lesson_book.h"
#include "lessons/lesson_pack.h"

namespace kvscope::app {

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void onLessonInterrupt(int) {
    g_interrupted.store(true);
}

void say(const QString& text) {
    std::fprintf(stderr, "kvscope export --lesson: %s\n", qPrintable(text));
}

QList<QCommandLineOption> options() {
    auto value = [](const char* name, const char* help, const char* valueName) {
        return QCommandLineOption(QString::fromLatin1(name), QString::fromUtf8(help),
                                  QString::fromLatin1(valueName));
    };
    return {
        value("lesson", "all, or chapter numbers separated by commas", "chapters"),
        value("out", "the folder to write (it must not exist, unless --force)", "dir"),
        value("model", "the model file or folder (default: the embedded model)", "file"),
        value("size", "MP4 and stills: 1080p, 720p or WIDTHxHEIGHT (default 1280x720)", "size"),
        value("gif-size", "GIF: WIDTHxHEIGHT (default 960x540)", "size"),
        value("fps", "frames per second of the clips (default 10)", "n"),
        value("theme", "light (slides, default), dark or projector", "theme"),
        value("font-scale", "text size in the clips (default 1.5)", "x"),
        QCommandLineOption(QStringLiteral("force"), QStringLiteral("replace --out if it exists")),
    };
}

}  // namespace

QString lessonPackUsage() {
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("kvscope export --lesson: the guided lessons as slides material — per chapter a "
                       "captioned MP4 and GIF, "
                       "a still (PNG, SVG) and a one-page PDF handout, plus index.html — without a window"));
    p.addOptions(options());
    return p.helpText();
}

int runLessonPackCommand(int argc, char** argv) {
    QStringList arguments{QStringLiteral("kvscope export")};
    for (int i = 2; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    if (arguments.contains(QStringLiteral("--help")) || arguments.contains(QStringLiteral("-h"))) {
        std::printf("%s", qPrintable(lessonPackUsage()));
        return 0;
    }
    QCommandLineParser p;
    p.addOptions(options());
    if (!p.parse(arguments)) {
        say(p.errorText() + QStringLiteral(" (see kvscope export --lesson all --help)"));
        return 2;
    }
    if (!p.positionalArguments().isEmpty()) {
        say(QStringLiteral("unexpected argument '%1'").arg(p.positionalArguments().first()));
        return 2;
    }
    if (!p.isSet(QStringLiteral("out"))) {
        say(QStringLiteral("--out is required: the folder to write"));
        return 2;
    }
    LessonPackOptions o;
    o.out = p.value(QStringLiteral("out"));
    o.force = p.isSet(QStringLiteral("force"));
    o.model = p.value(QStringLiteral("model"));
    auto size = [&](const char* name, QSize* target) {
        if (!p.isSet(QLatin1String(name))) return true;
        Result<QSize> s = parseExportSize(p.value(QLatin1String(name)));
        if (!s) {
            say(QStringLiteral("--%1: %2").arg(QLatin1String(name), QString::fromStdString(s.message())));
            return false;
        }
        *target = *s;
        return true;
    };
    if (!size("size", &o.videoSize) || !size("gif-size", &o.gifSize)) return 2;
    if (o.videoSize.width() % 2 || o.videoSize.height() % 2) {
        say(QStringLiteral("--size: an MP4 needs even sides"));
        return 2;
    }
    if (p.isSet(QStringLiteral("fps"))) {
        bool ok = false;
        o.fps = p.value(QStringLiteral("fps")).toInt(&ok);
        if (!ok || o.fps < 1 || o.fps > 50) {
            say(QStringLiteral("--fps %1: use 1 to 50").arg(p.value(QStringLiteral("fps"))));
            return 2;
        }
    }
    if (p.isSet(QStringLiteral("theme"))) {
        ThemeKind kind;
        o.theme = p.value(QStringLiteral("theme"));
        if (!parseThemeKind(o.theme, &kind)) {
            say(QStringLiteral("--theme %1: use light, dark or projector").arg(o.theme));
            return 2;
        }
    }
    if (p.isSet(QStringLiteral("font-scale"))) {
        bool ok = false;
        o.fontScale = p.value(QStringLiteral("font-scale")).toDouble(&ok);
        if (!ok || !(o.fontScale >= 0.25 && o.fontScale <= 8)) {
            say(QStringLiteral("--font-scale %1: use 0.25 to 8").arg(p.value(QStringLiteral("font-scale"))));
            return 2;
        }
    }

    // OpenGL needs a display: the one there is, or a private Xvfb.
    std::unique_ptr<VirtualDisplay> display;
    if (!VirtualDisplay::displayConfigured()) {
        Result<std::unique_ptr<VirtualDisplay>> started = VirtualDisplay::start();
        if (!started) {
            say(QString::fromStdString(started.message()));
            return 1;
        }
        display = std::move(*started);
        say(QStringLiteral("no display: drawing on a private Xvfb (%1)").arg(display->name()));
    }
    if (qEnvironmentVariableIsEmpty("OMP_WAIT_POLICY")) qputenv("OMP_WAIT_POLICY", "PASSIVE");
    QSurfaceFormat format;
    format.setVersion(3, 3);
    format.setProfile(QSurfaceFormat::CoreProfile);
    QSurfaceFormat::setDefaultFormat(format);
    int qtArgc = 1;
    QApplication app(qtArgc, argv);  // widgets: the Conversations view runs its experiments for a chapter
    std::signal(SIGINT, onLessonInterrupt);
    std::signal(SIGTERM, onLessonInterrupt);

    Result<LessonBook> book = loadLessonBook();
    if (!book) {
        say(QString::fromStdString(book.message()));
        return 1;
    }
    Result<QList<int>> chapters = parseLessonChapters(p.value(QStringLiteral("lesson")), *book);
    if (!chapters) {
        say(QString::fromStdString(chapters.message()));
        return 2;
    }
    o.chapters = *chapters;
    {
        OffscreenRenderer probe;
        if (Status gl = probe.create(QSize(16, 16)); !gl) {
            say(QString::fromStdString(gl.message()));
            return 1;
        }
    }
    QElapsedTimer clock;
    clock.start();
    Result<LessonPackResult> written =
        writeLessonPack(*book, o, [&](const QString& stage, int done, int total) {
            std::fprintf(stderr, "[%5.1f s] %d/%d %s\n", double(clock.elapsed()) / 1000.0, done, total,
                         qPrintable(stage));
            return !g_interrupted.load();
        });
    if (!written) {
        say(QString::fromStdString(written.message()));
        return g_interrupted.load() ? 130 : 1;
    }
    say(QStringLiteral("wrote %1 (%2 files, %3) in %4 s")
            .arg(written->folder)
            .arg(written->files.size())
            .arg(formatBytes(double(written->bytes)))
            .arg(double(clock.elapsed()) / 1000.0, 0, 'f', 1));
    return 0;
}

}  // namespace kvscope::app
