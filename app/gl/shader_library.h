// shader_library.h — GLSL programs built from the files in shaders/ (compiled into the app as Qt
// resources under :/shaders/). A compile or link error names the file and the line the driver reported
// ("shaders/kv_rows.frag:42: error: ..."), whatever the driver's own log format.
//
// One library per OpenGL context: programs are not shared between contexts.
#pragma once

#include <QByteArray>
#include <QHash>
#include <QSet>
#include <QString>
#include <memory>

#include "gl/gl_functions.h"

namespace kvscope::app {

class ShaderProgram {
  public:
    GLuint id() const { return m_id; }
    // Uniform location by name, looked up once; -1 when the compiler optimised it away.
    GLint uniform(const char* name);

  private:
    friend class ShaderLibrary;
    GlFunctions* m_gl = nullptr;
    GLuint m_id = 0;
    QHash<QByteArray, GLint> m_uniforms;
};

class ShaderLibrary {
  public:
    explicit ShaderLibrary(GlFunctions* gl) : m_gl(gl) {}
    ~ShaderLibrary();  // the context must be current
    // Builds (once) the program of two files in :/shaders/, e.g. ("heatmap.vert", "kv_rows.frag").
    // Null on failure; error() then says which file and line.
    ShaderProgram* program(const QString& vertexFile, const QString& fragmentFile);
    // Builds a program from sources given here; the names stand in for file names in messages.
    ShaderProgram* programFromSources(const QString& vertexName, const QByteArray& vertexSource,
                                      const QString& fragmentName, const QByteArray& fragmentSource);
    const QString& error() const { return m_error; }
    void release();  // deletes every program; the context must be current

    // Turns a driver's log into "shaders/FILE:LINE: message" lines. Understands Mesa ("0:12(5): error:")
    // and NVIDIA ("0(12) : error C0000:") formats; other lines are kept as they are.
    static QString annotateLog(const QString& file, const QString& log);

  private:
    GLuint compile(GLenum type, const QString& file, const QByteArray& source);
    bool readResource(const QString& file, QByteArray* source);
    GlFunctions* m_gl;
    QHash<QString, std::shared_ptr<ShaderProgram>> m_programs;
    QSet<QString> m_failed;
    QString m_error;
};

}  // namespace kvscope::app
