// engine_worker_race.h — race mode: each run steps on its own thread, as fast as it can (or at the play
// speed), so the cached run visibly pulls away from the uncached one.
//
// A lane owns its run's session while it races; the worker touches the sessions again only after
// stopAndJoin(). Lanes emit EngineWorker::raceStepped from their own threads (a queued signal is safe
// to emit from any thread) and respect the worker's back-pressure counter.
#pragma once

#include <QString>
#include <array>
#include <atomic>
#include <thread>

#include "run_types.h"

namespace kvscope::app {

class EngineWorker;

class RaceLanes {
  public:
    explicit RaceLanes(EngineWorker* worker) : m_worker(worker) {}
    ~RaceLanes() { stopAndJoin(); }

    void start(quint64 epoch);
    void requestStop();  // thread-safe; the lanes cancel the step in flight
    void stopAndJoin();  // worker thread only
    bool running() const { return m_running.load() > 0; }

  private:
    void runLane(Side side, quint64 epoch);

    EngineWorker* m_worker;
    std::array<std::thread, kSideCount> m_threads;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_running{0};
};

}  // namespace kvscope::app
