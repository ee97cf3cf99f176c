// heatmap_draw.h — queues the heatmap shaders (shaders/kv_rows.frag, shaders/attention.frag) into an
// ImGui draw list, and keeps the float data textures they read.
//
// Data textures are R32F, sampled exactly (texelFetch, no filtering), filled a row range at a time with
// glTexSubImage2D/3D as steps arrive; the colour maps are separate lookup textures (GlResources).
#pragma once

#include <QColor>
#include <QRectF>
#include <vector>

#include "views/view_renderer.h"

namespace kvscope::app {

struct KvHeadDraw {
    GLuint texture = 0;            // R32F [rows][kv_dim]
    int colOffset = 0;             // this head's first column
    int cols = 0;                  // head_dim
    int rows = 0;                  // rows shown (positions 0 .. rows-1)
    QRectF rect;                   // pixels
    float range = 1.0f;            // |value| at the ends of the colour map
    int newBegin = 0, newEnd = 0;  // rows the selected step wrote
    float sweepRows = -1.0f;       // rows recomputed by the step (uncached), < 0: none
    float sweepFront = -1.0f;      // animation front in rows, < 0: finished
    QColor newColour, sweepColour, gridColour;
};

// How attention weights map to the colour map (attention.frag and attentionColourPosition agree).
enum class WeightScale { linear = 0, sqrt = 1, log = 2 };

struct AttentionDraw {
    GLuint texture = 0;  // R32F array [heads][queries][keys]
    GLuint rowMax = 0;   // R32F [heads][queries]: each row's largest weight
    int head = 0;
    int keys = 0;                        // key columns shown: [0, keys)
    int queryBegin = 0, queryCount = 0;  // query rows shown
    QRectF rect;
    int rowBegin = 0, rowEnd = 0;  // query rows of the selected step
    WeightScale scale = WeightScale::linear;
    bool rowNormalised = false;
    QColor rowColour, maskColour, gridColour;
};

// Queue the draws; false (and frame.gl.shaders().error()) when the shader failed to build.
bool queueKvHeadDraw(FrameContext& frame, ImDrawList* dl, const KvHeadDraw& d);
bool queueAttentionDraw(FrameContext& frame, ImDrawList* dl, const AttentionDraw& d);

// A colour bar of a lookup table: drawn from the theme's stops with ImGui (no texture needed).
void drawColourBar(ImDrawList* dl, ImVec2 a, ImVec2 b, const std::vector<QColor>& stops, bool vertical);

// Where a value lands on its colour map (0…1), exactly as kv_rows.frag and attention.frag compute it, and
// the colour the lookup texture gives there (linear between neighbouring entries, as the shaders sample
// it): export's SVG and the tests know a cell's colour from the traced value without reading pixels.
float kvColourPosition(float value, float range);
float attentionColourPosition(float weight, float rowMax = 1.0f, WeightScale scale = WeightScale::linear,
                              bool rowNormalised = false);
QRgb lutColour(const std::vector<unsigned char>& lut, float t);

// Sets every pack/unpack parameter to tightly packed rows (call before uploads and read-backs).
void resetPixelStore(GlFunctions& gl);

// R32F and R16F textures --------------------------------------------------------------------------------
GLuint createFloatTexture2D(GlFunctions& gl, int width, int height);
// Half precision (R16F), as the attention history keeps its weights (trace.h: compact rows).
GLuint createHalfTextureArray(GlFunctions& gl, int width, int height, int layers);
// Copies a texture's rows back (tests): [rows][width] floats of rows [rowBegin, rowBegin + nRows).
std::vector<float> readFloatTexture2D(GlFunctions& gl, GLuint texture, int width, int height, int rowBegin,
                                      int nRows);
std::vector<float> readFloatTextureLayer(GlFunctions& gl, GLuint texture, int width, int height, int layers,
                                         int layer);

}  // namespace kvscope::app
