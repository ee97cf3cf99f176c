// attention.frag — one head's attention probabilities as a heatmap: a row per query position, a column
// per key position. Causal: a query never attends to later keys, so cells right of the diagonal are
// drawn as masked, not as zero. The rows computed by the selected step are outlined.
// The rectangle shows keys [0, uKeys) across and queries [uQueryBegin, uQueryBegin + uQueryCount) down
// (at long contexts, the last query rows only). Weights can be divided by their row's largest (uRowMax:
// at 2,000 keys a row's weights are small and a shared scale shows black) and mapped through √ or a log
// scale (1e-4 … 1). Sampling is exact (texelFetch); where a pixel covers several cells it shows the
// largest mapped weight among them (up to 8 × 8). A row whose largest weight is 0 was never computed (a
// saved cache restored its keys, not their attention): it is drawn like the masked cells.
#version 330 core

in vec2 vLocal;
out vec4 fragColor;

uniform sampler2DArray uData;  // R32F: x = key, y = query, layer = head
uniform sampler2D uLut;        // 256 x 1 RGBA8, sequential
uniform sampler2D uRowMax;     // R32F: x = query, y = head: the row's largest weight
uniform vec4 uRect;            // pixels
uniform int uHead;
uniform int uKeys;             // key columns shown
uniform int uQueryBegin;       // first query row shown
uniform int uQueryCount;       // query rows shown
uniform ivec2 uQueryRows;      // [begin, end): rows of the selected step
uniform vec4 uRowColor;
uniform vec4 uMaskColor;
uniform vec4 uGridColor;
uniform int uScale;            // 0 linear, 1 √, 2 log10 over [1e-4, 1]
uniform int uRowNorm;          // 1: each weight divided by its row's largest

float mapped(int key, int query) {
    float w = texelFetch(uData, ivec3(key, query, uHead), 0).r;
    if (uRowNorm == 1) w /= max(texelFetch(uRowMax, ivec2(query, uHead), 0).r, 1e-30);
    w = clamp(w, 0.0, 1.0);
    if (uScale == 1) return sqrt(w);
    if (uScale == 2) return w <= 0.0 ? 0.0 : clamp(1.0 + log(w) / (4.0 * log(10.0)), 0.0, 1.0);
    return w;
}

void main() {
    vec2 cellSize = uRect.zw / vec2(float(uKeys), float(uQueryCount));
    vec2 p = vLocal * uRect.zw;
    ivec2 last = ivec2(uKeys - 1, uQueryCount - 1);
    ivec2 c0 = clamp(ivec2(floor(p / cellSize)), ivec2(0), last);
    ivec2 c1 = clamp(ivec2(floor((p + vec2(1.0)) / cellSize - vec2(1e-4))), c0, min(c0 + ivec2(7), last));
    int query = uQueryBegin + c0.y, key = c0.x;
    vec3 colour;
    if (key > uQueryBegin + c1.y) {
        colour = uMaskColor.rgb;  // every key under this pixel lies after every query: masked
    } else if (texelFetch(uRowMax, ivec2(query, uHead), 0).r <= 0.0 &&
               texelFetch(uRowMax, ivec2(uQueryBegin + c1.y, uHead), 0).r <= 0.0) {
        colour = uMaskColor.rgb;  // rows without attention (restored from a file)
    } else {
        float t = mapped(c0.x, query);
        if (c1 != c0) {  // several cells under this pixel: the largest among them
            for (int y = c0.y; y <= c1.y; ++y)
                for (int x = c0.x; x <= min(c1.x, uQueryBegin + y); ++x) t = max(t, mapped(x, uQueryBegin + y));
        }
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
