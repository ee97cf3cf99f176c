// attention_renderer.h — the attention of one run: for the selected layer, each query head's softmax
// weights as a lower-triangular heatmap (a row per query position, a column per key position), either
// one head large or all heads as small multiples grouped by the KV head they share (GQA made visible).
// The rows the selected step computed are outlined; hover names the query token, the key token and the
// weight. Readable at long contexts: weights through a √ or log scale, each row scaled to its largest
// weight, and only the last query rows that fit at a readable height (the store's attention settings);
// after a prefill the store opens on an informative head (kvscope::informative_head).
//
// Texture: a 2D array, one R32F layer per query head, [queries][keys], for the selected layer; its size
// grows in powers of two with the sequence; rows go up with glTexSubImage3D as steps arrive and the whole
// layer is uploaded again only when the layer changes. Beside it, each query row's largest weight
// ([heads][queries], R32F), computed for the new rows as they arrive.
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
        int keys = 0;                        // key columns across: [0, keys)
        int queryBegin = 0, queryCount = 0;  // query rows down
    };
    void sync(FrameContext& frame);
    // One step's rows of the selected layer into the texture (full or compact), and their row maxima.
    void uploadRows(GlFunctions& gl, const LayerAttention& a);
    void releaseTexture(GlResources& gl);
    void drawHeader(FrameContext& frame, float& y);
    void drawTile(FrameContext& frame, ImDrawList* dl, const Tile& tile, const StepTrace& t);
    void drawHover(FrameContext& frame, const Tile& tile, int step);

    Side m_side;
    const Model* m_model = nullptr;
    int m_layer = -1;  // layer held by the texture
    int m_heads = 0;
    int m_size = 0;  // texture width = height (positions)
    GLuint m_texture = 0;
    GLuint m_rowMax = 0;  // R32F [heads][m_size]: each query row's largest weight
    std::vector<quint64> m_uploaded;
    std::vector<Tile> m_tiles;
};

}  // namespace kvscope::app
