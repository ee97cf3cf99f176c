// engine_worker_cache.cpp — File ▸ Save cache and File ▸ Open cache, on the engine thread.
#include <QElapsedTimer>
#include <QFileInfo>

#include "engine_worker.h"
#include "kvscope/cache_file.h"

namespace kvscope::app {

void EngineWorker::saveCache(const QString& path) {
    Run& run = m_runs[size_t(sideIndex(Side::cached))];
    if (m_playing.load()) {
        emit cacheSaved(path, tr("Pause first: the run is still playing."), 0);
        return;
    }
    if (!run.session || run.session->position() == 0 || run.chosen.empty()) {
        emit cacheSaved(path, tr("Nothing to save yet: run the prompt first."), 0);
        return;
    }
    // The token chosen last has not been fed: a resumed run feeds it first.
    const Status st = save_cache_file(*run.session, run.chosen.back(), path.toStdString());
    emit cacheSaved(path, st ? QString() : QString::fromStdString(st.message()), run.session->position());
}

void EngineWorker::openCache(const QString& path, quint64 epoch) {
    if (!begin(epoch)) return;
    if (!ready()) return;
    stopPlaying();
    auto fail = [&](const QString& message) { emit cacheOpened(path, message, 0, 0.0); };
    const std::string name = path.toStdString();
    // The model's side of the check, once per model (hashing every weight), is not part of the restore's
    // time: the timer covers reading the file, its checks and putting the rows back.
    if (!m_identity) m_identity = cache_model_identity(*m_model);
    QElapsedTimer timer;
    timer.start();
    auto file = read_cache_file(name);
    if (!file) return fail(QString::fromStdString(file.message()));
    Run& a = m_runs[size_t(sideIndex(Side::cached))];
    Run& b = m_runs[size_t(sideIndex(Side::uncached))];
    if (file->storage.lossy())
        return fail(tr("%1 holds the cache of a variant that stores %2; the left run keeps the exact float32 "
                       "cache. Resume it on the command line: kvscope-cli generate MODEL --load-cache \"%1\" "
                       "--steps N.")
                        .arg(path, QString::fromStdString(file->storage.describe())));
    const int n = int(file->tokens.size());
    if (n >= a.session->capacity())
        return fail(tr("%1 holds %2 tokens; this window's runs hold %3 (the history limit), and at least one "
                       "must be left to generate.")
                        .arg(path)
                        .arg(n)
                        .arg(a.session->capacity()));
    if (file->next_token < 0) return fail(tr("%1 records no next token to continue with.").arg(path));
    // Every check before the runs are touched: a file that is refused leaves them as they were.
    if (Status st = check_cache_identity(file.value(), *m_identity, name); !st)
        return fail(QString::fromStdString(st.message()));
    resetRuns();
    applyTraceOptions(a, Side::cached, n);
    auto next = restore_cache_file(*a.session, file.value(), name, &*m_identity);
    if (!next) {
        resetRuns();
        return fail(QString::fromStdString(next.message()));
    }
    const double seconds = timer.nsecsElapsed() * 1e-9;  // reading, checking and restoring the file
    StepTracePtr restored = a.session->restored_step(next.value(), seconds);
    record(a, *restored);

    // The right run has no saved cache to start from: it runs the tokens, as it would run a prompt.
    applyTraceOptions(b, Side::uncached, n);
    emit busy(Side::uncached, tr("Computing all %1 restored tokens").arg(n));
    auto tb = b.session->prefill(file->tokens);
    if (!tb) {
        resetRuns();
        emit idle();
        if (!m_cancel.load()) fail(stepError(tb.message()));
        return;
    }
    record(b, *tb.value());
    if (!m_settings.freeRunning || b.session->mode() == SessionMode::uncached)
        b.chosen.back() = next.value();  // lockstep feeds the cached run's token to both
    StepPair pair;
    pair.cached = restored;
    pair.uncached = tb.value();
    pair.maxLogitDiff = NAN;                // the restored run computed no logits
    emitOpeningPair(pair, *pair.uncached);  // the restored run has no attention to open on
    emit cacheOpened(path, QString(), n, seconds);
}

}  // namespace kvscope::app
