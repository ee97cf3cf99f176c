// gl_resources.h — what every view needs in one OpenGL context: the 3.3 functions, the shader library,
// an empty vertex array (the shaders make their quads from gl_VertexID) and the colour-map lookup
// textures of the current theme. One per context; made and freed with the context current.
#pragma once

#include <QString>
#include <memory>

#include "gl/gl_functions.h"
#include "gl/shader_library.h"
#include "theme.h"

class QOpenGLContext;

namespace kvscope::app {

class GlResources {
  public:
    GlResources() = default;
    ~GlResources();
    GlResources(const GlResources&) = delete;
    GlResources& operator=(const GlResources&) = delete;

    // With `context` current. False (and error()) when the context lacks OpenGL 3.3.
    bool initialize(QOpenGLContext* context);
    void release();  // the context must be current
    bool ready() const { return m_gl != nullptr; }
    const QString& error() const { return m_error; }

    GlFunctions& gl() { return *m_gl; }
    ShaderLibrary& shaders() { return *m_shaders; }
    GLuint emptyVao() const { return m_vao; }
    // Lookup textures (256 x 1 RGBA8) for `theme`, rebuilt when the theme changes.
    GLuint divergingLut(const Theme& theme);
    GLuint sequentialLut(const Theme& theme);

  private:
    void ensureLuts(const Theme& theme);
    GlFunctions* m_gl = nullptr;
    std::unique_ptr<ShaderLibrary> m_shaders;
    GLuint m_vao = 0;
    GLuint m_lut[2] = {0, 0};
    int m_lutTheme = -1;
    QString m_error;
};

}  // namespace kvscope::app
