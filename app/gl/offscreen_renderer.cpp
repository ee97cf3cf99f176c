#include "gl/offscreen_renderer.h"

#include <QGuiApplication>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLExtraFunctions>
#include <QOpenGLFramebufferObject>

#include "export/export_format.h"
#include "export/export_io.h"
#include "views/gl_view.h"
#include "views/view_renderer.h"

namespace kvscope::app {
namespace {

constexpr GLenum kContextProfileMask = 0x9126;  // GL_CONTEXT_PROFILE_MASK (3.2+)
constexpr GLint kContextCoreProfileBit = 0x1;

Status noOpenGl(const QString& why) {
    return exportFailure(
        QStringLiteral("no OpenGL available: %1 (Qt platform '%2'). Without a display, `kvscope export` "
                       "starts its own Xvfb when the xvfb package is installed; otherwise run under "
                       "tools/run-with-xvfb.sh COMMAND, or xvfb-run -a with QT_QPA_PLATFORM=xcb")
            .arg(why, QGuiApplication::platformName()));
}

}  // namespace

OffscreenRenderer::OffscreenRenderer() = default;

OffscreenRenderer::~OffscreenRenderer() {
    // Framebuffers, ImGui's font texture and the shaders are GL objects: free them with the context current.
    if (m_context && m_surface && m_context->makeCurrent(m_surface.get())) {
        m_draw.reset();
        m_resolved.reset();
        m_imgui.release();
        m_resources.release();
        m_context->doneCurrent();
    }
}

bool OffscreenRenderer::makeCurrent() {
    return m_context && m_surface && m_context->makeCurrent(m_surface.get());
}

Status OffscreenRenderer::create(QSize size, int samples) {
    assert(qobject_cast<QGuiApplication*>(QCoreApplication::instance()) &&
           "OffscreenRenderer needs a QGuiApplication (or QApplication) to exist");
    assert(!m_context && "OffscreenRenderer::create() called twice");
    KVSCOPE_TRY(validateFrameSize(ExportFormat::png, size));
    QSurfaceFormat format;
    format.setVersion(3, 3);
    format.setProfile(QSurfaceFormat::CoreProfile);
    format.setRenderableType(QSurfaceFormat::OpenGL);
    m_context = std::make_unique<QOpenGLContext>();
    m_context->setFormat(format);
    if (!m_context->create()) return noOpenGl(QStringLiteral("cannot create an OpenGL 3.3 context"));
    m_surface = std::make_unique<QOffscreenSurface>();
    m_surface->setFormat(m_context->format());
    m_surface->create();
    if (!m_surface->isValid()) return noOpenGl(QStringLiteral("cannot create an offscreen surface"));
    if (!makeCurrent()) return noOpenGl(QStringLiteral("cannot make the OpenGL context current"));
    const QSurfaceFormat got = m_context->format();
    if (got.majorVersion() * 10 + got.minorVersion() < 33)
        return noOpenGl(QStringLiteral("the driver gives OpenGL %1.%2, KVScope needs 3.3")
                            .arg(got.majorVersion())
                            .arg(got.minorVersion()));
    QOpenGLExtraFunctions* gl = m_context->extraFunctions();
    // Ask the driver, not Qt: Qt's offscreen platform reports the profile it asked for, not the one it got.
    GLint profileMask = 0;
    gl->glGetIntegerv(kContextProfileMask, &profileMask);
    m_core = (profileMask & kContextCoreProfileBit) != 0;
    if (!m_resources.initialize(m_context.get())) return noOpenGl(m_resources.error());
    KVSCOPE_TRY(makeFramebuffers(size, samples));
    m_description =
        QStringLiteral("%1, OpenGL %2, %3 profile, %4")
            .arg(QString::fromLatin1(reinterpret_cast<const char*>(gl->glGetString(GL_RENDERER))),
                 QString::fromLatin1(reinterpret_cast<const char*>(gl->glGetString(GL_VERSION))),
                 m_core ? QStringLiteral("core") : QStringLiteral("compatibility"),
                 m_samples > 1 ? QStringLiteral("%1× MSAA").arg(m_samples) : QStringLiteral("no MSAA"));
    return begin();
}

Status OffscreenRenderer::makeFramebuffers(QSize size, int samples) {
    GLint maxSamples = 0;
    m_context->functions()->glGetIntegerv(GL_MAX_SAMPLES, &maxSamples);
    const int want = samples > 1 ? std::min(samples, int(maxSamples)) : 0;
    m_draw.reset();
    m_resolved.reset();
    QOpenGLFramebufferObjectFormat drawFormat;
    drawFormat.setAttachment(QOpenGLFramebufferObject::NoAttachment);  // ImGui and the heatmaps use no depth
    drawFormat.setInternalTextureFormat(GL_RGBA8);
    drawFormat.setSamples(want);
    m_draw = std::make_unique<QOpenGLFramebufferObject>(size, drawFormat);
    if (want > 1) {
        QOpenGLFramebufferObjectFormat plainFormat;
        plainFormat.setInternalTextureFormat(GL_RGBA8);
        m_resolved = std::make_unique<QOpenGLFramebufferObject>(size, plainFormat);
    }
    if (!m_draw->isValid() || (m_resolved && !m_resolved->isValid())) {
        m_draw.reset();
        m_resolved.reset();
        return exportFailure(QStringLiteral("OpenGL cannot make a %1×%2 framebuffer (%3× multisampling)")
                                 .arg(size.width())
                                 .arg(size.height())
                                 .arg(want));
    }
    m_samples = want > 1 ? m_draw->format().samples() : 0;
    m_size = size;
    return Status::ok();
}

Status OffscreenRenderer::resize(QSize size) {
    assert(m_context && "OffscreenRenderer::resize() before a successful create()");
    if (size == m_size && m_draw) return Status::ok();
    KVSCOPE_TRY(validateFrameSize(ExportFormat::png, size));
    if (!makeCurrent()) return noOpenGl(QStringLiteral("cannot make the OpenGL context current"));
    return makeFramebuffers(size, m_samples);
}

Status OffscreenRenderer::begin() {
    assert(m_draw && "OffscreenRenderer::begin() before a successful create()");
    if (!makeCurrent()) return noOpenGl(QStringLiteral("cannot make the OpenGL context current"));
    m_draw->bind();
    m_context->functions()->glViewport(0, 0, m_size.width(), m_size.height());
    return Status::ok();
}

void OffscreenRenderer::end() {
    if (!m_context) return;
    if (m_draw) m_draw->release();
    m_context->doneCurrent();
}

Result<QImage> OffscreenRenderer::grab() {
    assert(QOpenGLContext::currentContext() == m_context.get() && "OffscreenRenderer::grab() after begin()");
    QOpenGLExtraFunctions* gl = m_context->extraFunctions();
    while (gl->glGetError() != GL_NO_ERROR) {
        // Errors the drawing left are its own; only the readback's are checked below.
    }
    QOpenGLFramebufferObject* readFrom = m_draw.get();
    if (m_resolved) {
        const QRect all(QPoint(0, 0), m_size);
        QOpenGLFramebufferObject::blitFramebuffer(m_resolved.get(), all, m_draw.get(), all,
                                                  GL_COLOR_BUFFER_BIT, GL_NEAREST);
        readFrom = m_resolved.get();
    }
    readFrom->bind();
    QImage image(m_size, QImage::Format_RGBA8888);
    if (image.isNull())
        return exportFailure(
            QStringLiteral("out of memory for a %1×%2 image").arg(m_size.width()).arg(m_size.height()));
    gl->glPixelStorei(GL_PACK_ALIGNMENT, 4);
    gl->glPixelStorei(GL_PACK_ROW_LENGTH, int(image.bytesPerLine() / 4));
    gl->glPixelStorei(GL_PACK_SKIP_ROWS, 0);
    gl->glPixelStorei(GL_PACK_SKIP_PIXELS, 0);
    gl->glReadPixels(0, 0, m_size.width(), m_size.height(), GL_RGBA, GL_UNSIGNED_BYTE, image.bits());
    gl->glPixelStorei(GL_PACK_ROW_LENGTH, 0);
    m_draw->bind();
    if (const GLenum error = gl->glGetError(); error != GL_NO_ERROR)
        return exportFailure(
            QStringLiteral("reading the frame back failed (OpenGL error 0x%1)").arg(error, 0, 16));
    image.mirror(false, true);  // OpenGL's first row is the bottom one
    // A slide wants no see-through pixels, whatever alpha the drawing left.
    for (int y = 0; y < image.height(); ++y) {
        uchar* row = image.scanLine(y);
        for (int x = 0; x < image.width(); ++x)
            row[4 * x + 3] = 0xff;
    }
    image.reinterpretAsFormat(QImage::Format_RGBX8888);
    return image;
}

void OffscreenRenderer::withContext(const std::function<void(GlResources&)>& fn) {
    if (makeCurrent() && m_resources.ready()) fn(m_resources);
}

void OffscreenRenderer::release(ViewRenderer& renderer) {
    withContext([&](GlResources& gl) { renderer.releaseGL(gl); });
}

Result<QImage> OffscreenRenderer::render(ViewRenderer& renderer, TraceStore& store,
                                         const OffscreenOptions& o) {
    KVSCOPE_TRY(begin());
    const Theme& theme = themeFor(o.theme);
    if (!m_imgui.ready() && !m_imgui.initialize(o.scale, theme))
        return exportFailure(QStringLiteral("Dear ImGui's OpenGL 3 backend failed to start"));
    GlFunctions& gl = m_resources.gl();
    gl.glClearColor(float(theme.window.redF()), float(theme.window.greenF()), float(theme.window.blueF()),
                    1.0f);
    gl.glClear(GL_COLOR_BUFFER_BIT);
    m_imgui.setStyle(o.scale, theme);
    m_imgui.input().leave();  // no pointer: no hover
    m_imgui.beginFrame(m_size, 1.0 / 60.0);
    beginViewWindow(m_size);
    FrameContext frame(store, theme, m_resources, m_imgui);
    frame.side = o.side;
    frame.rect = QRectF(0, 0, m_size.width(), m_size.height());
    frame.framebuffer = m_size;
    frame.scale = o.scale;
    frame.time = o.time;
    frame.stepAge = o.stepAge;
    frame.interactive = false;
    renderer.render(frame);
    endViewWindow();
    m_imgui.endFrame();
    return grab();
}

}  // namespace kvscope::app
