#include "views/gl_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QOpenGLWidget>
#include <QOpenGLWindow>
#include <QPainter>
#include <QTimer>
#include <QVBoxLayout>
#include <QWheelEvent>

#include "views/floating_tip.h"

namespace kvscope::app {

void DisplaySettings::setThemeKind(ThemeKind kind) {
    if (kind == m_kind) return;
    m_kind = kind;
    emit changed();
}

void DisplaySettings::setCompact(bool compact) {
    if (compact == m_compact) return;
    m_compact = compact;
    emit changed();
}

void DisplaySettings::setFontScale(float scale) {
    scale = std::clamp(scale, 0.6f, 3.0f);
    if (std::fabs(scale - m_fontScale) < 1e-3f) return;
    m_fontScale = scale;
    emit changed();
}

void beginViewWindow(QSize framebuffer) {
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(float(framebuffer.width()), float(framebuffer.height())));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 0.0f);
    ImGui::Begin("##view", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoBackground | ImGuiWindowFlags_NoMove |
                     ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                     ImGuiWindowFlags_NoScrollWithMouse | ImGuiWindowFlags_NoFocusOnAppearing);
    ImGui::PopStyleVar(2);
}

void endViewWindow() {
    ImGui::End();
}

// ---- ViewHost: everything a view surface does, whichever kind of surface it is --------------------------

class ViewHost {
  public:
    ViewHost(TraceStore& store, DisplaySettings& display, std::unique_ptr<ViewRenderer> renderer, Side side,
             GlView* view)
        : m_store(store), m_display(display), m_renderer(std::move(renderer)), m_side(side), m_view(view) {
        m_clock.start();
    }

    ViewRenderer* renderer() const { return m_renderer.get(); }
    Side side() const { return m_side; }
    const QString& glError() const { return m_glError; }
    double lastPaintMs() const { return m_lastPaintMs; }
    ImGuiQtInput& input() { return m_imgui.input(); }
    bool ready() const { return m_resources.ready(); }
    void withResources(const std::function<void(GlResources&)>& fn) { fn(m_resources); }
    float pixelScale(qreal dpr) const { return float(dpr) * m_display.viewScale(); }

    void initialize(QOpenGLContext* context, qreal dpr) {
        if (!m_resources.initialize(context)) {
            m_glError = m_resources.error();
            qWarning("KVScope: %s", qPrintable(m_glError));
            return;
        }
        if (!m_imgui.initialize(pixelScale(dpr), m_display.theme())) {
            m_glError = QStringLiteral("Dear ImGui's OpenGL 3 backend failed to start");
            qWarning("KVScope: %s", qPrintable(m_glError));
            m_resources.release();
            return;
        }
        m_renderer->initializeGL(m_resources);
    }

    // With the context current.
    void release() {
        if (!m_resources.ready() && !m_imgui.ready()) return;
        m_renderer->releaseGL(m_resources);
        m_imgui.release();
        m_resources.release();
    }

    // With the context current and the target framebuffer bound.
    void paint(QOpenGLContext* context, QSize logicalSize, qreal dpr) {
        QElapsedTimer paintTimer;
        paintTimer.start();
        const Theme& theme = m_display.theme();
        const QSize fb(int(std::lround(logicalSize.width() * dpr)),
                       int(std::lround(logicalSize.height() * dpr)));
        if (!m_resources.ready()) {
            // No usable OpenGL: clear to the theme so the window still looks whole; the error is logged.
            auto* f = context->functions();
            f->glClearColor(float(theme.window.redF()), float(theme.window.greenF()),
                            float(theme.window.blueF()), 1);
            f->glClear(GL_COLOR_BUFFER_BIT);
            return;
        }
        GlFunctions& gl = m_resources.gl();
        gl.glViewport(0, 0, fb.width(), fb.height());
        gl.glClearColor(float(theme.panel.redF()), float(theme.panel.greenF()), float(theme.panel.blueF()),
                        1.0f);
        gl.glClear(GL_COLOR_BUFFER_BIT);
        m_imgui.setStyle(pixelScale(dpr), theme);
        const double now = m_clock.elapsed() / 1000.0;
        m_imgui.beginFrame(fb, now - m_lastFrame);
        m_lastFrame = now;
        beginViewWindow(fb);
        FrameContext frame(m_store, theme, m_resources, m_imgui);
        frame.side = m_side;
        frame.rect = QRectF(0, 0, fb.width(), fb.height());
        frame.framebuffer = fb;
        frame.scale = pixelScale(dpr);
        frame.time = now;
        frame.interactive = true;
        TooltipRequest tip;
        frame.tooltip = m_hovering ? &tip : nullptr;
        m_report.clear();
        LayoutReport* outer = setLayoutReport(&m_report);
        m_renderer->render(frame);
        setLayoutReport(outer);
        endViewWindow();
        m_imgui.endFrame();
        if (!tip.lines.isEmpty())
            FloatingTip::instance()->showFor(m_view, tip.lines, tip.accent, theme, m_display.viewScale(),
                                             m_view->mapToGlobal(m_pointer.toPoint()));
        else
            FloatingTip::instance()->hideFor(m_view);
        m_lastPaintMs = paintTimer.nsecsElapsed() / 1e6;
        emit m_view->painted(m_lastPaintMs);
        if (m_extraFrames > 0) {
            --m_extraFrames;
            QTimer::singleShot(0, m_view, &GlView::requestRepaint);
        }
        if (m_renderer->animating() && !m_animationQueued) {
            m_animationQueued = true;
            QTimer::singleShot(16, m_view, [this] {
                m_animationQueued = false;
                m_view->requestRepaint();
            });
        }
    }

