#include "headless_run.h"

#include "kvscope/cache_policy.h"

#include "app_paths.h"
#include "engine_worker.h"
#include "prompt_parser.h"
#include "trace_store.h"

namespace kvscope::app {

Status runHeadless(const HeadlessRun& run, TraceStore& store,
                   const std::function<void(int done, int total)>& progress) {
    QString path = run.model;
    if (path.isEmpty()) {
        path = defaultModelPath();
        if (path.isEmpty())
            return Status::error(
                QStringLiteral("no --model given and the embedded model is not installed (looked for %1)")
                    .arg(defaultModelCandidates().join(QStringLiteral(", ")))
                    .toStdString());
    }
    // The worker answers through signals; on this thread they arrive at once (direct connections).
    EngineWorker worker;
    QString error;
    ModelInfo info;
    QObject::connect(&worker, &EngineWorker::modelLoaded, [&](const ModelInfo& loaded) { info = loaded; });
    QObject::connect(&worker, &EngineWorker::loadFailed,
                     [&](const QString&, const QString& message) { error = message; });
    QObject::connect(&worker, &EngineWorker::settingsRejected,
                     [&](const QString& message, const RunSettings&) { error = message; });
    QObject::connect(&worker, &EngineWorker::stepFailed, [&](const QString& message) { error = message; });
    QObject::connect(&worker, &EngineWorker::reachedEnd, [&](const QString& message) { error = message; });
    QObject::connect(&worker, &EngineWorker::stepped, [&](const StepPair& pair) {
        store.appendPair(pair);
        worker.acknowledge();
    });
    auto failed = [&](const QString& what) {
        worker.shutdown();
        return Status::error((what + QStringLiteral(": ") + error).toStdString());
    };

    RunSettings settings;  // lockstep on the CPU, as the window starts
    settings.sampler = run.sampler;
    settings.rightRun = run.rightRun;
    // Views name the right pane after its run (as the window does when it applies the setting).
    QString title;
    if (!run.rightRun.isEmpty())
        if (auto p = parse_cache_variant(run.rightRun.toStdString()))
            title = QStringLiteral("Variant: %1").arg(QString::fromStdString(p.value().describe()));
    setRightRunTitle(title);
    worker.applySettings(settings, worker.epoch());  // before the load: the sessions are built with them
    if (!error.isEmpty()) return failed(QStringLiteral("sampler"));
    worker.loadModel(path, worker.epoch());
    if (!error.isEmpty() || !info.valid()) return failed(path);
    store.setModel(info);
    if (run.checkModel) {
        if (Status st = run.checkModel(info.config()); !st) {
            worker.shutdown();
            return st;
        }
    }

    PromptRules rules;
    rules.tokenizer = info.tokenizer.get();
    rules.vocabSize = info.config().vocab_size;
    rules.capacity = info.capacity;
    Result<std::vector<int32_t>> prompt = parsePrompt(run.prompt, rules);
    if (!prompt) {
        error = QString::fromStdString(prompt.message());
        return failed(QStringLiteral("prompt"));
    }
    const int needed = int(prompt->size()) + run.steps;
    if (needed > info.capacity) {
        error = QStringLiteral(
                    "%1 prompt tokens and %2 steps need %3 positions; a run of %4 holds %5%6 (ask for at "
                    "most %7 steps)")
                    .arg(prompt->size())
                    .arg(run.steps)
                    .arg(needed)
                    .arg(info.displayName)
                    .arg(info.capacity)
                    .arg(info.capacityNote.isEmpty()
                             ? QString()
                             : QStringLiteral(" (") + info.capacityNote + QStringLiteral(")"))
                    .arg(info.capacity - int(prompt->size()));
        return failed(QStringLiteral("steps"));
    }
    const int total = run.steps + 1;
    worker.prefill(*prompt, worker.epoch());
    if (!error.isEmpty()) return failed(QStringLiteral("prefill"));
    if (progress) progress(1, total);
    for (int i = 1; i < total; ++i) {
        worker.step(-1, worker.epoch());
        if (!error.isEmpty()) return failed(QStringLiteral("step %1").arg(i));
        if (progress) progress(i + 1, total);
    }
    worker.shutdown();
    return Status::ok();
}

}  // namespace kvscope::app
