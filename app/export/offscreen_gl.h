// offscreen_gl.h — an OpenGL 3.3 core context drawing into a framebuffer of any size, with no window.
//
// Export draws its frames here: a QOpenGLContext on a QOffscreenSurface, a multisampled framebuffer at
// the export's resolution (independent of any window or screen) that renderers draw into, resolved
// (glBlitFramebuffer) into a plain one and read back as a QImage, top row first (OpenGL's rows run
// bottom-up; the readback flips them), forced opaque (a slide wants no see-through pixels).
//
// Needs a QGuiApplication and a Qt platform that can make OpenGL contexts. Without a display none of
// Debian's Qt 6.4 platforms can: "offscreen" makes its contexts through GLX and so needs an X server,
// "minimalegl"/"eglfs" need a window surface or a DRM device (Mesa's surfaceless EGL gives neither).
// Headless machines and CI therefore run under Xvfb (tools/run-with-xvfb.sh) with QT_QPA_PLATFORM=xcb,
// where Mesa's llvmpipe gives a true core profile; "offscreen" under Xvfb silently gives a compatibility
// profile while Qt reports core (description() shows which one you got). create() fails with
// "no OpenGL available: …" saying what to do.
#pragma once

#include <QImage>
#include <QSize>
#include <QString>
#include <memory>

#include "kvscope/status.h"

class QOffscreenSurface;
class QOpenGLContext;
class QOpenGLFramebufferObject;
class QThread;

namespace kvscope::app {

class OffscreenGlTarget {
  public:
    static constexpr int kDefaultSamples = 4;
    OffscreenGlTarget();
    ~OffscreenGlTarget();
    OffscreenGlTarget(const OffscreenGlTarget&) = delete;
    OffscreenGlTarget& operator=(const OffscreenGlTarget&) = delete;

    // Makes the context and framebuffers at `size` (1…8192 a side) with up to `samples` samples per
    // pixel (fewer if the driver allows fewer; 0 or 1: no multisampling). Leaves the context current.
    Status create(QSize size, int samples = kDefaultSamples);
    // Makes the context current and binds the framebuffer to draw into, viewport covering it all.
    Status begin();
    // Resolves the multisampled framebuffer and reads it back: size() pixels, RGBA8888 (RGBX: opaque),
    // top row first. The context must be current (after begin()).
    Result<QImage> grab();
    void end();  // releases the context
    // Hands the context to another thread, which then calls begin()/grab()/end(): create() must run on
    // the GUI thread (QOffscreenSurface needs it), an export should not (the dialog stays responsive).
    // Call it from the thread that owns the context now, with the context not current elsewhere; hand it
    // back the same way before the target is destroyed (test_export_offscreen_gl shows the round trip).
    void moveToThread(QThread* thread);

    QSize size() const { return m_size; }
    int samples() const { return m_samples; }
    QOpenGLContext* context() const { return m_context.get(); }
    // Renderer, version, profile and samples: "llvmpipe (LLVM 15.0.6, 256 bits), OpenGL 4.5 (Core Profile)
    // Mesa 22.3.6, core profile, 4× MSAA".
    const QString& description() const { return m_description; }
    bool isCoreProfile() const { return m_core; }

  private:
    std::unique_ptr<QOpenGLContext> m_context;
    std::unique_ptr<QOffscreenSurface> m_surface;
    std::unique_ptr<QOpenGLFramebufferObject> m_draw;      // multisampled (or plain when samples ≤ 1)
    std::unique_ptr<QOpenGLFramebufferObject> m_resolved;  // plain, read back from
    QSize m_size;
    int m_samples = 0;
    bool m_core = false;
    QString m_description;
};

}  // namespace kvscope::app
