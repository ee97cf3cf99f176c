#include "gl/shader_library.h"

#include <QFile>
#include <QRegularExpression>
#include <QStringList>

namespace kvscope::app {

GLint ShaderProgram::uniform(const char* name) {
    auto it = m_uniforms.constFind(QByteArray::fromRawData(name, int(qstrlen(name))));
    if (it != m_uniforms.constEnd()) return it.value();
    const GLint location = m_gl->glGetUniformLocation(m_id, name);
    m_uniforms.insert(QByteArray(name), location);
    return location;
}

namespace {
// The info log of a shader or a program (the same call shape for both, with different entry points).
template <typename GetIv, typename GetLog>
QString infoLog(GlFunctions* gl, GLuint object, GetIv getIv, GetLog getLog) {
    GLint length = 0;
    (gl->*getIv)(object, GL_INFO_LOG_LENGTH, &length);
    QByteArray log(std::max(length, 1), '\0');
    (gl->*getLog)(object, length, nullptr, log.data());
    return QString::fromUtf8(log.constData());
}
}  // namespace

ShaderLibrary::~ShaderLibrary() {
    release();
}

void ShaderLibrary::release() {
    for (auto& p : m_programs)
        if (p && p->m_id) m_gl->glDeleteProgram(p->m_id);
    m_programs.clear();
    m_failed.clear();
}

QString ShaderLibrary::annotateLog(const QString& file, const QString& log) {
    static const QRegularExpression mesa(QStringLiteral("^\\s*\\d+:(\\d+)\\(\\d+\\):\\s*(.*)$"));
    static const QRegularExpression nvidia(QStringLiteral("^\\s*\\d+\\((\\d+)\\)\\s*:\\s*(.*)$"));
    QStringList out;
    for (const QString& line : log.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        QRegularExpressionMatch m = mesa.match(line);
        if (!m.hasMatch()) m = nvidia.match(line);
        if (m.hasMatch())
            out << QStringLiteral("shaders/%1:%2: %3").arg(file, m.captured(1), m.captured(2).trimmed());
        else
            out << QStringLiteral("shaders/%1: %2").arg(file, line.trimmed());
    }
    return out.join(QLatin1Char('\n'));
}

bool ShaderLibrary::readResource(const QString& file, QByteArray* source) {
    QFile f(QStringLiteral(":/shaders/") + file);
    if (!f.open(QIODevice::ReadOnly)) {
        m_error = QStringLiteral(
                      "shaders/%1: not found among the app's resources (is it listed in "
                      "app/CMakeLists.txt?)")
                      .arg(file);
        return false;
    }
    *source = f.readAll();
    return true;
}

GLuint ShaderLibrary::compile(GLenum type, const QString& file, const QByteArray& source) {
    const GLuint shader = m_gl->glCreateShader(type);
    const char* text = source.constData();
    const GLint length = GLint(source.size());
    m_gl->glShaderSource(shader, 1, &text, &length);
    m_gl->glCompileShader(shader);
    GLint ok = GL_FALSE;
    m_gl->glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        m_error = annotateLog(
            file, infoLog(m_gl, shader, &GlFunctions::glGetShaderiv, &GlFunctions::glGetShaderInfoLog));
        m_gl->glDeleteShader(shader);
        return 0;
    }
    return shader;
}

ShaderProgram* ShaderLibrary::program(const QString& vertexFile, const QString& fragmentFile) {
    const QString key = vertexFile + QLatin1Char('+') + fragmentFile;
    if (auto it = m_programs.constFind(key); it != m_programs.constEnd()) return it.value().get();
    if (m_failed.contains(key)) return nullptr;  // error() still says why; do not rebuild every frame
    QByteArray vertexSource, fragmentSource;
    ShaderProgram* p = nullptr;
    if (readResource(vertexFile, &vertexSource) && readResource(fragmentFile, &fragmentSource))
        p = programFromSources(vertexFile, vertexSource, fragmentFile, fragmentSource);
    if (!p) m_failed.insert(key);
    return p;
}

ShaderProgram* ShaderLibrary::programFromSources(const QString& vertexFile, const QByteArray& vertexSource,
                                                 const QString& fragmentFile,
                                                 const QByteArray& fragmentSource) {
    const QString key = vertexFile + QLatin1Char('+') + fragmentFile;
    const GLuint vs = compile(GL_VERTEX_SHADER, vertexFile, vertexSource);
    if (!vs) return nullptr;
    const GLuint fs = compile(GL_FRAGMENT_SHADER, fragmentFile, fragmentSource);
    if (!fs) {
        m_gl->glDeleteShader(vs);
        return nullptr;
    }
    const GLuint id = m_gl->glCreateProgram();
    m_gl->glAttachShader(id, vs);
    m_gl->glAttachShader(id, fs);
    m_gl->glLinkProgram(id);
    m_gl->glDeleteShader(vs);
    m_gl->glDeleteShader(fs);
    GLint ok = GL_FALSE;
    m_gl->glGetProgramiv(id, GL_LINK_STATUS, &ok);
    if (!ok) {
        m_error = annotateLog(
            key, infoLog(m_gl, id, &GlFunctions::glGetProgramiv, &GlFunctions::glGetProgramInfoLog));
        m_gl->glDeleteProgram(id);
        return nullptr;
    }
    auto program = std::make_shared<ShaderProgram>();
    program->m_gl = m_gl;
    program->m_id = id;
    m_programs.insert(key, program);
    return program.get();
}

}  // namespace kvscope::app
