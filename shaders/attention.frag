// attention.frag — one head's attention probabilities as a heatmap: a row per query position, a column
// per key position. Causal: a query never attends to later keys, so cells right of the diagonal are
// drawn as masked, not as zero. The rows computed by the selected step are outlined.
// Sampling is exact (texelFetch); where a pixel covers several cells it shows the largest weight.
#version 330 core

in vec2 vLocal;
out vec4 fragColor;

uniform sampler2DArray uData;  // R32F: x = key, y = query, layer = head
uniform sampler2D uLut;        // 256 x 1 RGBA8, sequential
uniform vec4 uRect;            // pixels
uniform int uHead;
uniform int uCells;            // queries = keys shown
uniform ivec2 uQueryRows;      // [begin, end): rows of the selected step
uniform vec4 uRowColor;
uniform vec4 uMaskColor;
uniform vec4 uGridColor;
uniform float uGamma;          // 1: linear; < 1 lifts small weights

void main() {
    vec2 cellSize = uRect.zw / float(uCells);
    vec2 p = vLocal * uRect.zw;
    ivec2 c0 = clamp(ivec2(floor(p / cellSize)), ivec2(0), ivec2(uCells - 1));
    ivec2 c1 = clamp(ivec2(floor((p + vec2(1.0)) / cellSize - vec2(1e-4))), c0, min(c0 + ivec2(7), ivec2(uCells - 1)));
    int query = c0.y, key = c0.x;
    vec3 colour;
    if (key > c1.y) {
        colour = uMaskColor.rgb;  // every key under this pixel lies after every query: masked
    } else {
        float w = texelFetch(uData, ivec3(c0.x, c0.y, uHead), 0).r;
        if (c1 != c0) {  // several cells under this pixel: the largest weight among them
            for (int y = c0.y; y <= c1.y; ++y)
                for (int x = c0.x; x <= min(c1.x, y); ++x) w = max(w, texelFetch(uData, ivec3(x, y, uHead), 0).r);
        }
        float t = pow(clamp(w, 0.0, 1.0), uGamma);
        colour = texture(uLut, vec2(t * (255.0 / 256.0) + 0.5 / 256.0, 0.5)).rgb;
    }
    vec2 inCell = p - vec2(c0) * cellSize;
    if (query >= uQueryRows.x && query < uQueryRows.y) {
        float edge = max(1.0, min(3.0, cellSize.y * 0.2));
        bool top = query == uQueryRows.x && inCell.y < edge;
        bool bottom = query == uQueryRows.y - 1 && inCell.y > cellSize.y - edge;
        colour = mix(colour, uRowColor.rgb, (top || bottom) ? uRowColor.a : uRowColor.a * 0.12);
    }
    float gridX = cellSize.x >= 6.0 && inCell.x < 1.0 ? 1.0 : 0.0;
    float gridY = cellSize.y >= 6.0 && inCell.y < 1.0 ? 1.0 : 0.0;
    colour = mix(colour, uGridColor.rgb, max(gridX, gridY) * uGridColor.a);
    fragColor = vec4(colour, 1.0);
}