    void inputChanged() {
        // ImGui sizes a new tooltip in its first frame and shows it in the second: paint twice.
        m_extraFrames = 1;
        m_view->requestRepaint();
    }

    // Qt's input events, in the surface's logical coordinates.
    void mouseMove(QMouseEvent* e, qreal dpr) { hover(e->position(), dpr); }
    void hover(QPointF position, qreal dpr) {
        m_pointer = position;
        m_hovering = true;
        input().mouseMove(position, dpr);
        inputChanged();
    }
    const LayoutReport& layoutReport() const { return m_report; }
    void mouseButton(QMouseEvent* e, qreal dpr, bool down) {
        input().mouseMove(e->position(), dpr);
        input().mouseButton(e->button(), down);
        inputChanged();
    }
    void wheel(QWheelEvent* e) {
        input().wheel(e->angleDelta());
        inputChanged();
    }
    void key(QKeyEvent* e, bool down) {
        input().key(e->key(), e->modifiers(), down);
        if (down && !e->text().isEmpty()) input().text(e->text());
        // The window's shortcuts (Space, P, arrows) still apply: the views use keys only for ImGui widgets.
        e->ignore();
        if (down) inputChanged();
    }
    void leave() {
        m_hovering = false;
        FloatingTip::instance()->hideFor(m_view);
        input().leave();
        inputChanged();
    }

  private:
    TraceStore& m_store;
    DisplaySettings& m_display;
    std::unique_ptr<ViewRenderer> m_renderer;
    Side m_side;
    GlView* m_view;
    GlResources m_resources;
    ImGuiLayer m_imgui;
    QElapsedTimer m_clock;
    double m_lastFrame = 0.0;
    double m_lastPaintMs = 0.0;
    bool m_animationQueued = false;
    int m_extraFrames = 0;
    QString m_glError;
    QPointF m_pointer;  // the pointer in the view's logical coordinates, while it is over the view
    bool m_hovering = false;
    LayoutReport m_report;  // of the last frame
};

namespace {

// The widget surface: a QOpenGLWidget, composed by Qt with the rest of the window.
class GlViewWidget final : public QOpenGLWidget {
  public:
    GlViewWidget(ViewHost& host, QWidget* parent) : QOpenGLWidget(parent), m_host(host) {
        setMouseTracking(true);
        setFocusPolicy(Qt::ClickFocus);
    }
    ~GlViewWidget() override { cleanup(); }

  protected:
    void initializeGL() override {
        connect(
            context(), &QOpenGLContext::aboutToBeDestroyed, this, [this] { cleanup(); },
            Qt::DirectConnection);
        m_host.initialize(context(), devicePixelRatioF());
    }
    void paintGL() override { m_host.paint(context(), size(), devicePixelRatioF()); }
    void mouseMoveEvent(QMouseEvent* e) override { m_host.mouseMove(e, devicePixelRatioF()); }
    void mousePressEvent(QMouseEvent* e) override { m_host.mouseButton(e, devicePixelRatioF(), true); }
    void mouseReleaseEvent(QMouseEvent* e) override { m_host.mouseButton(e, devicePixelRatioF(), false); }
    void mouseDoubleClickEvent(QMouseEvent* e) override { m_host.mouseButton(e, devicePixelRatioF(), true); }
    void wheelEvent(QWheelEvent* e) override { m_host.wheel(e); }
    void keyPressEvent(QKeyEvent* e) override { m_host.key(e, true); }
    void keyReleaseEvent(QKeyEvent* e) override { m_host.key(e, false); }
    void leaveEvent(QEvent* e) override {
        m_host.leave();
        QOpenGLWidget::leaveEvent(e);
    }
    void focusOutEvent(QFocusEvent* e) override {
        m_host.input().focusOut();
        QOpenGLWidget::focusOutEvent(e);
    }

