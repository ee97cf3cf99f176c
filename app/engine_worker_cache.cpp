// engine_worker_cache.cpp — EngineWorker::saveCache: File ▸ Save cache, on the engine thread.
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

}  // namespace kvscope::app
