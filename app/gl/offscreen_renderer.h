// offscreen_renderer.h — drawing views without a window: an OpenGL context on an offscreen surface and
// a framebuffer at the requested resolution, independent of any window's size. Export (issue 5) and the
// GUI tests draw through it; the on-screen views use the very same renderers.
#pragma once

#include <QImage>
#include <QSize>
#include <QString>
#include <memory>

#include "gl/gl_resources.h"
#include "gl/imgui_layer.h"
#include "theme.h"
#include "trace_store.h"

class QOpenGLContext;
class QOffscreenSurface;
class QOpenGLFramebufferObject;

namespace kvscope::app {

class ViewRenderer;

struct OffscreenOptions {
    QSize size{1920, 1080};  // framebuffer pixels
    ThemeKind theme = ThemeKind::dark;
    float scale = 1.0f;        // pixels per design unit (type and spacing)
    Side side = Side::cached;  // for single-run views
    double time = 1e6;         // animation clock: far past any step's arrival, so animations are finished
};

class OffscreenRenderer {
  public:
    OffscreenRenderer();
    ~OffscreenRenderer();
    // Creates the context (OpenGL 3.3 core); false with error() when the platform has no OpenGL.
    bool initialize();
    const QString& error() const { return m_error; }

    // Draws `renderer` over the whole framebuffer from the store's selected step and returns the pixels.
    QImage render(ViewRenderer& renderer, TraceStore& store, const OffscreenOptions& options);
    // Runs `fn` with the context current (tests read a renderer's textures).
    void withContext(const std::function<void(GlResources&)>& fn);
    // Frees a renderer's GL objects (it must have drawn only through this renderer's context).
    void release(ViewRenderer& renderer);

  private:
    std::unique_ptr<QOpenGLContext> m_context;
    std::unique_ptr<QOffscreenSurface> m_surface;
    std::unique_ptr<QOpenGLFramebufferObject> m_fbo;
    GlResources m_resources;
    ImGuiLayer m_imgui;
    QString m_error;
};

}  // namespace kvscope::app
