// kvscope — the KVScope window. See README.md; `kvscope --help` for the command line.
#include <time.h>
#include <unistd.h>

#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QFontDatabase>
#include <QScreen>
#include <QSurfaceFormat>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "command_line.h"
#include "export/export_command.h"
#include "lessons/lesson_panel.h"
#include "main_window.h"
#include "ui_benchmark.h"
#include "views/gl_view.h"

using namespace kvscope::app;

namespace {
// --lesson N[:P]: the lessons dock at chapter N, walked to page P; scripts wait for the line printed then.
void openLesson(kvscope::app::MainWindow& window, int chapter, int page) {
    using namespace kvscope::app;
    LessonPanel* panel = window.lessons();
    if (chapter > panel->book().chapters.size()) {
        std::fprintf(stderr, "kvscope: --lesson %d: there are %d chapters\n", chapter,
                     int(panel->book().chapters.size()));
        return;
    }
    window.lessonsDock()->show();
    panel->startChapter(chapter - 1);
    QObject::connect(panel, &LessonPanel::walked, &window, [chapter, panel] {
        std::fprintf(stderr, "kvscope: lesson %d page %d ready\n", chapter, panel->page() + 1);
    });
    panel->walkTo(std::max(0, page - 1));
}

// Seconds since the kernel started this process (its start time in /proc/self/stat, clock ticks since
// boot, against CLOCK_BOOTTIME): the start-up figure measured from exec, with nothing polling beside it.
// Negative when /proc cannot be read.
double secondsSinceProcessStart() {
    QFile f(QStringLiteral("/proc/self/stat"));
    if (!f.open(QIODevice::ReadOnly)) return -1;
    const QByteArray stat = f.readAll();
    // Field 22, counted after the command name's closing parenthesis (the name may hold spaces).
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    bool ok = false;
    const double startTicks = fields.size() > 19 ? fields[19].toDouble(&ok) : 0;
    timespec now{};
    if (!ok || clock_gettime(CLOCK_BOOTTIME, &now) != 0) return -1;
    return double(now.tv_sec) + double(now.tv_nsec) * 1e-9 - startTicks / double(sysconf(_SC_CLK_TCK));
}
}  // namespace

int main(int argc, char** argv) {
    // `kvscope export …`: no window (export/export_command.h).
    if (argc > 1 && std::strcmp(argv[1], "export") == 0) return runExportCommand(argc, argv);
    // The engine's OpenMP threads should sleep, not spin, between parallel regions: spinning threads
    // take the cores the GUI thread (and a software OpenGL renderer) needs. Set before OpenMP starts.
    if (qEnvironmentVariableIsEmpty("OMP_WAIT_POLICY")) qputenv("OMP_WAIT_POLICY", "PASSIVE");
    // Every view is OpenGL 3.3 core (the shaders in shaders/ are GLSL 330).
    QSurfaceFormat format;
    format.setVersion(3, 3);
    format.setProfile(QSurfaceFormat::CoreProfile);
    QSurfaceFormat::setDefaultFormat(format);
    // The views' contexts share one group, so the text atlas is one texture for all of them
    // (gl/imgui_layer.cpp), not a dozen copies uploaded at start-up.
    QCoreApplication::setAttribute(Qt::AA_ShareOpenGLContexts);
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("KVScope"));
    QApplication::setApplicationName(QStringLiteral("kvscope"));
    QApplication::setApplicationDisplayName(QStringLiteral("KVScope"));
    QApplication::setApplicationVersion(QStringLiteral(KVSCOPE_VERSION));
    QGuiApplication::setDesktopFileName(QStringLiteral("kvscope"));
    // The app's own copy of DejaVu Sans (assets/fonts): the same type in Qt's widgets as in the GL views,
    // whatever fonts the machine has.
    for (const char* font :
         {":/fonts/DejaVuSans.ttf", ":/fonts/DejaVuSans-Bold.ttf", ":/fonts/DejaVuSansMono.ttf"})
        QFontDatabase::addApplicationFont(QString::fromLatin1(font));

    AppOptions options;
    QString error;
    if (!parseCommandLine(app, &options, &error)) {
        std::fprintf(stderr, "kvscope: %s (see kvscope --help)\n", qPrintable(error));
        return 2;
    }
    GlView::Surface surface;
    if (GlView::parseSurface(options.glSurface, &surface)) GlView::setDefaultSurface(surface);
    const bool benchmark = !options.benchmarkFile.isEmpty();
    MainWindow::Options windowOptions;
    windowOptions.useSettings = !benchmark;  // a benchmark starts from the defaults, whatever the user set
    MainWindow window(windowOptions);
    if (options.theme) window.setTheme(*options.theme);
    if (options.fontScale) window.setFontScale(*options.fontScale);
    if (options.mode) window.setMode(*options.mode);
    if (options.rightRun || options.freeRunning)
        window.setRightRun(options.rightRun.value_or(QString()), options.freeRunning);
    if (!options.prompt.isEmpty()) window.setPrompt(options.prompt);

    std::unique_ptr<UiBenchmark> bench;
    if (benchmark) {
        if (options.prompt.isEmpty()) {
            std::fprintf(stderr, "kvscope: --benchmark-ui needs --prompt (the run starts from it)\n");
            return 2;
        }
        bench = std::make_unique<UiBenchmark>(window, options.benchmarkFile);
        QObject::connect(bench.get(), &UiBenchmark::finished, &app,
                         [](int code) { QCoreApplication::exit(code); });
    }
    // Scripts (tools/screenshot.sh) wait for this line before they look at the window. `--steps N` means
    // what it means in `kvscope export`: N generated tokens, i.e. the prefill and N decode steps.
    QObject::connect(&window, &MainWindow::stepsFinished, &window, [&](int done, int asked) {
        if (done < asked)
            std::fprintf(stderr, "kvscope: --steps %d: only %d decode steps fit in the context\n",
                         options.steps, std::max(0, done - 1));
        std::fprintf(stderr, "kvscope: %d steps done (%.3f s after the program started)\n",
                     std::max(0, done - 1), secondsSinceProcessStart());
    });
    QObject::connect(&window, &MainWindow::contextFilled, &window, [](const QString& message) {
        std::fprintf(stderr, "kvscope: %s\n", qPrintable(message));
    });
    // Once the model is in: press Step as often as asked, or start the benchmark.
    QObject::connect(&window, &MainWindow::modelReady, &window, [&, first = true](const ModelInfo&) mutable {
        if (!first) return;
        first = false;
        if (bench)
            bench->start();
        else if (options.lesson > 0)
            openLesson(window, options.lesson, options.lessonPage);
        else if (options.steps > 0)
            window.stepRepeatedly(options.steps + 1);  // the prefill, then N decode steps
    });
    if (benchmark) {
        window.resize(window.screen()->availableGeometry().size());
        window.show();
        // A failed load has nothing to measure.
        QObject::connect(&window, &MainWindow::errorShown, &app, [](const QString& message) {
            std::fprintf(stderr, "kvscope --benchmark-ui: %s\n", qPrintable(message));
            QCoreApplication::exit(1);
        });
    } else if (options.presenter) {
        window.show();
        window.setPresenterMode(true);
    } else {
        window.show();
    }
    if (!options.model.isEmpty())
        window.openModel(options.model);
    else
        window.openDefaultModel();
    return app.exec();
}