  private:
    void cleanup() {
        if (!context()) return;
        makeCurrent();
        m_host.release();
        doneCurrent();
    }
    ViewHost& m_host;
};

// The window surface: a QOpenGLWindow (shown through a window container) that presents its own pixels.
class GlViewWindow final : public QOpenGLWindow {
  public:
    // In the application's share group when there is one (main.cpp), as a QOpenGLWidget is.
    explicit GlViewWindow(ViewHost& host)
        : QOpenGLWindow(QOpenGLContext::globalShareContext()), m_host(host) {
        // The views take no keyboard focus, so the main window's shortcuts (Space, P, ←/→) always work.
        setFlag(Qt::WindowDoesNotAcceptFocus);
    }
    ~GlViewWindow() override {
        if (context()) {
            makeCurrent();
            m_host.release();
            doneCurrent();
        }
    }
    // Draws a frame now into the window's framebuffer without presenting it (tests).
    void renderNow() {
        if (!isValid()) return;
        makeCurrent();
        m_host.paint(context(), size(), devicePixelRatio());
        doneCurrent();
    }

  protected:
    void initializeGL() override { m_host.initialize(context(), devicePixelRatio()); }
    void paintGL() override { m_host.paint(context(), size(), devicePixelRatio()); }
    void mouseMoveEvent(QMouseEvent* e) override { m_host.mouseMove(e, devicePixelRatio()); }
    void mousePressEvent(QMouseEvent* e) override { m_host.mouseButton(e, devicePixelRatio(), true); }
    void mouseReleaseEvent(QMouseEvent* e) override { m_host.mouseButton(e, devicePixelRatio(), false); }
    void mouseDoubleClickEvent(QMouseEvent* e) override { m_host.mouseButton(e, devicePixelRatio(), true); }
    void wheelEvent(QWheelEvent* e) override { m_host.wheel(e); }
    bool event(QEvent* e) override {
        if (e->type() == QEvent::Leave) m_host.leave();
        return QOpenGLWindow::event(e);
    }
    // A window that only shrinks gets no expose event on X11 (nothing new is uncovered), and a frame drawn
    // at once may still go to the old, larger drawable (Mesa learns the new size at the next swap): a dock
    // opened below the panes left their views with the headers at the bottom until something else
    // repainted them. So a resize is drawn twice: now, and once the drawable has caught up.
    void resizeEvent(QResizeEvent* e) override {
        QOpenGLWindow::resizeEvent(e);
        update();
        QTimer::singleShot(100, this, [this] { update(); });
    }

  private:
    ViewHost& m_host;
};

GlView::Surface g_surface = GlView::Surface::widget;
bool g_surfaceChosen = false;

}  // namespace

QString GlView::rendererName() {
    static QString name;
    static bool read = false;
    if (read) return name;
    read = true;
    QOpenGLContext context;
    QOffscreenSurface surface;
    surface.create();
    if (context.create() && context.makeCurrent(&surface)) {
        name =
            QString::fromLatin1(reinterpret_cast<const char*>(context.functions()->glGetString(GL_RENDERER)));
        context.doneCurrent();
    }
    return name;
}

bool GlView::parseSurface(const QString& name, Surface* surface) {
    if (name == QStringLiteral("widget"))
        *surface = Surface::widget;
    else if (name == QStringLiteral("window"))
        *surface = Surface::window;
    else
        return false;
    return true;
}

