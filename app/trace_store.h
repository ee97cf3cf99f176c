// trace_store.h — the GUI thread's record of both runs, and what the user has selected in it.
//
// The store keeps every step of both runs (the immutable StepTraces the worker sent), so the timeline
// can scrub back to any of them without asking the engine, and the selection: which step, layer and head
// every view shows. Views never keep their own copy of the history: they draw from the store at the
// selected step, and learn about changes through the one changed(StoreChange) signal.
//
// Memory: a run's history grows with the square of its length (attention rows); the worker caps the run
// length (historyTokenLimit) so both histories fit historyBudgetBytes(). The uncached run's recomputed K/V
// rows (every row, each step) are kept only for its latest step: when a newer step arrives, the older
// trace is replaced by a copy holding only its new rows (the values are the same: the recomputation gives
// the rows the cache would have held).
#pragma once

#include <QObject>
#include <array>
#include <vector>

#include "run_types.h"

namespace kvscope::app {

struct StoreChange {
    enum class Kind {
        model,      // a new model: everything is new
        cleared,    // both histories emptied
        appended,   // a step was added to `side` at `index`
        truncated,  // both histories cut to `index` steps
        selection,  // step, layer, head or attention layout changed (see `fields`)
    };
    enum Field : unsigned { stepField = 1, layerField = 2, headField = 4, layoutField = 8, scaleField = 16 };
    Kind kind = Kind::cleared;
    Side side = Side::cached;
    int index = 0;
    unsigned fields = 0;
};

class TraceStore : public QObject {
    Q_OBJECT
  public:
    struct Step {
        StepTracePtr trace;
        double maxLogitDiff = NAN;    // lockstep: max |logit difference| between the runs at this step
        quint64 serial = 0;           // unique per stored step: renderers remember what they uploaded by it
        RecomputeCheckPtr recompute;  // lockstep, uncached run: its rebuilt rows against the cached ones
    };

    explicit TraceStore(QObject* parent = nullptr);

    // --- model and history ---------------------------------------------------------------------------
    void setModel(const ModelInfo& info);  // clears the history
    const ModelInfo& model() const { return m_model; }
    bool hasModel() const { return m_model.valid(); }
    void clear();
    void appendPair(const StepPair& pair);
    void append(Side side, const StepTracePtr& trace, double maxLogitDiff = NAN,
                RecomputeCheckPtr recompute = nullptr);
    // The rows the uncached run rebuilt by step `index`, summed over its steps (what "so far" counts).
    int64_t rowsRebuiltUpTo(int index) const;
    void truncate(int keepSteps);  // both runs keep their first keepSteps steps

    int stepCount(Side side) const { return int(m_steps[size_t(sideIndex(side))].size()); }
    int maxStepCount() const;
    bool empty() const { return maxStepCount() == 0; }
    const std::vector<Step>& steps(Side side) const { return m_steps[size_t(sideIndex(side))]; }
    const Step& step(Side side, int index) const { return m_steps[size_t(sideIndex(side))][size_t(index)]; }
    const StepTrace* trace(Side side, int index) const;  // null when out of range
    uint64_t bytesHeld() const { return m_bytes; }

    // --- derived views of the history ------------------------------------------------------------------
    // Tokens fed up to and including step `index` (prompt first).
    std::vector<int32_t> tokensUpTo(Side side, int index) const;
    // The step that sampled the token at `position` (a generated token), or -1 for a prompt token.
    int stepThatChose(Side side, int position) const;
    int promptLength(Side side) const;
    // The step at which both runs have the same sequence length, at or before the selection: a race
    // leaves one run ahead, and a comparison of the two (FLOPs, time, bytes) is only fair at equal length.
    // Step i of either run ends at the same position (both start from the same prompt and add a token a
    // step), so it is the smaller of the two runs' selected steps; -1 when a run has no step.
    int sameLengthStep() const;

    // --- selection ---------------------------------------------------------------------------------------
    // The selected step on the timeline (0: the prefill); -1 when nothing has run. In race mode the runs
    // have different lengths: stepFor() clamps the selection to a run's history.
    int selectedStep() const { return m_selectedStep; }
    int stepFor(Side side) const;
    bool followsLatest() const { return m_follow; }
    int layer() const { return m_layer; }
    int head() const { return m_head; }
    bool allHeads() const { return m_allHeads; }

    // How the attention view colours weights (both panes and export alike): linear, √ (gamma 0.5) or log
    // (1e-4 … 1); each row divided by its largest weight or not; at long contexts, only the last query rows
    // that fit at a readable size (zoom) or every row.
    enum class AttentionScale { linear, sqrt, log };
    AttentionScale attentionScale() const { return m_attentionScale; }
    bool attentionRowNormalised() const { return m_rowNormalised; }
    bool attentionZoom() const { return m_attentionZoom; }
    void setAttentionScale(AttentionScale scale);
    void setAttentionRowNormalised(bool on);
    void setAttentionZoom(bool on);
    // The page of the counters table when a view cannot show every row at once (both panes alike).
    int countersPage() const { return m_countersPage; }
    void setCountersPage(int page);

    void selectStep(int index);  // clamped; selecting the last step follows new steps again
    void selectLatest();
    void selectLayer(int layer);
    void selectHead(int head);
    // The layer and head the views open on after a prefill when the user has not picked one (the worker
    // scores the prefill's heads: StepPair::openLayer/openHead).
    void openOnHead(int layer, int head);
    void setAllHeads(bool all);

  signals:
    void changed(const kvscope::app::StoreChange& change);

  private:
    void emitSelection(unsigned fields);
    static uint64_t traceBytes(const StepTrace& t);

    ModelInfo m_model;
    std::array<std::vector<Step>, kSideCount> m_steps;
    quint64 m_nextSerial = 1;
    uint64_t m_bytes = 0;
    int m_selectedStep = -1;
    bool m_follow = true;
    int m_layer = 0, m_head = 0;
    bool m_allHeads = false;
    // Until the user picks a layer or head, each prefill opens on its most informative head.
    bool m_userPickedHead = false;
    AttentionScale m_attentionScale = AttentionScale::sqrt;
    bool m_rowNormalised = true;
    bool m_attentionZoom = true;
    int m_countersPage = 0;
};

// A copy of `trace` keeping only the K/V rows of the positions it fed (drops recomputed rows).
StepTracePtr keepNewKVRows(const StepTrace& trace);

}  // namespace kvscope::app

Q_DECLARE_METATYPE(kvscope::app::StoreChange)
