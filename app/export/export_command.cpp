#include "export/export_command.h"

#include <unistd.h>

#include <QElapsedTimer>
#include <QFileInfo>
#include <QGuiApplication>
#include <QSurfaceFormat>
#include <QTimer>
#include <atomic>
#include <csignal>
#include <cstdio>

#include "export/export_command_line.h"
#include "export/export_job.h"
#include "export/pending_output.h"
#include "export/view_frames.h"
#include "export/virtual_display.h"
#include "first_token_sweep.h"
#include "format.h"
#include "gl/offscreen_renderer.h"
#include "headless_run.h"
#include "kvscope/tokenizer.h"
#include "lessons/lesson_pack_command.h"
#include "trace_store.h"

namespace kvscope::app {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int) {
    g_interrupted.store(true);
}

void say(const QString& text) {
    std::fprintf(stderr, "kvscope export: %s\n", qPrintable(text));
}

// Progress on stderr: rewritten in place on a terminal, otherwise a line per tenth of the work.
class ProgressPrinter {
  public:
    ProgressPrinter() : m_tty(::isatty(2) != 0) { m_clock.start(); }
    ~ProgressPrinter() { endLine(); }
    void show(const QString& stage, int done, int total, double secondsLeft) {
        ExportProgress p;
        p.stage = stage;
        p.done = done;
        p.total = total;
        p.remainingSeconds = secondsLeft;
        show(p);
    }
    void show(const ExportProgress& p) {
        const QString& stage = p.stage;
        const int done = p.done, total = p.total;
        const int tenth = total > 0 ? 10 * done / total : 0;
        const bool changed = stage != m_stage || tenth != m_tenth || done == total;
        if (m_tty && !changed && m_clock.elapsed() < 100) return;
        if (!m_tty && !changed) return;
        m_stage = stage;
        m_tenth = tenth;
        m_clock.restart();
        const QByteArray line = progressLine(p).toLocal8Bit();
        if (m_tty) {
            std::fprintf(stderr, "\r\033[K%s", line.constData());
            m_open = true;
        } else {
            std::fprintf(stderr, "%s\n", line.constData());
        }
        std::fflush(stderr);
    }
    void endLine() {
        if (m_open) std::fprintf(stderr, "\n");
        m_open = false;
    }

  private:
    bool m_tty;
    bool m_open = false;
    QString m_stage;
    int m_tenth = -1;
    QElapsedTimer m_clock;
};

}  // namespace

