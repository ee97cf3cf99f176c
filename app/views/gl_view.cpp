#include "views/gl_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QTimer>
#include <QWheelEvent>

namespace kvscope::app {

void DisplaySettings::setThemeKind(ThemeKind kind) {
    if (kind == m_kind) return;
    m_kind = kind;
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

GlView::GlView(TraceStore& store, DisplaySettings& display, std::unique_ptr<ViewRenderer> renderer, Side side,
               QWidget* parent)
    : QOpenGLWidget(parent),
      m_store(store),
      m_display(display),
      m_renderer(std::move(renderer)),
      m_side(side) {
    setMouseTracking(true);
    setFocusPolicy(Qt::ClickFocus);
    setMinimumSize(120, 60);
    m_clock.start();
    connect(&m_store, &TraceStore::changed, this, &GlView::onStoreChanged);
    connect(&m_display, &DisplaySettings::changed, this, qOverload<>(&GlView::update));
}

GlView::~GlView() {
    cleanup();
}

float GlView::pixelScale() const {
    return float(devicePixelRatioF()) * m_display.viewScale();
}

void GlView::cleanup() {
    if (!m_resources.ready() && !m_imgui.ready()) return;
    makeCurrent();
    m_renderer->releaseGL(m_resources);
    m_imgui.release();
    m_resources.release();
    doneCurrent();
}

void GlView::initializeGL() {
    connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, &GlView::cleanup, Qt::DirectConnection);
    if (!m_resources.initialize(context())) {
        m_glError = m_resources.error();
        qWarning("KVScope: %s", qPrintable(m_glError));
        return;
    }
    if (!m_imgui.initialize(pixelScale(), m_display.theme())) {
        m_glError = QStringLiteral("Dear ImGui's OpenGL 3 backend failed to start");
        qWarning("KVScope: %s", qPrintable(m_glError));
        m_resources.release();
        return;
    }
    m_renderer->initializeGL(m_resources);
}

void GlView::paintGL() {
    QElapsedTimer paintTimer;
    paintTimer.start();
    const Theme& theme = m_display.theme();
    const QSize fb(int(std::lround(width() * devicePixelRatioF())),
                   int(std::lround(height() * devicePixelRatioF())));
    if (!m_resources.ready()) {
        // No usable OpenGL: clear to the theme so the window still looks whole; the error is logged.
        auto* f = context()->functions();
        f->glClearColor(float(theme.window.redF()), float(theme.window.greenF()), float(theme.window.blueF()),
                        1.0f);
        f->glClear(GL_COLOR_BUFFER_BIT);
        return;
    }
    GlFunctions& gl = m_resources.gl();
    gl.glViewport(0, 0, fb.width(), fb.height());
    gl.glClearColor(float(theme.panel.redF()), float(theme.panel.greenF()), float(theme.panel.blueF()), 1.0f);
    gl.glClear(GL_COLOR_BUFFER_BIT);
    m_imgui.setStyle(pixelScale(), theme);
    const double now = m_clock.elapsed() / 1000.0;
    m_imgui.beginFrame(fb, now - m_lastFrame);
    m_lastFrame = now;
    beginViewWindow(fb);
    FrameContext frame{m_store, theme, m_resources, m_imgui};
    frame.side = m_side;
    frame.rect = QRectF(0, 0, fb.width(), fb.height());
    frame.framebuffer = fb;
    frame.scale = pixelScale();
    frame.time = now;
    frame.interactive = true;
    m_renderer->render(frame);
    endViewWindow();
    m_imgui.endFrame();
    m_lastPaintMs = paintTimer.nsecsElapsed() / 1e6;
    emit painted(m_lastPaintMs);
    if (m_renderer->animating() && !m_animationQueued) {
        m_animationQueued = true;
        QTimer::singleShot(16, this, [this] {
            m_animationQueued = false;
            update();
        });
    }
}

void GlView::withContext(const std::function<void(GlResources&)>& fn) {
    makeCurrent();
    if (m_resources.ready()) fn(m_resources);
    doneCurrent();
}

void GlView::onStoreChanged(const StoreChange& change) {
    if (m_renderer->affectedBy(change, m_side)) update();
}

// ---- input: everything goes to ImGui, then a repaint shows its effect (hover, clicks) --------------------

void GlView::mouseMoveEvent(QMouseEvent* event) {
    m_imgui.input().mouseMove(event->position(), devicePixelRatioF());
    update();
}

void GlView::mousePressEvent(QMouseEvent* event) {
    m_imgui.input().mouseMove(event->position(), devicePixelRatioF());
    m_imgui.input().mouseButton(event->button(), true);
    update();
}

void GlView::mouseReleaseEvent(QMouseEvent* event) {
    m_imgui.input().mouseButton(event->button(), false);
    update();
}

void GlView::mouseDoubleClickEvent(QMouseEvent* event) {
    m_imgui.input().mouseButton(event->button(), true);
    update();
}

void GlView::wheelEvent(QWheelEvent* event) {
    m_imgui.input().wheel(event->angleDelta());
    update();
}

void GlView::keyPressEvent(QKeyEvent* event) {
    m_imgui.input().key(event->key(), event->modifiers(), true);
    if (!event->text().isEmpty()) m_imgui.input().text(event->text());
    // The window's shortcuts (Space, P, arrows) still apply: the views use keys only for ImGui widgets.
    event->ignore();
    update();
}

void GlView::keyReleaseEvent(QKeyEvent* event) {
    m_imgui.input().key(event->key(), event->modifiers(), false);
    event->ignore();
}

void GlView::leaveEvent(QEvent* event) {
    m_imgui.input().leave();
    update();
    QOpenGLWidget::leaveEvent(event);
}

void GlView::focusOutEvent(QFocusEvent* event) {
    m_imgui.input().focusOut();
    QOpenGLWidget::focusOutEvent(event);
}

}  // namespace kvscope::app
