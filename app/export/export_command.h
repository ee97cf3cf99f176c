// export_command.h — `kvscope export …`: an animation, a still or the counters of a run, without a
// window (options in export_command_line.h).
//
// It checks the options and the output path first, finds a display (or starts a private Xvfb when there
// is none: virtual_display.h), runs the model in both modes with the app's engine worker (headless_run.h)
// and exports with the same job the Export dialog runs (export_job.h). Progress goes to stderr (one line
// rewritten in place on a terminal, a line per tenth otherwise); Ctrl+C cancels and leaves nothing behind.
// Exit status: 0 written, 1 failed (the reason on stderr), 2 bad options, 130 interrupted.
#pragma once

namespace kvscope::app {

// argv[1] is "export". Makes its own QGuiApplication.
int runExportCommand(int argc, char** argv);

}  // namespace kvscope::app
