// icons.h — the toolbar's icons, drawn with QPainter in the theme's text colour (crisp at any size and
// in any theme, with no icon theme installed).
#pragma once

#include <QColor>
#include <QIcon>

namespace kvscope::app {

enum class ToolIcon { open, prefill, step, play, pause, reset };
QIcon toolIcon(ToolIcon kind, const QColor& colour);

}  // namespace kvscope::app
