#include "gl/offscreen_renderer.h"

#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLFramebufferObject>

#include "views/gl_view.h"
#include "views/view_renderer.h"

namespace kvscope::app {

OffscreenRenderer::OffscreenRenderer() = default;

OffscreenRenderer::~OffscreenRenderer() {
    if (m_context && m_context->makeCurrent(m_surface.get())) {
        m_fbo.reset();
        m_imgui.release();
        m_resources.release();
        m_context->doneCurrent();
    }
}

bool OffscreenRenderer::initialize() {
    QSurfaceFormat format;
    format.setVersion(3, 3);
    format.setProfile(QSurfaceFormat::CoreProfile);
    m_context = std::make_unique<QOpenGLContext>();
    m_context->setFormat(format);
    if (!m_context->create()) {
        m_error = QStringLiteral(
            "cannot create an OpenGL 3.3 context (is a display or Xvfb available? under CI run "
            "with xvfb-run)");
        return false;
    }
    m_surface = std::make_unique<QOffscreenSurface>();
    m_surface->setFormat(m_context->format());
    m_surface->create();
    if (!m_context->makeCurrent(m_surface.get())) {
        m_error = QStringLiteral("cannot make the offscreen OpenGL context current");
        return false;
    }
    if (!m_resources.initialize(m_context.get())) {
        m_error = m_resources.error();
        return false;
    }
    return true;
}

void OffscreenRenderer::withContext(const std::function<void(GlResources&)>& fn) {
    if (m_context && m_context->makeCurrent(m_surface.get())) fn(m_resources);
}

void OffscreenRenderer::release(ViewRenderer& renderer) {
    withContext([&](GlResources& gl) { renderer.releaseGL(gl); });
}

QImage OffscreenRenderer::render(ViewRenderer& renderer, TraceStore& store, const OffscreenOptions& o) {
    if (!m_context || !m_context->makeCurrent(m_surface.get())) return {};
    const Theme& theme = themeFor(o.theme);
    if (!m_imgui.ready() && !m_imgui.initialize(o.scale, theme)) {
        m_error = QStringLiteral("Dear ImGui's OpenGL 3 backend failed to start");
        return {};
    }
    if (!m_fbo || m_fbo->size() != o.size) m_fbo = std::make_unique<QOpenGLFramebufferObject>(o.size);
    m_fbo->bind();
    GlFunctions& gl = m_resources.gl();
    gl.glViewport(0, 0, o.size.width(), o.size.height());
    gl.glClearColor(float(theme.window.redF()), float(theme.window.greenF()), float(theme.window.blueF()),
                    1.0f);
    gl.glClear(GL_COLOR_BUFFER_BIT);
    m_imgui.setStyle(o.scale, theme);
    m_imgui.input().leave();  // no pointer: no hover
    m_imgui.beginFrame(o.size, 1.0 / 60.0);
    beginViewWindow(o.size);
    FrameContext frame(store, theme, m_resources, m_imgui);
    frame.side = o.side;
    frame.rect = QRectF(0, 0, o.size.width(), o.size.height());
    frame.framebuffer = o.size;
    frame.scale = o.scale;
    frame.time = o.time;
    frame.interactive = false;
    renderer.render(frame);
    endViewWindow();
    m_imgui.endFrame();
    gl.glFinish();
    QImage image = m_fbo->toImage();
    m_fbo->release();
    return image;
}

}  // namespace kvscope::app
