// offscreen_renderer.h — drawing without a window: an OpenGL 3.3 core context on an offscreen surface and
// a framebuffer at a chosen resolution, independent of any window or screen. The one offscreen path of
// the app: export (the Export dialog and `kvscope export`) and the GUI tests draw through it, with the
// very same renderers the on-screen views use.
//
// A frame: the context is made current, the framebuffer bound and cleared to the theme's window colour,
// the renderer draws (ImGui + the heatmap shaders) over the whole framebuffer from the TraceStore at its
// selected step, and the pixels are read back as a QImage, top row first (OpenGL's rows run bottom-up;
// the readback flips them), opaque. Multisampling is optional and off by default: Dear ImGui already
// anti-aliases its own lines, text and rounded corners, the heatmaps are axis-aligned cells, and with a
// software renderer a 4× resolve costs about four times the frame (README, "Export for slides").
//
// Threads: Dear ImGui's current context is a process-wide global (Debian's libimgui is not built with a
// thread-local one), so every ImGui frame of the process must be drawn on one thread: this renderer is
// used on the GUI thread only, like the views. Export encodes on a worker thread instead (ForwardedFrames).
//
// Needs a QGuiApplication and a Qt platform that makes OpenGL contexts. Without a display none of
// Debian's Qt 6.4 platforms can: "offscreen" makes its contexts through GLX and so needs an X server (and
// there silently gives a compatibility profile while reporting core), "minimalegl"/"eglfs" need a window
// surface or a DRM device. `kvscope export` starts its own Xvfb when there is no display
// (virtual_display.h); tests run under tools/run-with-xvfb.sh. create() fails with "no OpenGL available:
// …" saying what to do.
#pragma once

#include <QImage>
#include <QSize>
#include <QString>
#include <functional>
#include <memory>

#include "gl/gl_resources.h"
#include "gl/imgui_layer.h"
#include "kvscope/status.h"
#include "theme.h"
#include "trace_store.h"

class QOpenGLContext;
class QOffscreenSurface;
class QOpenGLFramebufferObject;

namespace kvscope::app {

class ViewRenderer;

struct OffscreenOptions {
    ThemeKind theme = ThemeKind::dark;
    float scale = 1.0f;        // pixels per design unit (type and spacing)
    Side side = Side::cached;  // for single-run views
    double time = 0.0;         // the animation clock, seconds
    // Seconds since the selected step arrived, as an export's timeline says (its animations play over the
    // step's frames); < 0: every animation has finished.
    double stepAge = -1.0;
};

class OffscreenRenderer {
  public:
    OffscreenRenderer();
    ~OffscreenRenderer();
    OffscreenRenderer(const OffscreenRenderer&) = delete;
    OffscreenRenderer& operator=(const OffscreenRenderer&) = delete;

    // Makes the context (OpenGL 3.3 core) and the framebuffer at `size` (1…8192 a side) with up to
    // `samples` samples per pixel (fewer if the driver allows fewer; 0 or 1: none). Leaves the context
    // current. Errors: "no OpenGL available: …" when the platform has none.
    Status create(QSize size, int samples = 0);
    // A new framebuffer size (same samples), e.g. for a preview.
    Status resize(QSize size);
    bool ready() const { return m_draw != nullptr; }

    // Draws `renderer` over the whole framebuffer from the store's selected step and reads it back.
    Result<QImage> render(ViewRenderer& renderer, TraceStore& store, const OffscreenOptions& options);

    // For drawing with plain OpenGL (tests): makes the context current and binds the framebuffer, its
    // viewport covering it all; then grab() reads it back (context current); end() releases the context.
    Status begin();
    Result<QImage> grab();
    void end();

    // Runs `fn` with the context current (tests read a renderer's textures).
    void withContext(const std::function<void(GlResources&)>& fn);
    // Frees a renderer's GL objects (it must have drawn only through this renderer's context).
    void release(ViewRenderer& renderer);

    QSize size() const { return m_size; }
    int samples() const { return m_samples; }
    QOpenGLContext* context() const { return m_context.get(); }
    // Renderer, version, profile and samples: "llvmpipe (LLVM 15.0.6, 256 bits), OpenGL 4.5 (Core Profile)
    // Mesa 22.3.6, core profile, no MSAA".
    const QString& description() const { return m_description; }
    bool isCoreProfile() const { return m_core; }

  private:
    Status makeFramebuffers(QSize size, int samples);
    bool makeCurrent();

    std::unique_ptr<QOpenGLContext> m_context;
    std::unique_ptr<QOffscreenSurface> m_surface;
    std::unique_ptr<QOpenGLFramebufferObject> m_draw;      // multisampled, or plain when samples ≤ 1
    std::unique_ptr<QOpenGLFramebufferObject> m_resolved;  // plain, read back from (multisampled only)
    GlResources m_resources;
    ImGuiLayer m_imgui;
    QSize m_size;
    int m_samples = 0;
    bool m_core = false;
    QString m_description;
};

}  // namespace kvscope::app
