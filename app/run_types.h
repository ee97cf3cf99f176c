// run_types.h — the values that cross from the engine thread to the GUI thread, and the run settings.
//
// Only immutable values cross threads: a StepTrace is shared as shared_ptr<const StepTrace>; a StepPair
// carries both runs' traces of one lockstep step and the largest logit difference the worker measured.
// Nothing here knows how a step is computed.
#pragma once

#include <QMetaType>
#include <QString>
#include <cmath>
#include <memory>

#include "kvscope/backend.h"
#include "kvscope/cache_policy.h"
#include "kvscope/model.h"
#include "kvscope/recompute_check.h"
#include "kvscope/sampler.h"
#include "kvscope/tokenizer.h"
#include "kvscope/trace.h"

namespace kvscope::app {

// The two runs. Indexes arrays of per-run state everywhere in the app.
enum class Side : int { cached = 0, uncached = 1 };
constexpr int kSideCount = 2;
constexpr Side kSides[kSideCount] = {Side::cached, Side::uncached};
inline int sideIndex(Side side) {
    return static_cast<int>(side);
}
QString sideTitle(Side side);  // "With KV cache" / the right pane's run: "Without KV cache" or a variant
// The right pane's title while it runs a cache variant ("Variant: int4 (groups of 32)"); empty: the run
// without a cache. Set by the main window when the worker applies the settings; read by every view.
void setRightRunTitle(const QString& title);
bool rightRunIsVariant();  // the right pane runs a cache variant (it has a title of its own)

// lockstep: both runs advance one token together (the uncached run is fed the cached run's token);
// race: each run on its own thread at its own speed.
enum class CompareMode { lockstep, race };

// Past the context: how far a cache variant that evicts may run on after the exact cache has stopped.
constexpr int kPastContextTokens = 2048;
// The most tokens a run may reach: its `capacity`, or for a cached run whose cache evicts (it holds at most
// its budget of rows) on a model whose positions go on (RoPE; GPT-2's learned positions end at its context)
// kPastContextTokens or as far as the history budget holds (its attention rows still span every position)
// — past the context, where the exact cache must stop.
int runTokenLimit(const kvscope::ModelConfig& config, int capacity, bool cachedRun,
                  const kvscope::CachePolicy& cache);
QString compareModeName(CompareMode mode);

// What the worker reports about a freshly loaded model.
struct ModelInfo {
    QString path;
    QString displayName;  // file or folder name
    QString format;       // "safetensors", "gguf", "llama2.c"
    std::shared_ptr<const kvscope::Model> model;
    std::shared_ptr<const kvscope::Tokenizer> tokenizer;  // null: the prompt is typed as token ids
    int capacity = 0;      // tokens a run may reach (the model's context, or less: see capacityNote)
    QString capacityNote;  // why the capacity is below the model's context, or empty
    QString backendName;   // "CPU (Eigen, 2 threads)"

    bool valid() const { return model != nullptr; }
    const kvscope::ModelConfig& config() const { return model->config; }
};

// Lockstep: the K and V rows the uncached run rebuilt at one step (positions [0, rows), which the cached
// run kept from earlier steps), compared with the cached run's rows (core's compare_kv_rows). The per-row
// differences are kept for the latest step only (the store drops them from older steps); the summary stays.
struct RecomputeCheck {
    int rows = 0;         // positions rebuilt although the cache held them
    float maxAbs = 0.0f;  // the largest |Δ| over every layer, row, KV head and dimension
    int worstLayer = -1, worstRow = -1;
    kvscope::RowsDifference diff;  // [layer][row] largest |Δ|; empty in older steps
};
using RecomputeCheckPtr = std::shared_ptr<const RecomputeCheck>;

// Both runs' traces of one lockstep step (or of the prefill, which both runs always do together).
struct StepPair {
    kvscope::StepTracePtr cached;
    kvscope::StepTracePtr uncached;
    double maxLogitDiff = NAN;    // max |logit_cached − logit_uncached| over the vocabulary; NaN if unknown
    RecomputeCheckPtr recompute;  // the rebuilt rows against the cached ones (null: the prefill, a variant)
    quint64 epoch = 0;            // the worker's epoch of the request that made it (stale ones are dropped)
    // A prefill: the layer and head its attention is clearest on (kvscope::informative_head, scored by the
    // worker: at long prompts it reads every weight of every head, too much for the GUI thread); −1: none.
    int openLayer = -1, openHead = -1;
};

struct RunSettings {
    CompareMode mode = CompareMode::lockstep;
    kvscope::DeviceKind device = kvscope::DeviceKind::cpu;
    kvscope::SamplerConfig sampler;
    double tokensPerSecond = 8.0;  // play speed; 0: as fast as the engine goes
    // The right pane's run: empty, the run without a KV cache (the default); else a cache variant spec
    // (kvscope/cache_policy.h: "int4", "sinks:S=4,W=60"), a cached run over that cache, measured against
    // the left pane's exact cache.
    QString rightRun;
    // Lockstep with a variant: false, the variant is fed the exact run's token (quality measured at every
    // step); true, it picks its own tokens, and the texts may diverge.
    bool freeRunning = false;
};

}  // namespace kvscope::app

Q_DECLARE_METATYPE(kvscope::app::ModelInfo)
Q_DECLARE_METATYPE(kvscope::app::StepPair)
Q_DECLARE_METATYPE(kvscope::app::RunSettings)
Q_DECLARE_METATYPE(kvscope::app::Side)
Q_DECLARE_METATYPE(kvscope::StepTracePtr)
Q_DECLARE_METATYPE(std::vector<int32_t>)

namespace kvscope::app {
// Registers the types above for queued connections; call once before the worker thread starts.
void registerMetaTypes();
}  // namespace kvscope::app
