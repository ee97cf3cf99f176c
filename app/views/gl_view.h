// gl_view.h — the on-screen host of one ViewRenderer, with its own OpenGL context and ImGui context.
//
// The host is thin: it makes the GL resources when its context starts (and frees them with it), feeds
// Qt's mouse, wheel, key and text events to ImGui through the input bridge, repaints when the store says
// something the view shows has changed (or while an animation runs), and leaves all drawing to the
// renderer. DisplaySettings (theme, font scale) is shared by every view of the window.
//
// Two surfaces, one behaviour (the shared part is ViewHost, in gl_view.cpp):
//   widget  a QOpenGLWidget. Qt composes it with the rest of the window: cheap on a GPU, but with a
//           software OpenGL (Mesa's llvmpipe: virtual machines, CI, no GPU) Qt recomposes the whole window
//           for every frame of any view — about 100 ms a frame at 1920×1080 on two cores.
//   window  a QOpenGLWindow in a window container: each view presents only its own pixels, so a software
//           renderer keeps up (see the README's responsiveness figures).
// defaultSurface() picks the window surface when the OpenGL renderer is software, the widget otherwise;
// `kvscope --gl-surface widget|window` (or KVSCOPE_GL_SURFACE) overrides it.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QWidget>
#include <functional>
#include <memory>

#include "gl/gl_resources.h"
#include "gl/imgui_layer.h"
#include "theme.h"
#include "trace_store.h"
#include "views/view_renderer.h"

class QOpenGLContext;
class QOpenGLWidget;
class QOpenGLWindow;

namespace kvscope::app {

class DisplaySettings : public QObject {
    Q_OBJECT
  public:
    explicit DisplaySettings(QObject* parent = nullptr) : QObject(parent) {}
    ThemeKind themeKind() const { return m_kind; }
    const Theme& theme() const { return themeFor(m_kind); }
    float fontScale() const { return m_fontScale; }
    // The scale views draw at, before the device pixel ratio: the user's font scale × the theme's type scale
    // (not in a compact layout: the projector theme's larger type needs presenter mode's room, or a taller
    // window, and there keeps only its contrast).
    float viewScale() const { return m_fontScale * (m_compact ? 1.0f : theme().typeScale); }
    void setThemeKind(ThemeKind kind);
    void setFontScale(float scale);  // clamped to [0.6, 3]
    // The window's normal layout below 900 pixels of height (a 1280×720 projector).
    void setCompact(bool compact);
    bool compact() const { return m_compact; }

  signals:
    void changed();

  private:
    ThemeKind m_kind = ThemeKind::dark;
    float m_fontScale = 1.0f;
    bool m_compact = false;
};

// Opens the full-framebuffer ImGui window views draw into, and closes it (between beginFrame/endFrame).
void beginViewWindow(QSize framebuffer);
void endViewWindow();

class ViewHost;

class GlView : public QWidget {
    Q_OBJECT
  public:
    enum class Surface { widget, window };
    static Surface defaultSurface();
    static void setDefaultSurface(Surface surface);
    static bool parseSurface(const QString& name, Surface* surface);
    // The OpenGL renderer string of this machine (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"), read once.
    static QString rendererName();

    GlView(TraceStore& store, DisplaySettings& display, std::unique_ptr<ViewRenderer> renderer, Side side,
           QWidget* parent = nullptr);
    ~GlView() override;

    ViewRenderer* renderer() const;
    Side side() const;
    Surface surface() const { return m_surface; }
    // Draws now, synchronously (tests: the textures then hold everything in the store).
    void renderNow();
    // Runs `fn` with this view's context current (tests read textures back through it).
    void withContext(const std::function<void(GlResources&)>& fn);
    const QString& glError() const;
    double lastPaintMilliseconds() const;
    // What the last frame cut or drew too small (the layout checks read it).
    const LayoutReport& layoutReport() const;
    // Tests: the pointer moves to `position` (logical pixels) over the view, or leaves it; draws now.
    void hoverAt(QPointF position);
    void leaveHover();
    void requestRepaint();
    // A frame around the view (a lesson points at it); an invalid colour removes it. Drawn in a margin
    // around the surface, because a native surface would cover anything drawn over it.
    void setOutline(const QColor& colour);
    QColor outline() const { return m_outline; }

  signals:
    void painted(double milliseconds);
    void frameSwapped();

  protected:
    void paintEvent(QPaintEvent* event) override;

  private:
    void ensureSurface();
    std::unique_ptr<ViewHost> m_host;
    QColor m_outline;
    Surface m_surface;
    QWidget* m_widget = nullptr;  // the QOpenGLWidget, or the window container
    QOpenGLWidget* m_glWidget = nullptr;
    QOpenGLWindow* m_glWindow = nullptr;
};

}  // namespace kvscope::app
