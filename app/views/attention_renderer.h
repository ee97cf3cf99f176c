// attention_renderer.h — the attention of one run: for the selected layer, each query head's softmax
// weights as a lower-triangular heatmap (a row per query position, a column per key position), either
// one head large or all heads as small multiples grouped by the KV head they share (GQA made visible).
// The rows the selected step computed are outlined; hover names the query token, the key token and the
// weight.
//
// Texture: a 2D array, one R32F layer per query head, [queries][keys], for the selected layer; its size
// grows in powers of two with the sequence; rows go up with glTexSubImage3D as steps arrive and the whole
// layer is uploaded again only when the layer changes.
#pragma once

#include <vector>

#include "views/view_renderer.h"

namespace kvscope::app {

class AttentionRenderer : public ViewRenderer {
  public:
    explicit AttentionRenderer(Side side) : m_side(side) {}
    const char* name() const override { return "attention"; }
    void releaseGL(GlResources& gl) override;
    void render(FrameContext& frame) override;
    bool affectedBy(const StoreChange& change, Side side) const override;

    // For tests: head `head`'s rows [0, n) over keys [0, n) of the uploaded layer, as [n][n].
    std::vector<float> textureRows(GlResources& gl, int head, int n) const;
    int uploadedLayer() const { return m_layer; }
    // Where the last frame drew head `head`'s heatmap (framebuffer pixels); empty if it did not.
    QRectF tileRect(int head) const;

    // The weight query `query` gave key `key` in head `head` of `layer`, as the trace recorded it.
    static bool weightAt(const TraceStore& store, Side side, int step, int layer, int head, int query,
                         int key, float* weight);

  private:
    struct Tile {
        ImVec2 a, b;
        int head = 0;
    };
    void sync(FrameContext& frame);
    void releaseTexture(GlResources& gl);
    void drawHeader(FrameContext& frame, float& y);
    void drawTile(FrameContext& frame, ImDrawList* dl, const Tile& tile, int cells, const StepTrace& t,
                  bool large);
    void drawHover(FrameContext& frame, const Tile& tile, int cells, int step);

    Side m_side;
    const Model* m_model = nullptr;
    int m_layer = -1;  // layer held by the texture
    int m_heads = 0;
    int m_size = 0;  // texture width = height (positions)
    GLuint m_texture = 0;
    std::vector<quint64> m_uploaded;
    std::vector<Tile> m_tiles;
};

}  // namespace kvscope::app