int runExportCommand(int argc, char** argv) {
    QStringList arguments{QStringLiteral("kvscope export")};
    for (int i = 2; i < argc; ++i) {
        // Qt would turn invalid bytes into U+FFFD and run a prompt nobody typed; refuse as kvscope-cli does.
        if (!is_valid_utf8(argv[i])) {
            say(QStringLiteral("argument %1 is not valid UTF-8 (a prompt or a path must be UTF-8 text)")
                    .arg(i - 1));
            return 2;
        }
        arguments << QString::fromUtf8(argv[i]);
    }
    // The guided lessons as a pack of clips, stills and handouts: a command of its own.
    for (const QString& a : arguments)
        if (a == QLatin1String("--lesson") || a.startsWith(QLatin1String("--lesson=")))
            return runLessonPackCommand(argc, argv);
    if (arguments.contains(QStringLiteral("--help")) || arguments.contains(QStringLiteral("-h"))) {
        std::printf(
            "%s\nThe guided lessons as slides material: kvscope export --lesson all --out DIR (--lesson all "
            "--help)\n",
            qPrintable(exportCommandUsage()));
        return 0;
    }
    Result<ExportCommand> parsed = parseExportCommand(arguments);
    if (!parsed) {
        say(QString::fromStdString(parsed.message()) + QStringLiteral(" (see kvscope export --help)"));
        return 2;
    }
    const ExportCommand& command = *parsed;
    ExportSettings settings = command.settings;
    if (settings.view == ExportView::conversations) {
        say(QStringLiteral(
            "the conversations view draws what View ▸ Conversations ran: export it from the app "
            "(File ▸ Export), or as the lesson on many conversations (kvscope export --lesson 10)"));
        return 2;
    }
    {
        // Whether the output can be written, before a model is loaded or a frame drawn.
        const auto kind =
            writesFolder(settings.format) ? PendingOutput::Kind::folder : PendingOutput::Kind::file;
        Result<std::unique_ptr<PendingOutput>> probe =
            PendingOutput::create(settings.out, kind, settings.force);
        if (!probe) {
            say(QString::fromStdString(probe.message()));
            return 1;
        }
    }

    // OpenGL needs a display: the one there is, or a private Xvfb (not needed for the counters).
    const bool drawing = settings.format != ExportFormat::csv && settings.format != ExportFormat::json;
    std::unique_ptr<VirtualDisplay> display;
    if (drawing && !VirtualDisplay::displayConfigured()) {
        Result<std::unique_ptr<VirtualDisplay>> started = VirtualDisplay::start();
        if (!started) {
            say(QString::fromStdString(started.message()));
            return 1;
        }
        display = std::move(*started);
        say(QStringLiteral("no display: drawing on a private Xvfb (%1)").arg(display->name()));
    } else if (!drawing && !VirtualDisplay::displayConfigured()) {
        qputenv("QT_QPA_PLATFORM", "offscreen");  // the counters draw nothing
    }
    if (qEnvironmentVariableIsEmpty("OMP_WAIT_POLICY")) qputenv("OMP_WAIT_POLICY", "PASSIVE");
    QSurfaceFormat format;
    format.setVersion(3, 3);
    format.setProfile(QSurfaceFormat::CoreProfile);
    QSurfaceFormat::setDefaultFormat(format);
    int qtArgc = 1;
    QGuiApplication app(qtArgc, argv);
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
    QElapsedTimer clock;
    clock.start();
    if (drawing) {
        // No OpenGL is a reason to stop before the model runs.
        OffscreenRenderer probe;
        if (Status gl = probe.create(QSize(16, 16)); !gl) {
            say(QString::fromStdString(gl.message()));
            return 1;
        }
    }

    TraceStore store;
    HeadlessRun run;
    run.model = command.model;
    run.prompt = command.prompt;
    run.steps = command.steps;
    run.rightRun = command.rightRun;
    run.sampler.temperature = command.temperature;
    run.sampler.seed = command.seed;
    run.checkModel = [&settings](const ModelConfig& config) {
        return validateLayerAndHead(settings, config);
    };
    const Status ran = [&] {
        ProgressPrinter printer;
        return runHeadless(run, store, [&](int done, int total) {
            printer.show(QStringLiteral("running the model (both runs, lockstep)"), done, total, -1);
        });
    }();
    if (!ran) {
        say(QString::fromStdString(ran.message()));
        return 1;
    }
    if (g_interrupted.load()) {
        say(QStringLiteral("interrupted"));
        return 130;
    }
    say(QStringLiteral("%1 steps of %2 run in %3 s (%4)")
            .arg(store.maxStepCount())
            .arg(store.model().displayName)
            .arg(double(clock.elapsed()) / 1000.0, 0, 'f', 1)
            .arg(store.model().backendName));

    // A picture of the first-token view draws what a prompt-length sweep measures on this model, as
    // View ▸ First token does (an SVG of it is refused below, and the counters draw no view).
    if (settings.view == ExportView::firstToken && drawing && settings.format != ExportFormat::svg) {
        Result<FirstTokenPlan> plan = planFirstTokenSweep(store.model());
        if (!plan) {
            say(QStringLiteral("the first-token view: ") + QString::fromStdString(plan.message()));
            return 1;
        }
        auto sweep = std::make_shared<FirstTokenSweep>(plan->sweep);
        std::atomic<bool> cancel{false};
        ProgressPrinter printer;
        int done = 0;
        printer.show(QStringLiteral("timing the first token"), 0, int(sweep->lengths.size()), -1);
        Result<std::vector<PromptSweepRow>> rows =
            runFirstTokenSweep(*plan, &cancel, [&](const PromptSweepRow&) {
                printer.show(QStringLiteral("timing the first token"), ++done, int(sweep->lengths.size()),
                             -1);
                if (g_interrupted.load()) cancel.store(true);
            });
        printer.endLine();
        if (g_interrupted.load()) {
            say(QStringLiteral("interrupted"));
            return 130;
        }
        if (!rows) {
            say(QStringLiteral("timing the first token: ") + QString::fromStdString(rows.message()));
            return 1;
        }
        sweep->rows = std::move(*rows);
        const PromptSweepRow& longest = sweep->rows.back();
        say(QStringLiteral(
                "first token of %1 prompt lengths timed on %2: %3 tokens, %4 to the first, %5 a token "
                "after it")
                .arg(sweep->rows.size())
                .arg(sweep->device)
                .arg(longest.prompt)
                .arg(formatSeconds(longest.ttft_seconds), formatSeconds(longest.decode_seconds)));
        settings.firstTokenSweep = std::move(sweep);
    }

    ExportJob job(ExportHistory::of(store), settings);
    ProgressPrinter printer;
    int exitCode = 1;
    QObject::connect(&job, &ExportJob::progress, &job, [&](const ExportProgress& p) {
        printer.show(p);  // in the clip's frames, as the dialog counts them
    });
    QObject::connect(&job, &ExportJob::finished, &job, [&](const ExportResult& result) {
        printer.endLine();
        if (result.outcome == ExportResult::Outcome::written) {
            QString what = formatBytes(double(result.bytes));
            if (isAnimation(job.settings().format))
                what += QStringLiteral(", %1 frames at %2×%3, %4 drawn")
                            .arg(job.frameCount())
                            .arg(job.settings().size.width())
                            .arg(job.settings().size.height())
                            .arg(job.framesDrawn());
            say(QStringLiteral("wrote %1 (%2) in %3 s")
                    .arg(result.path, what)
                    .arg(double(clock.elapsed()) / 1000.0, 0, 'f', 1));
            exitCode = 0;
        } else if (result.outcome == ExportResult::Outcome::cancelled) {
            say(QStringLiteral("interrupted; nothing was written"));
            exitCode = 130;
        } else {
            say(result.error);
        }
        QCoreApplication::exit(exitCode);
    });
    QTimer interruptPoll;
    QObject::connect(&interruptPoll, &QTimer::timeout, &job, [&] {
        if (g_interrupted.load()) job.cancel();
    });
    interruptPoll.start(100);
    if (Status started = job.start(); !started) {
        say(QString::fromStdString(started.message()));
        return 1;
    }
    app.exec();
    return exitCode;
}

}  // namespace kvscope::app
