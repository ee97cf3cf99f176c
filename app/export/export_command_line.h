// export_command_line.h — the options of `kvscope export`, the export without a window:
//
//   kvscope export [--model FILE] --prompt TEXT --steps N --out FILE
//                  [--format mp4|gif|png-frames|png|svg|csv|json]   (default: from --out's suffix)
//                  [--view side-by-side|pane|kv-cache|attention|counters|plots|tokens] [--run
//                  cached|uncached]
//                  [--layer L] [--head H|all] [--size 1080p|720p|square|WxH] [--fps F] [--frames-per-step K]
//                  [--first-step S] [--last-step S] [--still-step S] [--theme light|dark|projector]
//                  [--font-scale X] [--title TEXT] [--caption TEXT] [--animation on|off] [--seed N]
//                  [--temperature T] [--force]
//
// Defaults are for slides: side-by-side at 1920×1080 in the light theme, 30 fps for MP4 and 15 for GIF
// (smaller files), half a second a step, steps 0 (the prefill) to N, greedy sampling (so an export is
// the same every time for a model, prompt and settings). An existing --out is refused unless --force.
// This parses and checks; the app runs it (loads the model, runs both sessions, draws, exports) and
// prints progress and errors on stderr, exiting non-zero on any failure.
#pragma once

#include <QSize>
#include <QString>
#include <QStringList>

#include "export/export_format.h"
#include "export/export_settings.h"
#include "kvscope/status.h"

namespace kvscope::app {

struct ExportCommand {
    QString model;  // empty: the embedded default model, found where the app finds it
    QString prompt;
    int steps = 0;  // decode steps after the prefill
    quint64 seed = 0;
    float temperature = 0.0f;  // 0: greedy
    QString rightRun;          // --right-run: a cache variant in the right pane (empty: no cache)
    ExportSettings settings;
};

// Parses the arguments that follow "export" (arguments[0] is taken as the program name, as Qt does).
Result<ExportCommand> parseExportCommand(const QStringList& arguments);
QString exportCommandUsage();

}  // namespace kvscope::app
