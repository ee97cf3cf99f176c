// heatmap.vert — one screen rectangle (uRect, in framebuffer pixels, y down) drawn as a 4-vertex strip
// made from gl_VertexID, so no vertex buffer is needed. vLocal runs 0..1 across the rectangle, y down.
#version 330 core

uniform vec4 uRect;          // x, y, width, height in pixels, origin at the top left
uniform vec2 uFramebuffer;   // framebuffer size in pixels

out vec2 vLocal;

void main() {
    vec2 corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
    vec2 pixel = uRect.xy + corner * uRect.zw;
    vLocal = corner;
    gl_Position = vec4(pixel.x / uFramebuffer.x * 2.0 - 1.0, 1.0 - pixel.y / uFramebuffer.y * 2.0, 0.0, 1.0);
}