GlView::Surface GlView::defaultSurface() {
    if (!g_surfaceChosen) {
        g_surfaceChosen = true;
        Surface fromEnv;
        if (parseSurface(qEnvironmentVariable("KVSCOPE_GL_SURFACE"), &fromEnv)) {
            g_surface = fromEnv;
        } else {
            const QString r = rendererName();
            const bool software = r.contains(QStringLiteral("llvmpipe"), Qt::CaseInsensitive) ||
                                  r.contains(QStringLiteral("softpipe"), Qt::CaseInsensitive) ||
                                  r.contains(QStringLiteral("software"), Qt::CaseInsensitive);
            g_surface = software ? Surface::window : Surface::widget;
        }
    }
    return g_surface;
}

void GlView::setDefaultSurface(Surface surface) {
    g_surface = surface;
    g_surfaceChosen = true;
}

GlView::GlView(TraceStore& store, DisplaySettings& display, std::unique_ptr<ViewRenderer> renderer, Side side,
               QWidget* parent)
    : QWidget(parent),
      m_host(std::make_unique<ViewHost>(store, display, std::move(renderer), side, this)),
      m_surface(defaultSurface()) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    setMinimumSize(120, 60);
    connect(&store, &TraceStore::changed, this, [this](const StoreChange& change) {
        if (m_host->renderer()->affectedBy(change, m_host->side())) requestRepaint();
    });
    connect(&display, &DisplaySettings::changed, this, &GlView::requestRepaint);
}

// The surface (and with it an OpenGL context, which costs tens of milliseconds on a software renderer) is
// made the first time the view is painted, or drawn by a test: a view in a dock tab nobody opened costs
// nothing at start-up.
void GlView::ensureSurface() {
    if (m_widget) return;
    if (m_surface == Surface::widget) {
        m_glWidget = new GlViewWidget(*m_host, this);
        connect(m_glWidget, &QOpenGLWidget::frameSwapped, this, &GlView::frameSwapped);
        m_widget = m_glWidget;
    } else {
        m_glWindow = new GlViewWindow(*m_host);
        connect(m_glWindow, &QOpenGLWindow::frameSwapped, this, &GlView::frameSwapped);
        m_widget = QWidget::createWindowContainer(m_glWindow, this);
    }
    layout()->addWidget(m_widget);
}

GlView::~GlView() {
    // The surface goes first: its destructor frees the GL objects through the host.
    delete m_widget;
    m_widget = nullptr;
}

void GlView::setOutline(const QColor& colour) {
    if (colour == m_outline) return;
    m_outline = colour;
    const int m = colour.isValid() ? 4 : 0;
    layout()->setContentsMargins(m, m, m, m);
    update();
}

void GlView::paintEvent(QPaintEvent* event) {
    QWidget::paintEvent(event);
    // The first paint is the first time the view can be seen: a dock tab that is not the current one is
    // shown with the window but covered, and never painted. The surface is made after this paint.
    if (!m_widget) QTimer::singleShot(0, this, &GlView::ensureSurface);
    if (!m_outline.isValid()) return;
    QPainter p(this);
    p.fillRect(rect(), m_outline);
}

ViewRenderer* GlView::renderer() const {
    return m_host->renderer();
}
Side GlView::side() const {
    return m_host->side();
}
const QString& GlView::glError() const {
    return m_host->glError();
}
double GlView::lastPaintMilliseconds() const {
    return m_host->lastPaintMs();
}

void GlView::requestRepaint() {
    if (m_glWidget) m_glWidget->update();
    if (m_glWindow) m_glWindow->update();
}

void GlView::renderNow() {
    ensureSurface();
    if (m_glWidget) m_glWidget->grabFramebuffer();
    if (m_glWindow) static_cast<GlViewWindow*>(m_glWindow)->renderNow();
}

const LayoutReport& GlView::layoutReport() const {
    return m_host->layoutReport();
}

void GlView::hoverAt(QPointF position) {
    m_host->hover(position, devicePixelRatioF());
    renderNow();
    renderNow();  // the second frame sees the pointer where the first put it
}

void GlView::leaveHover() {
    m_host->leave();
    renderNow();
}

void GlView::withContext(const std::function<void(GlResources&)>& fn) {
    ensureSurface();
    QOpenGLContext* context = nullptr;
    if (m_glWidget) {
        m_glWidget->makeCurrent();
        context = m_glWidget->context();
    } else if (m_glWindow) {
        m_glWindow->makeCurrent();
        context = m_glWindow->context();
    }
    if (context && m_host->ready()) m_host->withResources(fn);
    if (m_glWidget) m_glWidget->doneCurrent();
    if (m_glWindow) m_glWindow->doneCurrent();
}

}  // namespace kvscope::app
