#include "export/offscreen_gl.h"

#include <QGuiApplication>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLExtraFunctions>
#include <QOpenGLFramebufferObject>

#include "export/export_format.h"
#include "export/export_io.h"

namespace kvscope::app {
namespace {

constexpr GLenum kContextProfileMask = 0x9126;  // GL_CONTEXT_PROFILE_MASK (3.2+)
constexpr GLint kContextCoreProfileBit = 0x1;

QString noOpenGl(const QString& why) {
    return QStringLiteral(
               "no OpenGL available: %1 (Qt platform '%2'). Without a display, run under Xvfb: "
               "tools/run-with-xvfb.sh COMMAND, or xvfb-run -a with QT_QPA_PLATFORM=xcb")
        .arg(why, QGuiApplication::platformName());
}

}  // namespace

OffscreenGlTarget::OffscreenGlTarget() = default;

OffscreenGlTarget::~OffscreenGlTarget() {
    // Framebuffers are GL objects: free them with their context current.
    if (m_context && m_surface && m_context->makeCurrent(m_surface.get())) {
        m_draw.reset();
        m_resolved.reset();
        m_context->doneCurrent();
    }
}

Status OffscreenGlTarget::create(QSize size, int samples) {
    assert(qobject_cast<QGuiApplication*>(QCoreApplication::instance()) &&
           "OffscreenGlTarget needs a QGuiApplication (or QApplication) to exist");
    KVSCOPE_TRY(validateFrameSize(ExportFormat::png, size));
    QSurfaceFormat format;
    format.setVersion(3, 3);
    format.setProfile(QSurfaceFormat::CoreProfile);
    format.setRenderableType(QSurfaceFormat::OpenGL);
    m_context = std::make_unique<QOpenGLContext>();
    m_context->setFormat(format);
    if (!m_context->create())
        return exportFailure(noOpenGl(QStringLiteral("cannot create an OpenGL 3.3 context")));
    m_surface = std::make_unique<QOffscreenSurface>();
    m_surface->setFormat(m_context->format());
    m_surface->create();
    if (!m_surface->isValid())
        return exportFailure(noOpenGl(QStringLiteral("cannot create an offscreen surface")));
    if (!m_context->makeCurrent(m_surface.get()))
        return exportFailure(noOpenGl(QStringLiteral("cannot make the OpenGL context current")));
    const QSurfaceFormat got = m_context->format();
    if (got.majorVersion() * 10 + got.minorVersion() < 33)
        return exportFailure(noOpenGl(QStringLiteral("the driver gives OpenGL %1.%2, export needs 3.3")
                                          .arg(got.majorVersion())
                                          .arg(got.minorVersion())));

    QOpenGLExtraFunctions* gl = m_context->extraFunctions();
    // Ask the driver, not Qt: Qt's offscreen platform reports the profile it asked for, not the one it got.
    GLint profileMask = 0;
    gl->glGetIntegerv(kContextProfileMask, &profileMask);
    m_core = (profileMask & kContextCoreProfileBit) != 0;
    GLint maxSamples = 0;
    gl->glGetIntegerv(GL_MAX_SAMPLES, &maxSamples);
    m_samples = samples > 1 ? std::min(samples, int(maxSamples)) : 0;

    QOpenGLFramebufferObjectFormat drawFormat;
    drawFormat.setAttachment(QOpenGLFramebufferObject::CombinedDepthStencil);
    drawFormat.setInternalTextureFormat(GL_RGBA8);
    drawFormat.setSamples(m_samples);
    m_draw = std::make_unique<QOpenGLFramebufferObject>(size, drawFormat);
    QOpenGLFramebufferObjectFormat plainFormat;
    plainFormat.setInternalTextureFormat(GL_RGBA8);
    m_resolved = std::make_unique<QOpenGLFramebufferObject>(size, plainFormat);
    if (!m_draw->isValid() || !m_resolved->isValid())
        return exportFailure(QStringLiteral("OpenGL cannot make a %1×%2 framebuffer (%3× multisampling)")
                                 .arg(size.width())
                                 .arg(size.height())
                                 .arg(m_samples));
    m_samples = m_draw->format().samples();
    m_size = size;
    m_description =
        QStringLiteral("%1, OpenGL %2, %3 profile, %4")
            .arg(QString::fromLatin1(reinterpret_cast<const char*>(gl->glGetString(GL_RENDERER))),
                 QString::fromLatin1(reinterpret_cast<const char*>(gl->glGetString(GL_VERSION))),
                 m_core ? QStringLiteral("core") : QStringLiteral("compatibility"),
                 m_samples > 1 ? QStringLiteral("%1× MSAA").arg(m_samples) : QStringLiteral("no MSAA"));
    return begin();
}

Status OffscreenGlTarget::begin() {
    assert(m_draw && "OffscreenGlTarget::begin() before a successful create()");
    if (!m_context->makeCurrent(m_surface.get()))
        return exportFailure(noOpenGl(QStringLiteral("cannot make the OpenGL context current")));
    m_draw->bind();
    m_context->functions()->glViewport(0, 0, m_size.width(), m_size.height());
    return Status::ok();
}

Result<QImage> OffscreenGlTarget::grab() {
    assert(QOpenGLContext::currentContext() == m_context.get() && "OffscreenGlTarget::grab() after begin()");
    QOpenGLExtraFunctions* gl = m_context->extraFunctions();
    while (gl->glGetError() != GL_NO_ERROR) {
        // Errors the renderer left are its own; only the readback's are checked below.
    }
    const QRect all(QPoint(0, 0), m_size);
    QOpenGLFramebufferObject::blitFramebuffer(m_resolved.get(), all, m_draw.get(), all, GL_COLOR_BUFFER_BIT,
                                              GL_NEAREST);
    m_resolved->bind();
    QImage image(m_size, QImage::Format_RGBA8888);
    if (image.isNull())
        return exportFailure(
            QStringLiteral("out of memory for a %1×%2 image").arg(m_size.width()).arg(m_size.height()));
    gl->glPixelStorei(GL_PACK_ALIGNMENT, 4);
    gl->glPixelStorei(GL_PACK_ROW_LENGTH, int(image.bytesPerLine() / 4));
    gl->glReadPixels(0, 0, m_size.width(), m_size.height(), GL_RGBA, GL_UNSIGNED_BYTE, image.bits());
    gl->glPixelStorei(GL_PACK_ROW_LENGTH, 0);
    m_draw->bind();
    if (const GLenum error = gl->glGetError(); error != GL_NO_ERROR)
        return exportFailure(
            QStringLiteral("reading the frame back failed (OpenGL error 0x%1)").arg(error, 0, 16));
    // OpenGL's first row is the bottom one.
    image.mirror(false, true);
    for (int y = 0; y < image.height(); ++y) {
        uchar* row = image.scanLine(y);
        for (int x = 0; x < image.width(); ++x)
            row[4 * x + 3] = 0xff;
    }
    image.reinterpretAsFormat(QImage::Format_RGBX8888);
    return image;
}

void OffscreenGlTarget::moveToThread(QThread* thread) {
    assert(m_context && "OffscreenGlTarget::moveToThread() after create()");
    if (QOpenGLContext::currentContext() == m_context.get()) end();
    m_context->moveToThread(thread);
}

void OffscreenGlTarget::end() {
    if (!m_context) return;
    if (m_draw) m_draw->release();
    m_context->doneCurrent();
}

}  // namespace kvscope::app
