// headless_run.h — both runs of the app (with and without a KV cache, in lockstep) without a window.
//
// The model is loaded and stepped by the app's own EngineWorker — the same sessions, trace options and
// lockstep feeding as the window — but synchronously on the calling thread, and its answers fill a
// TraceStore exactly as the window fills its own. `kvscope export` runs the lesson it draws this way;
// tests use it to get the history the window would have shown. The prompt goes through the app's prompt
// parser (text, or token ids for a model without a tokenizer).
#pragma once

#include <QString>
#include <functional>

#include "kvscope/model.h"
#include "kvscope/sampler.h"
#include "kvscope/status.h"

namespace kvscope::app {

class TraceStore;

struct HeadlessRun {
    QString model;  // empty: the embedded default model, where the app finds it (app_paths.h)
    QString prompt;
    int steps = 0;  // decode steps after the prefill: the history gets steps + 1 steps
    SamplerConfig sampler;
    // Asked once the model is loaded, before the prompt runs: what the caller will need of the model (the
    // layer an export shows) fails fast instead of after every step.
    std::function<Status(const ModelConfig&)> checkModel;
    QString rightRun;  // the right pane's run: empty, without a cache; else a cache variant spec
};

// Loads the model into `store` and runs the prefill and `steps` lockstep steps, appending each. Errors
// name the model, the prompt or the step that failed. `progress(done, total)` follows each step.
Status runHeadless(const HeadlessRun& run, TraceStore& store,
                   const std::function<void(int done, int total)>& progress = {});

}  // namespace kvscope::app
