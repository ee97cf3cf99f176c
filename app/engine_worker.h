// engine_worker.h — the engine thread: owns the model, the two sessions and every forward pass.
//
// EngineWorker lives on its own QThread. The GUI talks to it with queued calls (load, prefill, step, play,
// pause, reset, settings) and hears back through signals carrying immutable values: StepPair (a prefill or
// a lockstep step of both runs, with the largest logit difference between them), a single StepTracePtr
// per run in race mode, or an error string. It never touches a widget.
//
// Staleness: every request carries the epoch the GUI saw when it made it. interrupt() (reset, load, new
// prompt, rewind) bumps the epoch and raises the cancel flag every session polls between layers, so a
// long uncached step gives up at once and requests queued before the interrupt are dropped unrun.
//
// Race mode: each run steps on its own std::thread (engine_worker_race.cpp) with its own one-thread CPU
// backend — two OpenMP pools of all cores on a two-core machine would thrash each other.
#pragma once

#include <QObject>
#include <QString>
#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "kvscope/cache_file.h"
#include "kvscope/session.h"
#include "run_types.h"

namespace kvscope::app {

class RaceLanes;

class EngineWorker : public QObject {
    Q_OBJECT
  public:
    explicit EngineWorker(QObject* parent = nullptr);
    ~EngineWorker() override;

    // --- thread-safe controls: the GUI calls these directly ------------------------------------------
    // Cancels the step in flight and makes every request issued before this call stale. Returns the new
    // epoch, to be passed with the requests that follow.
    quint64 interrupt();
    quint64 epoch() const { return m_epoch.load(); }
    // Stops play (lockstep and race) after the step in flight; race lanes cancel theirs.
    void requestPause();
    // The GUI has taken one result off its queue. Play at full speed never runs more than a few steps
    // ahead of what the GUI has consumed, so the GUI's event queue cannot flood.
    void acknowledge() { m_inFlight.fetch_sub(1); }
    static constexpr int kMaxInFlight = 3;

    // Per-run history rows (K/V or attention) are recorded in full only while they are small: the
    // uncached run records every K/V row it recomputed (so the view can show the recomputation) while one
    // step's rows stay under this many bytes; past it, only the new row.
    static constexpr uint64_t kRecomputedRowsLimitBytes = 4u << 20;

  public slots:
    void loadModel(const QString& path, quint64 epoch);
    // Changes mode, device or sampler. A new mode or device rebuilds the sessions (emits runReset); a
    // sampler change applies to the next step. An impossible setting (CUDA missing) is refused with
    // settingsRejected and the old settings stay.
    void applySettings(const kvscope::app::RunSettings& settings, quint64 epoch);
    void prefill(const std::vector<int32_t>& prompt, quint64 epoch);
    // keepSteps: how many steps of the history to keep before stepping (the GUI rewound to an earlier
    // step); negative: keep them all.
    void step(int keepSteps, quint64 epoch);
    void play(int keepSteps, quint64 epoch);
    void pause();
    void reset(quint64 epoch);
    // Writes the cached run's tokens and K/V (and the token it chose next) to a cache file
    // (kvscope/cache_file.h); answers with cacheSaved. Refused while playing.
    void saveCache(const QString& path);
    // File ▸ Open cache: a saved cache (float32, of this model) becomes step 0 of the run with a KV cache,
    // restored without computing anything (StepTrace::restored); the right run processes the same tokens
    // (without a cache it has nothing to restore; a variant builds its own cache). Answers with stepped
    // (the pair) and cacheOpened.
    void openCache(const QString& path, quint64 epoch);
    // Joins the race threads and frees the sessions; the last call before the thread quits.
    void shutdown();

