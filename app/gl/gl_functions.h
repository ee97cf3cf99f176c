// gl_functions.h — the OpenGL entry points every view uses: 3.3 core, resolved by Qt for the context
// that is current when a view initialises.
#pragma once

#include <QOpenGLFunctions_3_3_Core>

namespace kvscope::app {
using GlFunctions = QOpenGLFunctions_3_3_Core;
}
