// virtual_display.h — a private X display for `kvscope export` on a machine without one.
//
// Debian's Qt 6.4 makes OpenGL contexts only through a display (offscreen_renderer.h says why), so an
// export on a server or in CI needs an X server. When there is no display at all (DISPLAY, WAYLAND_DISPLAY
// and QT_QPA_PLATFORM unset) and Xvfb is installed, `kvscope export` starts its own: `Xvfb -displayfd`
// picks a free display number and writes it on a pipe once it accepts connections; DISPLAY and
// QT_QPA_PLATFORM=xcb are set for Qt (Mesa's llvmpipe then renders a true core profile), and the server
// is stopped when the export ends. Must run before the QGuiApplication exists.
//
// Hand-written with fork/exec rather than QProcess: it runs before Qt is started (Qt reads DISPLAY when
// the application object is made), and it is the few lines tools/run-with-xvfb.sh does in shell.
#pragma once

#include <QString>
#include <memory>

#include "kvscope/status.h"

namespace kvscope::app {

class VirtualDisplay {
  public:
    ~VirtualDisplay();  // stops the server
    VirtualDisplay(const VirtualDisplay&) = delete;
    VirtualDisplay& operator=(const VirtualDisplay&) = delete;

    // Whether the process has a display Qt can use, or was told which platform to use.
    static bool displayConfigured();
    // Starts Xvfb (found on PATH) and points DISPLAY and QT_QPA_PLATFORM at it. Errors say how to get a
    // display instead ("no OpenGL available: …").
    static Result<std::unique_ptr<VirtualDisplay>> start();
    const QString& name() const { return m_name; }  // ":99"

  private:
    VirtualDisplay() = default;
    int m_pid = -1;
    QString m_name;
};

}  // namespace kvscope::app