  signals:
    void modelLoaded(const kvscope::app::ModelInfo& info);
    void loadFailed(const QString& path, const QString& message);
    void stepped(const kvscope::app::StepPair& pair);  // a prefill, or a lockstep step
    // epoch: of the request that made the step; a GUI that interrupted since then drops it.
    void raceStepped(kvscope::app::Side side, const kvscope::StepTracePtr& trace, quint64 epoch);
    void stepFailed(const QString& message);
    void busy(kvscope::app::Side side, const QString& what);  // a step of this run has started
    void idle();                                              // no step in flight
    void playingChanged(bool playing);
    void runReset();  // both sessions are empty
    void settingsApplied(const kvscope::app::RunSettings& settings, const QString& backendName);
    void settingsRejected(const QString& message, const kvscope::app::RunSettings& current);
    void reachedEnd(const QString& message);
    void cacheSaved(const QString& path, const QString& error, int tokens);  // error empty: saved
    // error empty: opened; the tokens restored and the seconds reading and restoring them took.
    void cacheOpened(const QString& path, const QString& error, int tokens, double seconds);

  private:
    struct Run {
        std::shared_ptr<Engine> engine;
        std::unique_ptr<Session> session;
        std::vector<int> stepEnd;     // position after each step
        std::vector<int32_t> chosen;  // token sampled at each step (the next one fed)
    };
    friend class RaceLanes;

    bool begin(quint64 epoch);  // the request is current: clears the cancel flag
    bool ready();               // a model is loaded (else says so)
    Status buildSessions(const std::shared_ptr<const Model>& model, const RunSettings& settings,
                         QString* backendName);
    void applyTraceOptions(Run& run, Side side, int nextPosition);
    // Runs a short prefill and two decode steps on each fresh session, untimed, then empties them: the
    // first timed step must not pay for page faults on the weights, first allocations and thread start-up
    // (a cold prefill measured several times slower than the same prefill a moment later).
    void warmUp();
    bool rewind(int keepSteps);
    Status replay(Run& run, int pos);
    bool runLockstepStep();
    // Lockstep past the exact run's context: the right pane's cache variant steps alone (tokenLimit).
    bool stepPastContext();
    void scheduleNextPlayStep(int delayMs, quint64 epoch);
    void playTick(quint64 epoch);
    void stopPlaying();
    void onLaneFinished(Side side, const QString& reason);
    void record(Run& run, const StepTrace& trace);
    // A prefill's (or a restored cache's) pair goes out: with this request's epoch and the head to open
    // on (the most informative of `attention`'s), counted in flight, then idle.
    void emitOpeningPair(StepPair& pair, const StepTrace& attention);
    void resetRuns();
    QString stepError(const std::string& message) const;

    std::shared_ptr<const Model> m_model;
    // The loaded model's identity for saved caches (a CRC of every weight: hashed once, at the first
    // File ▸ Open cache, not at every one).
    std::optional<CacheModelIdentity> m_identity;
    ModelInfo m_info;
    RunSettings m_settings;
    std::array<Run, kSideCount> m_runs;
    std::unique_ptr<RaceLanes> m_race;

    std::atomic<quint64> m_epoch{1};
    quint64 m_requestEpoch = 0;  // the epoch of the request being served (worker thread only)
    std::atomic<bool> m_cancel{false};
    std::atomic<bool> m_playing{false};
    std::atomic<int> m_inFlight{0};
    std::atomic<double> m_tokensPerSecond{8.0};  // play speed, read by the race lanes
    bool m_playActive = false;                   // between play() and the end of play (worker thread only)
};

// History the GUI keeps per run grows with the square of the sequence (attention rows); this is the most
// tokens a run may reach for the history of both runs to stay under `budgetBytes`.
int historyTokenLimit(const ModelConfig& config, uint64_t budgetBytes);
// The most tokens a session may reach (run_types.h runTokenLimit: a variant that evicts runs on past the
// context).
int sessionTokenLimit(const Session& session);
// The memory the history of both runs may take: a sixth of the machine's memory, at least 1 GiB and at
// most 4 GiB (on a 16 GiB laptop 2.7 GiB: a 30-layer, 9-head model's 2,048 tokens).
uint64_t historyBudgetBytes();
// CPU threads of the shared backend in lockstep mode.
int lockstepThreads();

}  // namespace kvscope::app
