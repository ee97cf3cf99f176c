#include "gl/gl_resources.h"

#include <QOpenGLContext>
#include <QOpenGLVersionFunctionsFactory>

namespace kvscope::app {

GlResources::~GlResources() {
    Q_ASSERT_X(!m_gl, "~GlResources", "release() must run with the context current before the resources go");
}

bool GlResources::initialize(QOpenGLContext* context) {
    m_gl = QOpenGLVersionFunctionsFactory::get<GlFunctions>(context);
    if (!m_gl || !m_gl->initializeOpenGLFunctions()) {
        m_gl = nullptr;
        const auto f = context ? context->format() : QSurfaceFormat();
        m_error = QStringLiteral(
                      "KVScope needs OpenGL 3.3 (core profile); this context offers %1.%2. On a machine "
                      "without a GPU, Mesa's llvmpipe provides it (package libgl1-mesa-dri).")
                      .arg(f.majorVersion())
                      .arg(f.minorVersion());
        return false;
    }
    m_shaders = std::make_unique<ShaderLibrary>(m_gl);
    m_gl->glGenVertexArrays(1, &m_vao);
    return true;
}

void GlResources::release() {
    if (!m_gl) return;
    m_shaders.reset();
    if (m_vao) m_gl->glDeleteVertexArrays(1, &m_vao);
    if (m_lut[0]) m_gl->glDeleteTextures(2, m_lut);
    m_vao = 0;
    m_lut[0] = m_lut[1] = 0;
    m_lutTheme = -1;
    m_gl = nullptr;
}

void GlResources::ensureLuts(const Theme& theme) {
    if (m_lutTheme == int(theme.kind) && m_lut[0]) return;
    if (!m_lut[0]) m_gl->glGenTextures(2, m_lut);
    const std::vector<QColor>* stops[2] = {&theme.divergingStops, &theme.sequentialStops};
    for (int i = 0; i < 2; ++i) {
        const std::vector<unsigned char> lut = colormapLut(*stops[i], 256);
        m_gl->glBindTexture(GL_TEXTURE_2D, m_lut[i]);
        m_gl->glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 256, 1, 0, GL_RGBA, GL_UNSIGNED_BYTE, lut.data());
        // Linear between neighbouring entries of the table: the colour map itself is smooth.
        m_gl->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
        m_gl->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
        m_gl->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
        m_gl->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    }
    m_gl->glBindTexture(GL_TEXTURE_2D, 0);
    m_lutTheme = int(theme.kind);
}

GLuint GlResources::divergingLut(const Theme& theme) {
    ensureLuts(theme);
    return m_lut[0];
}

GLuint GlResources::sequentialLut(const Theme& theme) {
    ensureLuts(theme);
    return m_lut[1];
}

}  // namespace kvscope::app
