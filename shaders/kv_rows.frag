// kv_rows.frag — one KV head's K (or V) cache as a heatmap: a row per token, a column per dimension.
//
// The data texture is R32F with a texel per (dimension, position); this head's dimensions start at
// column uColOffset. Values map through a diverging lookup table (uLut) over [-uRange, uRange].
// Sampling is exact: nearest texels via texelFetch; where a pixel covers several texels (a long
// sequence in a short view), it shows the one of largest magnitude, so nothing blurs or aliases away.
// Cell borders, the highlight of the rows this step wrote, and the recomputation sweep of the uncached
// run are computed here from the pixel's position.
#version 330 core

in vec2 vLocal;
out vec4 fragColor;

uniform sampler2D uData;     // R32F: x = dimension (all KV heads side by side), y = position
uniform sampler2D uLut;      // 256 x 1 RGBA8, diverging
uniform vec4 uRect;          // pixels
uniform ivec2 uCells;        // dimensions, rows shown
uniform int uColOffset;      // first column of this head in uData
uniform float uRange;        // |value| mapped to the ends of the colour map
uniform ivec2 uNewRows;      // [begin, end): rows written by the selected step
uniform vec4 uNewColor;
uniform float uSweep;        // rows [0, uSweep) were recomputed this step (< 0: none)
uniform float uSweepFront;   // the row the sweep animation has reached (< 0: finished)
uniform vec4 uSweepColor;
uniform vec4 uGridColor;

float valueAt(int col, int row) { return texelFetch(uData, ivec2(uColOffset + col, row), 0).r; }

void main() {
    vec2 cellSize = uRect.zw / vec2(uCells);
    vec2 p = vLocal * uRect.zw;                       // pixel position inside the rectangle
    ivec2 c0 = ivec2(floor(p / cellSize));
    ivec2 c1 = ivec2(floor((p + vec2(1.0)) / cellSize - vec2(1e-4)));
    c0 = clamp(c0, ivec2(0), uCells - 1);
    c1 = clamp(c1, c0, min(c0 + ivec2(7), uCells - 1));

    // The largest-magnitude value among the texels under this pixel; one fetch when zoomed in (the
    // common case, and the cheap one for a software renderer).
    float v = valueAt(c0.x, c0.y);
    if (c1 != c0) {
        for (int y = c0.y; y <= c1.y; ++y)
            for (int x = c0.x; x <= c1.x; ++x) {
                float s = valueAt(x, y);
                if (abs(s) > abs(v)) v = s;
            }
    }
    float t = clamp(v / max(uRange, 1e-20) * 0.5 + 0.5, 0.0, 1.0);
    vec3 colour = texture(uLut, vec2(t * (255.0 / 256.0) + 0.5 / 256.0, 0.5)).rgb;

    int row = c0.y;
    float rowPixel = p.y - float(row) * cellSize.y;  // pixels below the top of this row
    if (uSweep > 0.0 && float(row) < uSweep) {
        // The uncached run recomputed this row: a tint, brightest at the sweep's moving front.
        float tint = uSweepColor.a * 0.35;
        if (uSweepFront >= 0.0) {
            float d = uSweepFront - (float(row) + 0.5);
            tint = d < 0.0 ? 0.0 : uSweepColor.a * (0.25 + 0.75 * exp(-d / max(float(uCells.y) * 0.08, 1.0)));
        }
        colour = mix(colour, uSweepColor.rgb, tint);
    }
    if (row >= uNewRows.x && row < uNewRows.y) {
        // The rows this step wrote: a band of the highlight colour along their top and bottom edges.
        float edge = max(1.0, min(3.0, cellSize.y * 0.2));
        bool top = row == uNewRows.x && rowPixel < edge;
        bool bottom = row == uNewRows.y - 1 && rowPixel > cellSize.y - edge;
        colour = mix(colour, uNewColor.rgb, (top || bottom) ? uNewColor.a : uNewColor.a * 0.18);
    }
    // Cell borders once cells are big enough to tell apart.
    vec2 inCell = p - vec2(c0) * cellSize;
    float gridX = cellSize.x >= 6.0 && inCell.x < 1.0 ? 1.0 : 0.0;
    float gridY = cellSize.y >= 6.0 && inCell.y < 1.0 ? 1.0 : 0.0;
    colour = mix(colour, uGridColor.rgb, max(gridX, gridY) * uGridColor.a);
    fragColor = vec4(colour, 1.0);
}
