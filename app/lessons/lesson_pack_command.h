// lesson_pack_command.h — `kvscope export --lesson all|N[,M…] --out DIR`: the lesson pack (lesson_pack.h)
// without a window. Options: --model FILE, --size WxH (MP4 and stills, default 1280x720), --gif-size WxH
// (default 960x540), --fps N (default 10), --theme light|dark|projector, --font-scale X, --force.
// It starts its own Xvfb when there is no display, as `kvscope export` does. Progress on stderr; exit 0
// written, 1 failed, 2 bad options, 130 interrupted.
#pragma once

#include <QString>

namespace kvscope::app {

int runLessonPackCommand(int argc, char** argv);
QString lessonPackUsage();

}  // namespace kvscope::app
