// command_line.h — kvscope's command line (QCommandLineParser):
//   kvscope [FILE | --model FILE] [--prompt TEXT] [--steps N] [--mode lockstep|race] [--theme
//   dark|light|projector]
//           [--font-scale X] [--presenter] [--gl-surface widget|window] [--benchmark-ui FILE.json]
#pragma once

#include <QString>
#include <optional>

#include "run_types.h"
#include "theme.h"

class QCoreApplication;

namespace kvscope::app {

struct AppOptions {
    QString model;  // empty: the embedded default model
    QString prompt;
    int steps = 0;  // decode steps after the prefill, run once the model is loaded (as export's --steps)
    std::optional<CompareMode> mode;
    std::optional<QString> rightRun;  // --right-run SPEC: a cache variant in the right pane ("" = no cache)
    bool freeRunning = false;
    std::optional<ThemeKind> theme;
    std::optional<float> fontScale;
    bool presenter = false;
    QString benchmarkFile;  // --benchmark-ui: measure frame times, write them here, quit
    QString glSurface;      // --gl-surface widget|window (empty: chosen from the OpenGL renderer)
    int lesson = 0;         // --lesson N[:P]: open chapter N (1-based) of the guided lessons…
    int lessonPage = 0;     // …and walk through its page P (1-based), doing each page's action on the way
};

// Parses the application's arguments. On a bad value returns false with `error` set (the caller prints
// it with the usage). --help and --version exit inside, as QCommandLineParser does.
bool parseCommandLine(const QCoreApplication& app, AppOptions* options, QString* error);

}  // namespace kvscope::app
