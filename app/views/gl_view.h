// gl_view.h — the on-screen host of one ViewRenderer: a QOpenGLWidget with its own ImGui context.
//
// The widget is thin: it makes the GL resources in initializeGL (freed on aboutToBeDestroyed), feeds
// Qt's mouse, wheel, key and text events to ImGui through the input bridge, repaints when the store
// says something this view shows has changed (or while an animation runs), and otherwise leaves all
// drawing to its renderer. DisplaySettings (theme, font scale) is shared by every view of the window.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QOpenGLWidget>
#include <functional>
#include <memory>

#include "gl/gl_resources.h"
#include "gl/imgui_layer.h"
#include "theme.h"
#include "trace_store.h"
#include "views/view_renderer.h"

namespace kvscope::app {

class DisplaySettings : public QObject {
    Q_OBJECT
  public:
    explicit DisplaySettings(QObject* parent = nullptr) : QObject(parent) {}
    ThemeKind themeKind() const { return m_kind; }
    const Theme& theme() const { return themeFor(m_kind); }
    float fontScale() const { return m_fontScale; }
    // The scale views draw at, before the device pixel ratio: the user's font scale × the theme's type scale.
    float viewScale() const { return m_fontScale * theme().typeScale; }
    void setThemeKind(ThemeKind kind);
    void setFontScale(float scale);  // clamped to [0.6, 3]

  signals:
    void changed();

  private:
    ThemeKind m_kind = ThemeKind::dark;
    float m_fontScale = 1.0f;
};

// Opens the full-framebuffer ImGui window views draw into, and closes it (between beginFrame/endFrame).
void beginViewWindow(QSize framebuffer);
void endViewWindow();

class GlView : public QOpenGLWidget {
    Q_OBJECT
  public:
    GlView(TraceStore& store, DisplaySettings& display, std::unique_ptr<ViewRenderer> renderer, Side side,
           QWidget* parent = nullptr);
    ~GlView() override;

    ViewRenderer* renderer() const { return m_renderer.get(); }
    Side side() const { return m_side; }
    // Runs `fn` with this view's context current (tests read textures back through it).
    void withContext(const std::function<void(GlResources&)>& fn);
    const QString& glError() const { return m_glError; }
    double lastPaintMilliseconds() const { return m_lastPaintMs; }

  signals:
    void painted(double milliseconds);

  protected:
    void initializeGL() override;
    void paintGL() override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void keyReleaseEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void focusOutEvent(QFocusEvent* event) override;

  private:
    void onStoreChanged(const StoreChange& change);
    void cleanup();
    float pixelScale() const;

    TraceStore& m_store;
    DisplaySettings& m_display;
    std::unique_ptr<ViewRenderer> m_renderer;
    Side m_side;
    GlResources m_resources;
    ImGuiLayer m_imgui;
    QElapsedTimer m_clock;
    double m_lastFrame = 0.0;
    double m_lastPaintMs = 0.0;
    bool m_animationQueued = false;
    QString m_glError;
};

}  // namespace kvscope::app
