#include "views/heatmap_draw.h"

namespace kvscope::app {

namespace {

void setColour(GlFunctions& gl, GLint location, const QColor& c) {
    gl.glUniform4f(location, float(c.redF()), float(c.greenF()), float(c.blueF()), float(c.alphaF()));
}

void scissorTo(GlFunctions& gl, const ImVec4& clip, int framebufferHeight) {
    const int x0 = int(std::floor(clip.x)), y0 = int(std::floor(clip.y));
    const int x1 = int(std::ceil(clip.z)), y1 = int(std::ceil(clip.w));
    gl.glScissor(x0, framebufferHeight - y1, std::max(0, x1 - x0), std::max(0, y1 - y0));
}

void setRect(GlFunctions& gl, ShaderProgram* p, const QRectF& r, QSize fb) {
    gl.glUniform4f(p->uniform("uRect"), float(r.x()), float(r.y()), float(r.width()), float(r.height()));
    gl.glUniform2f(p->uniform("uFramebuffer"), float(fb.width()), float(fb.height()));
}

GLuint prepareTexture(GlFunctions& gl, GLenum target, GLuint id) {
    gl.glBindTexture(target, id);
    gl.glTexParameteri(target, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    gl.glTexParameteri(target, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    gl.glTexParameteri(target, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    gl.glTexParameteri(target, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    return id;
}

// What both heatmap programs need before their own uniforms: the clip of this point in ImGui's draw
// order, the program, the empty vertex array, the data texture on unit 0, the colour map on unit 1, the
// rectangle.
void bindHeatmap(GlResources& res, ShaderProgram* p, const ImVec4& clip, QSize fb, GLenum dataTarget,
                 GLuint data, GLuint lut, const QRectF& rect) {
    GlFunctions& gl = res.gl();
    scissorTo(gl, clip, fb.height());
    gl.glUseProgram(p->id());
    gl.glBindVertexArray(res.emptyVao());
    gl.glActiveTexture(GL_TEXTURE0);
    gl.glBindTexture(dataTarget, data);
    gl.glActiveTexture(GL_TEXTURE1);
    gl.glBindTexture(GL_TEXTURE_2D, lut);
    gl.glUniform1i(p->uniform("uData"), 0);
    gl.glUniform1i(p->uniform("uLut"), 1);
    setRect(gl, p, rect, fb);
}

}  // namespace

bool queueKvHeadDraw(FrameContext& frame, ImDrawList* dl, const KvHeadDraw& d) {
    ShaderProgram* p =
        frame.gl.shaders().program(QStringLiteral("heatmap.vert"), QStringLiteral("kv_rows.frag"));
    if (!p || d.rows <= 0 || d.cols <= 0 || d.rect.width() < 1 || d.rect.height() < 1) return p != nullptr;
    GlResources* res = &frame.gl;
    const GLuint lut = res->divergingLut(frame.theme);
    const QSize fb = frame.framebuffer;
    frame.imgui.addGlDraw(dl, [res, p, d, lut, fb](const ImVec4& clip) {
        bindHeatmap(*res, p, clip, fb, GL_TEXTURE_2D, d.texture, lut, d.rect);
        GlFunctions& gl = res->gl();
        gl.glUniform2i(p->uniform("uCells"), d.cols, d.rows);
        gl.glUniform1i(p->uniform("uColOffset"), d.colOffset);
        gl.glUniform1f(p->uniform("uRange"), d.range);
        gl.glUniform2i(p->uniform("uNewRows"), d.newBegin, d.newEnd);
        setColour(gl, p->uniform("uNewColor"), d.newColour);
        gl.glUniform1f(p->uniform("uSweep"), d.sweepRows);
        gl.glUniform1f(p->uniform("uSweepFront"), d.sweepFront);
        setColour(gl, p->uniform("uSweepColor"), d.sweepColour);
        setColour(gl, p->uniform("uGridColor"), d.gridColour);
        gl.glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
        gl.glActiveTexture(GL_TEXTURE0);
    });
    return true;
}

bool queueAttentionDraw(FrameContext& frame, ImDrawList* dl, const AttentionDraw& d) {
    ShaderProgram* p =
        frame.gl.shaders().program(QStringLiteral("heatmap.vert"), QStringLiteral("attention.frag"));
    if (!p || d.keys <= 0 || d.queryCount <= 0 || d.rect.width() < 1 || d.rect.height() < 1)
        return p != nullptr;
    GlResources* res = &frame.gl;
    const GLuint lut = res->sequentialLut(frame.theme);
    const QSize fb = frame.framebuffer;
    frame.imgui.addGlDraw(dl, [res, p, d, lut, fb](const ImVec4& clip) {
        bindHeatmap(*res, p, clip, fb, GL_TEXTURE_2D_ARRAY, d.texture, lut, d.rect);
        GlFunctions& gl = res->gl();
        gl.glActiveTexture(GL_TEXTURE2);
        gl.glBindTexture(GL_TEXTURE_2D, d.rowMax);
        gl.glUniform1i(p->uniform("uRowMax"), 2);
        gl.glUniform1i(p->uniform("uHead"), d.head);
        gl.glUniform1i(p->uniform("uKeys"), d.keys);
        gl.glUniform1i(p->uniform("uQueryBegin"), d.queryBegin);
        gl.glUniform1i(p->uniform("uQueryCount"), d.queryCount);
        gl.glUniform2i(p->uniform("uQueryRows"), d.rowBegin, d.rowEnd);
        gl.glUniform1i(p->uniform("uScale"), int(d.scale));
        gl.glUniform1i(p->uniform("uRowNorm"), d.rowNormalised && d.rowMax ? 1 : 0);
        setColour(gl, p->uniform("uRowColor"), d.rowColour);
        setColour(gl, p->uniform("uMaskColor"), d.maskColour);
        setColour(gl, p->uniform("uGridColor"), d.gridColour);
        gl.glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
        gl.glActiveTexture(GL_TEXTURE2);
        gl.glBindTexture(GL_TEXTURE_2D, 0);
        gl.glActiveTexture(GL_TEXTURE0);
        gl.glBindTexture(GL_TEXTURE_2D_ARRAY, 0);
    });
    return true;
}

void drawColourBar(ImDrawList* dl, ImVec2 a, ImVec2 b, const std::vector<QColor>& stops, bool vertical) {
    const std::vector<unsigned char> lut = colormapLut(stops, 64);
    const int n = 64;
    for (int i = 0; i < n; ++i) {
        const unsigned char* c = &lut[size_t(i) * 4];
        const ImU32 col = IM_COL32(c[0], c[1], c[2], 255);
        if (vertical) {
            // Bottom is the low end.
            const float y1 = b.y - (b.y - a.y) * float(i) / n, y0 = b.y - (b.y - a.y) * float(i + 1) / n;
            dl->AddRectFilled(ImVec2(a.x, y0), ImVec2(b.x, y1 + 0.5f), col);
        } else {
            const float x0 = a.x + (b.x - a.x) * float(i) / n, x1 = a.x + (b.x - a.x) * float(i + 1) / n;
            dl->AddRectFilled(ImVec2(x0, a.y), ImVec2(x1 + 0.5f, b.y), col);
        }
    }
}

float kvColourPosition(float value, float range) {
    return std::clamp(value / std::max(range, 1e-20f) * 0.5f + 0.5f, 0.0f, 1.0f);
}

float attentionColourPosition(float weight, float rowMax, WeightScale scale, bool rowNormalised) {
    float w = rowNormalised ? weight / std::max(rowMax, 1e-30f) : weight;
    w = std::clamp(w, 0.0f, 1.0f);
    switch (scale) {
        case WeightScale::sqrt:
            return std::sqrt(w);
        case WeightScale::log:
            return w <= 0.0f ? 0.0f : std::clamp(1.0f + std::log10(w) / 4.0f, 0.0f, 1.0f);
        case WeightScale::linear:
            break;
    }
    return w;
}

QRgb lutColour(const std::vector<unsigned char>& lut, float t) {
    const int n = int(lut.size() / 4);
    const float x = std::clamp(t, 0.0f, 1.0f) * float(n - 1);  // texel centres: t·(n−1)/n + 0.5/n
    const int i0 = std::min(int(x), n - 1), i1 = std::min(i0 + 1, n - 1);
    const float f = x - float(i0);
    int c[3];
    for (int k = 0; k < 3; ++k)
        c[k] =
            int(std::lround(float(lut[size_t(i0) * 4 + k]) * (1 - f) + float(lut[size_t(i1) * 4 + k]) * f));
    return qRgb(c[0], c[1], c[2]);
}

void resetPixelStore(GlFunctions& gl) {
    // Others (Qt's framebuffer grabs, ImGui) may leave row lengths or skips set; ours are tightly packed.
    for (GLenum p : {GL_PACK_ROW_LENGTH, GL_PACK_SKIP_ROWS, GL_PACK_SKIP_PIXELS, GL_UNPACK_ROW_LENGTH,
                     GL_UNPACK_SKIP_ROWS, GL_UNPACK_SKIP_PIXELS, GL_UNPACK_IMAGE_HEIGHT,
                     GL_UNPACK_SKIP_IMAGES, GL_PACK_IMAGE_HEIGHT, GL_PACK_SKIP_IMAGES})
        gl.glPixelStorei(p, 0);
    gl.glPixelStorei(GL_PACK_ALIGNMENT, 4);
    gl.glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
}

GLuint createFloatTexture2D(GlFunctions& gl, int width, int height) {
    GLuint id = 0;
    gl.glGenTextures(1, &id);
    prepareTexture(gl, GL_TEXTURE_2D, id);
    resetPixelStore(gl);
    // Zeros, so rows not yet written read as 0 rather than whatever the driver left there.
    std::vector<float> zeros(size_t(width) * size_t(height), 0.0f);
    gl.glTexImage2D(GL_TEXTURE_2D, 0, GL_R32F, width, height, 0, GL_RED, GL_FLOAT, zeros.data());
    gl.glBindTexture(GL_TEXTURE_2D, 0);
    return id;
}

GLuint createHalfTextureArray(GlFunctions& gl, int width, int height, int layers) {
    GLuint id = 0;
    gl.glGenTextures(1, &id);
    prepareTexture(gl, GL_TEXTURE_2D_ARRAY, id);
    resetPixelStore(gl);
    std::vector<uint16_t> zeros(size_t(width) * size_t(height) * size_t(layers), 0);  // +0.0 in half
    gl.glTexImage3D(GL_TEXTURE_2D_ARRAY, 0, GL_R16F, width, height, layers, 0, GL_RED, GL_HALF_FLOAT,
                    zeros.data());
    gl.glBindTexture(GL_TEXTURE_2D_ARRAY, 0);
    return id;
}

std::vector<float> readFloatTexture2D(GlFunctions& gl, GLuint texture, int width, int height, int rowBegin,
                                      int nRows) {
    resetPixelStore(gl);
    gl.glBindTexture(GL_TEXTURE_2D, texture);
    GLint w = 0, h = 0;
    gl.glGetTexLevelParameteriv(GL_TEXTURE_2D, 0, GL_TEXTURE_WIDTH, &w);
    gl.glGetTexLevelParameteriv(GL_TEXTURE_2D, 0, GL_TEXTURE_HEIGHT, &h);
    if (w != width || h != height || rowBegin < 0 || rowBegin + nRows > height) {
        gl.glBindTexture(GL_TEXTURE_2D, 0);
        return {};
    }
    std::vector<float> all(size_t(width) * size_t(height));
    gl.glGetTexImage(GL_TEXTURE_2D, 0, GL_RED, GL_FLOAT, all.data());
    gl.glBindTexture(GL_TEXTURE_2D, 0);
    return std::vector<float>(all.begin() + long(rowBegin) * width,
                              all.begin() + long(rowBegin + nRows) * width);
}

std::vector<float> readFloatTextureLayer(GlFunctions& gl, GLuint texture, int width, int height, int layers,
                                         int layer) {
    resetPixelStore(gl);
    gl.glBindTexture(GL_TEXTURE_2D_ARRAY, texture);
    GLint w = 0, h = 0, d = 0;
    gl.glGetTexLevelParameteriv(GL_TEXTURE_2D_ARRAY, 0, GL_TEXTURE_WIDTH, &w);
    gl.glGetTexLevelParameteriv(GL_TEXTURE_2D_ARRAY, 0, GL_TEXTURE_HEIGHT, &h);
    gl.glGetTexLevelParameteriv(GL_TEXTURE_2D_ARRAY, 0, GL_TEXTURE_DEPTH, &d);
    if (w != width || h != height || d != layers || layer < 0 || layer >= layers) {
        gl.glBindTexture(GL_TEXTURE_2D_ARRAY, 0);
        return {};
    }
    std::vector<float> all(size_t(width) * size_t(height) * size_t(layers));
    gl.glGetTexImage(GL_TEXTURE_2D_ARRAY, 0, GL_RED, GL_FLOAT, all.data());
    gl.glBindTexture(GL_TEXTURE_2D_ARRAY, 0);
    const size_t plane = size_t(width) * size_t(height);
    return std::vector<float>(all.begin() + long(plane * size_t(layer)),
                              all.begin() + long(plane * size_t(layer + 1)));
}

}  // namespace kvscope::app
