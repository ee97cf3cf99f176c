// kv_cache_renderer.h — the KV cache of one run: for every layer, K and V of every KV head as heatmaps
// (a row per token, a column per dimension) that grow a row per step, the rows the selected step wrote
// highlighted, each layer's bytes beside it and the size formula with this model's numbers above.
//
// Any number of layers: while each head's block stays readable every layer is drawn side by side; past
// that (12 layers × 12 heads, 30 layers × 3 KV heads…) an overview draws every layer as one column (K | V
// of all its KV heads) as tall as the context and filled to the rows held — the growth of the whole cache —
// above the selected layer in detail. A click on a column selects the layer.
//
// The uncached run keeps no cache: its view shows the K and V it rebuilt from scratch this step. The rows
// it rebuilt although a cache would have kept them (positions before the step's new ones) are swept and
// marked, and beside each layer a strip proves them the same numbers again: the per-row max |Δ| against the
// cached run's rows (RecomputeCheck, measured by the worker in lockstep from both sessions), in the cached
// run's colour where they agree and the error colour where not; hovering a row states its |Δ|, and the
// header counts the rows rebuilt this step and so far (the run's tokens_recomputed counter). The values
// shown come from the trace when the worker recorded every recomputed row; past kRecomputedRowsLimitBytes
// only the new row is recorded and the older rows shown are the ones earlier steps computed.
//
// A cache variant (the right pane's run over a quantized or evicting cache): the rows are drawn as the
// attention reads them (dequantized); clicking the legend's "error" item draws instead each value's error
// (stored − computed) on its own scale; positions the cache no longer holds in a layer and KV head (as its
// policy decided) are drawn as gone, struck through; attention sinks are marked at the left edge.
//
// Textures: per layer one R32F texture for K and one for V, [rows = positions][columns = all KV heads'
// dimensions]; new rows go up with glTexSubImage2D. Uploads are keyed by each stored step's serial, so
// rewinding and stepping again re-uploads only the steps that changed. A frame's work follows the pixels:
// heatmaps are shader draws over the textures, the proof strip draws at most one mark per pixel row.
#pragma once

#include <vector>

#include "views/heatmap_draw.h"
#include "views/view_renderer.h"

namespace kvscope::app {

// The colour range of one layer's K and V heatmaps: three standard deviations about zero or the largest
// |value|, whichever is smaller (one outlier should not wash the map out), over the rows the steps so far
// added. The view and the SVG export both colour with it.
struct KvValueStats {
    float absK = 0, absV = 0;
    double sqK = 0, sqV = 0;
    double n = 0;
    float errK = 0, errV = 0;  // the largest |stored − computed| (a lossy cache), for the error overlay
    // Adds the rows `trace` wrote at its own positions in `layer` (not rows it recomputed).
    void addNewRows(const StepTrace& trace, int layer);
    float range(bool key) const;
};

class KvCacheRenderer : public ViewRenderer {
  public:
    explicit KvCacheRenderer(Side side) : m_side(side) {}
    const char* name() const override { return "kv_cache"; }
    void releaseGL(GlResources& gl) override;
    void render(FrameContext& frame) override;
    bool affectedBy(const StoreChange& change, Side side) const override;
    bool animating() const override { return m_animating; }

    // For tests: rows [rowBegin, rowBegin + nRows) of one layer's K (or V) texture as [nRows][kv_dim]
    // (KV head h's dimensions at columns h·head_dim ...). The GL context must be current.
    std::vector<float> textureRows(GlResources& gl, int layer, bool key, int rowBegin, int nRows) const;
    int uploadedSteps() const { return int(m_uploaded.size()); }
    // Layers the last frame showed in its overview (0: every layer was drawn in full).
    int overviewLayers() const { return int(m_layerBoxes.size()); }
    // Where the last frame drew one KV head's K (or V) block of a layer, positions top to bottom
    // (framebuffer pixels); empty if it did not. The colour range it used: rangeFor().
    QRectF headRect(int layer, bool key, int head) const;
    float rangeFor(int step, int layer, bool key) const;

    // The value of dimension `dim` of KV head `head`'s K (or V) row at position `row`, as run `side` had it
    // at step `step`: from the newest recorded copy at or before the step (the uncached run's latest step
    // holds every row it recomputed), with the step that wrote it. What hover shows and export colours.
    static bool valueAt(const TraceStore& store, Side side, int step, int layer, bool key, int head, int row,
                        int dim, float* value, int* writtenBy);

  private:
    struct HeadBox {  // where one KV head's K or V block is drawn (for hover and clicks)
        ImVec2 a, b;
        int layer = 0, head = 0;
        bool key = true;
    };

    struct LayerBox {  // a layer's column in the overview, or the proof strip beside a layer
        ImVec2 a, b;
        int layer = 0;
    };
    using ProofBox = LayerBox;
    struct LegendItem {
        QColor swatch;
        const std::vector<QColor>* bar = nullptr;  // a colour map instead of a swatch
        QString text;
        bool errorSwitch = false;  // a click switches the lossy cache's error overlay on or off
        bool struck = false;       // drawn as the evicted rows are: the panel, struck through, outlined
    };
    // The header's title and size for a run's step (the size: what the cache holds, or what was rebuilt).
    static QString headerTitle(const StepTrace* trace, Side side);
    static QString headerSize(const StepTrace& trace, const ModelConfig& config);
    // The lines above the heatmaps: what the step kept (cached) or rebuilt and how it compares (uncached).
    static QStringList stepLines(const TraceStore& store, Side side, int step);
    static std::vector<LegendItem> legendItems(const Theme& theme, const StepTrace& trace, bool errorShown);
    static float legendItemWidth(const FrameContext& frame, ImFont* font, const LegendItem& item);

    void sync(FrameContext& frame);
    void releaseTextures(GlResources& gl);
    // Every layer at once: a column per layer, K | V of all KV heads, as tall as the context and filled to
    // the rows held (the cache's growth); a click selects the layer shown in detail below.
    void drawOverview(FrameContext& frame, ImDrawList* dl, const QRectF& band, int rows, int step,
                      KvHeadDraw d);
    void drawHover(FrameContext& frame, const HeadBox& box, int rows, float rowPx, int step);

    Side m_side;
    const Model* m_model = nullptr;  // the textures match this model's shape
    int m_layers = 0, m_kvHeads = 0, m_headDim = 0, m_texRows = 0;
    std::vector<GLuint> m_k, m_v;
    std::vector<GLuint> m_errK, m_errV;  // stored − computed, per layer (made when a lossy trace arrives)
    bool m_showError = false;
    std::vector<quint64> m_uploaded;                 // serial of each uploaded step, by step index
    std::vector<std::vector<KvValueStats>> m_stats;  // [step][layer], cumulative up to the step
    quint64 m_arrivalSerial = 0;                     // the newest step uploaded, and when (for animations)
    double m_arrivalTime = 0.0;
    bool m_animating = false;
    std::vector<HeadBox> m_boxes;
    std::vector<LayerBox> m_layerBoxes;
    std::vector<ProofBox> m_proofBoxes;
};

}  // namespace kvscope::app
