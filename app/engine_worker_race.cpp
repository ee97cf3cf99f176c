#include "engine_worker_race.h"

#include <QMetaObject>
#include <chrono>

#include "engine_worker.h"

namespace kvscope::app {

void RaceLanes::start(quint64 epoch) {
    stopAndJoin();
    m_stop.store(false);
    m_running.store(kSideCount);
    for (Side side : kSides) {
        // While racing, a lane's session polls the race's stop flag: pausing cancels a long uncached step.
        m_worker->m_runs[size_t(sideIndex(side))].session->set_cancel_flag(&m_stop);
        m_threads[size_t(sideIndex(side))] = std::thread([this, side, epoch] { runLane(side, epoch); });
    }
}

void RaceLanes::requestStop() {
    m_stop.store(true);
}

void RaceLanes::stopAndJoin() {
    m_stop.store(true);
    for (auto& t : m_threads)
        if (t.joinable()) t.join();
    m_running.store(0);
    for (auto& run : m_worker->m_runs)
        if (run.session) run.session->set_cancel_flag(&m_worker->m_cancel);
}

void RaceLanes::runLane(Side side, quint64 epoch) {
    using clock = std::chrono::steady_clock;
    EngineWorker::Run& run = m_worker->m_runs[size_t(sideIndex(side))];
    Session& session = *run.session;
    QString reason;
    double lastStepSeconds = 0.0;
    // A cache variant that evicts runs on past the context; the lane's session keeps its settings.
    const int limit = sessionTokenLimit(session);
    while (!m_stop.load() && epoch == m_worker->m_epoch.load()) {
        if (session.position() >= limit) {
            reason = limit > session.capacity()
                         ? QObject::tr("%1 ran %2 tokens, %3 past the context; KVScope stops it there.")
                               .arg(sideTitle(side))
                               .arg(limit)
                               .arg(limit - session.capacity())
                         : QObject::tr("%1 reached the end of its context (%2 tokens).")
                               .arg(sideTitle(side))
                               .arg(session.capacity());
            break;
        }
        if (m_worker->m_inFlight.load() >= 2 * EngineWorker::kMaxInFlight) {  // the GUI is behind
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
        }
        const auto started = clock::now();
        m_worker->applyTraceOptions(run, side, session.position() + 1);
        // Say a step is under way only when steps have become long enough to see; fast lanes would
        // otherwise flood the GUI with notices.
        if (lastStepSeconds > 0.03)
            emit m_worker->busy(side,
                                side == Side::cached
                                    ? QObject::tr("Decoding 1 token")
                                    : QObject::tr("Recomputing all %1 tokens").arg(session.position() + 1));
        auto trace = session.decode(run.chosen.back());
        if (!trace) {
            if (!m_stop.load()) reason = QString::fromStdString(trace.message());
            break;
        }
        lastStepSeconds = trace.value()->counters.wall_seconds;
        run.stepEnd.push_back(trace.value()->pos_end);
        run.chosen.push_back(trace.value()->chosen);
        m_worker->m_inFlight.fetch_add(1);
        emit m_worker->raceStepped(side, trace.value(), epoch);
        const double speed = m_worker->m_tokensPerSecond.load();
        if (speed > 0) {
            const auto next = started + std::chrono::duration<double>(1.0 / speed);
            while (!m_stop.load() && clock::now() < next)
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    m_running.fetch_sub(1);
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, side, reason] { w->onLaneFinished(side, reason); }, Qt::QueuedConnection);
}

}  // namespace kvscope::app
