#include "engine_worker.h"

#include <unistd.h>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <cmath>

#include "engine_worker_race.h"
#include "kvscope/attention_stats.h"

namespace kvscope::app {

namespace {

// The largest |a − b| between the last logits rows of two sessions (read from the sessions, so the traces
// the GUI keeps need not carry a vocabulary-sized row each).
double maxLogitDiff(const Session& a, const Session& b) {
    const int vocab = a.engine().config().vocab_size;
    auto la = a.logits(), lb = b.logits();
    if (vocab <= 0 || la.size() < size_t(vocab) || lb.size() < size_t(vocab)) return NAN;
    la = la.subspan(la.size() - size_t(vocab));
    lb = lb.subspan(lb.size() - size_t(vocab));
    double worst = 0.0;
    for (size_t i = 0; i < la.size(); ++i)
        worst = std::max(worst, double(std::fabs(la[i] - lb[i])));
    return worst;
}

// Lockstep: the K and V rows the uncached run rebuilt this step (positions before `rebuilt`), against the
// cached run's (null when none were rebuilt or the comparison failed).
RecomputeCheckPtr checkRecomputedRows(const Session& cached, const Session& uncached, int rebuilt) {
    if (rebuilt <= 0) return nullptr;
    auto diff = compare_kv_rows(cached, uncached, rebuilt);
    if (!diff) return nullptr;
    auto check = std::make_shared<RecomputeCheck>();
    check->rows = rebuilt;
    check->diff = std::move(diff.value());
    check->maxAbs = check->diff.max_abs(-1, &check->worstRow, &check->worstLayer);
    return check;
}

// The last logits row of a session (the exact run's, for a variant to be measured against).
std::span<const float> lastLogits(const Session& s) {
    const size_t vocab = size_t(s.engine().config().vocab_size);
    auto l = s.logits();
    return l.size() >= vocab ? l.subspan(l.size() - vocab) : std::span<const float>();
}

// Bytes of the K and V rows of `rows` positions over all layers: what recording them costs.
uint64_t kvRowBytes(const ModelConfig& c, int rows) {
    return c.kv_bytes_per_token(4) * uint64_t(std::max(rows, 0));
}

}  // namespace

int sessionTokenLimit(const Session& s) {
    return runTokenLimit(s.engine().config(), s.capacity(), s.mode() == SessionMode::cached,
                         s.options().cache);
}

uint64_t historyBudgetBytes() {
    static const uint64_t budget = [] {
        constexpr uint64_t gib = 1ull << 30;
        uint64_t physical = 0;
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
        const long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
        if (pages > 0 && pageSize > 0) physical = uint64_t(pages) * uint64_t(pageSize);
#endif
        if (physical == 0) return 3 * gib / 2;  // unknown: what a small laptop can spare
        return std::clamp(physical / 6, gib, 4 * gib);
    }();
    return budget;
}

int historyTokenLimit(const ModelConfig& c, uint64_t budgetBytes) {
    // Per run, T tokens keep: attention rows L·H·T²/2 half floats (every query row over its causal keys,
    // trace.h's compact form) and K/V rows 2·L·KVH·hd·T floats. Two runs. Solve
    // 2·(L·H·T² + 8·L·KVH·hd·T) ≤ budget for T.
    const double a = 2.0 * c.n_layers * c.n_heads;
    const double b = 16.0 * c.n_layers * c.n_kv_heads * c.head_dim;
    const double t = (-b + std::sqrt(b * b + 4.0 * a * double(budgetBytes))) / (2.0 * a);
    return std::max(1, int(std::floor(t)));
}

int lockstepThreads() {
    // Every core but one: the GUI thread (and a software OpenGL renderer, where there is no GPU) keeps a
    // core, so the UI stays smooth and the step timings are not disturbed by it.
    return std::max(1, QThread::idealThreadCount() - 1);
}

EngineWorker::EngineWorker(QObject* parent) : QObject(parent) {}

EngineWorker::~EngineWorker() {
    shutdown();
}

quint64 EngineWorker::interrupt() {
    // Epoch first, flag second: a request that checks the epoch after clearing the flag cannot miss it.
    const quint64 e = m_epoch.fetch_add(1) + 1;
    m_playing.store(false);
    m_cancel.store(true);
    if (m_race) m_race->requestStop();
    return e;
}

void EngineWorker::requestPause() {
    m_playing.store(false);
    if (m_race) m_race->requestStop();
}

bool EngineWorker::begin(quint64 epoch) {
    if (epoch != m_epoch.load()) return false;
    m_cancel.store(false);
    m_requestEpoch = epoch;
    return epoch == m_epoch.load();
}

bool EngineWorker::ready() {
    if (m_runs[0].session && m_runs[1].session) return true;
    emit stepFailed(tr("No model is loaded. Open one with File ▸ Open model…"));
    return false;
}

QString EngineWorker::stepError(const std::string& message) const {
    return QString::fromStdString(message);
}

// ---- model and sessions ----------------------------------------------------------------------------------

void EngineWorker::loadModel(const QString& path, quint64 epoch) {
    if (!begin(epoch)) return;
    stopPlaying();
    auto loaded = kvscope::load_model(path.toStdString());
    if (!loaded) {
        // The current model (if any) stays: nothing below has run.
        emit loadFailed(path, QString::fromStdString(loaded.message()));
        return;
    }
    QString backendName;
    Status built = buildSessions(loaded.value(), m_settings, &backendName);
    if (!built) {
        emit loadFailed(path, QString::fromStdString(built.message()));
        // buildSessions only replaces the sessions once everything succeeded: the old ones still run.
        return;
    }
    m_model = loaded.value();
    m_identity.reset();
    warmUp();
    ModelInfo info;
    info.path = path;
    info.displayName = QFileInfo(path).fileName();
    info.format = QString::fromStdString(m_model->format);
    info.model = m_model;
    info.tokenizer = m_model->tokenizer;
    info.capacity = m_runs[0].session->capacity();
    info.backendName = backendName;
    if (info.capacity < m_model->config.context_length) {
        info.capacityNote =
            tr("Runs stop at %1 of the model's %2 tokens of context, so the history of both runs "
               "(every attention row and K/V row, for scrubbing) stays under %3 MiB.")
                .arg(info.capacity)
                .arg(m_model->config.context_length)
                .arg(historyBudgetBytes() >> 20);
    }
    m_info = info;
    emit modelLoaded(info);
    emit runReset();
}

Status EngineWorker::buildSessions(const std::shared_ptr<const Model>& model, const RunSettings& settings,
                                   QString* backendName) {
    const ModelConfig& c = model->config;
    const int capacity = std::min(
        {c.context_length, SessionOptions::kDefaultMaxCapacity, historyTokenLimit(c, historyBudgetBytes())});
    // Race: one backend per run, so each run owns its thread; on the CPU each gets one thread (two pools
    // of every core on the same cores thrash). Lockstep: the runs take turns, so they share one backend
    // that uses every core.
    std::array<std::shared_ptr<Engine>, kSideCount> engines;
    const bool race = settings.mode == CompareMode::race;
    for (int i = 0; i < kSideCount; ++i) {
        if (i == 1 && !race) {
            engines[1] = engines[0];
            break;
        }
        if (i == 1 && settings.device == DeviceKind::cuda) {
            engines[1] = engines[0];  // one GPU: one copy of the weights, a stream per session
            break;
        }
        auto backend = make_backend(settings.device, race ? 1 : lockstepThreads());
        if (!backend) return Status::error("CUDA is unavailable: " + backend.message());
        auto engine = Engine::create(model, backend.value());
        if (!engine) return engine.status();
        engines[size_t(i)] = engine.value();
    }
    // The right pane: the run without a cache, or a cached run over a cache variant.
    CachePolicy variant;
    if (!settings.rightRun.isEmpty()) {
        auto parsed = parse_cache_variant(settings.rightRun.toStdString());
        if (!parsed) return parsed.status().with_context("the right pane's run");
        variant = parsed.value();
    }
    std::array<std::unique_ptr<Session>, kSideCount> sessions;
    for (Side side : kSides) {
        SessionOptions o;
        const bool right = side == Side::uncached;
        o.mode = right && settings.rightRun.isEmpty() ? SessionMode::uncached : SessionMode::cached;
        if (right) o.cache = variant;
        o.capacity = capacity;
        o.sampler = settings.sampler;
        auto s = Session::create(engines[size_t(sideIndex(side))], o);
        if (!s) return s.status();
        sessions[size_t(sideIndex(side))] = std::move(s.value());
    }
    for (Side side : kSides) {
        Run& run = m_runs[size_t(sideIndex(side))];
        run.engine = engines[size_t(sideIndex(side))];
        run.session = std::move(sessions[size_t(sideIndex(side))]);
        run.session->set_cancel_flag(&m_cancel);
        run.stepEnd.clear();
        run.chosen.clear();
    }
    *backendName = QString::fromStdString(engines[0]->backend().name());
    if (race) *backendName += tr(" per run, each on its own thread");
    return Status::ok();
}

void EngineWorker::applySettings(const RunSettings& settings, quint64 epoch) {
    // Settings are state, not a request: one sent just before a newer request (a lesson switches the right
    // pane's run and presses Step at once) must still apply, or the window would show a run the worker does
    // not make. Only a current one takes the request slot; the newer request runs on the new sessions.
    if (epoch == m_epoch.load()) begin(epoch);
    const bool rebuild = settings.mode != m_settings.mode || settings.device != m_settings.device ||
                         settings.rightRun != m_settings.rightRun;
    if (Status s = settings.sampler.validate(); !s) {
        emit settingsRejected(QString::fromStdString(s.message()), m_settings);
        return;
    }
    if (settings.device == DeviceKind::cuda) {
        if (!cuda_compiled()) {
            emit settingsRejected(
                tr("This build of KVScope has no CUDA support: it was compiled without the CUDA "
                   "toolkit. The runs stay on the CPU."),
                m_settings);
            return;
        }
        if (Status s = cuda_available(); !s) {
            emit settingsRejected(tr("CUDA is unavailable: %1. The runs stay on the CPU.")
                                      .arg(QString::fromStdString(s.message())),
                                  m_settings);
            return;
        }
    }
    m_tokensPerSecond.store(settings.tokensPerSecond);
    const SamplerConfig& a = settings.sampler;
    const SamplerConfig& b = m_settings.sampler;
    const bool samplerChanged =
        a.temperature != b.temperature || a.top_k != b.top_k || a.top_p != b.top_p || a.seed != b.seed;
    if (samplerChanged && m_race && m_race->running()) stopPlaying();  // the lanes own the sessions
    QString backendName;
    if (rebuild && m_model) {
        stopPlaying();
        Status built = buildSessions(m_model, settings, &backendName);
        if (!built) {
            emit settingsRejected(QString::fromStdString(built.message()), m_settings);
            return;
        }
        m_info.backendName = backendName;
        m_settings = settings;
        warmUp();
        emit settingsApplied(m_settings, backendName);
        emit runReset();
        return;
    }
    m_settings = settings;
    for (Run& run : m_runs)
        if (run.session) run.session->set_sampler(settings.sampler);
    if (m_runs[0].engine) backendName = m_info.backendName;
    emit settingsApplied(m_settings, backendName);
}

void EngineWorker::warmUp() {
    for (Run& run : m_runs) {
        if (!run.session) continue;
        const int vocab = run.session->engine().config().vocab_size;
        const int n = std::min(16, run.session->capacity() - 3);
        if (n < 1 || vocab < 1) continue;
        std::vector<int32_t> tokens;
        for (int i = 0; i < n; ++i)
            tokens.push_back(int32_t((i * 7 + 1) % vocab));
        run.session->set_trace_options(TraceOptions::off());
        auto t = run.session->prefill(tokens);
        for (int i = 0; t && i < 2; ++i)
            t = run.session->decode(t.value()->chosen);
        run.session->reset();  // a failure here is not the user's: the real prefill reports its own
    }
}

void EngineWorker::resetRuns() {
    stopPlaying();
    for (Run& run : m_runs) {
        if (run.session) run.session->reset();
        run.stepEnd.clear();
        run.chosen.clear();
    }
}

void EngineWorker::reset(quint64 epoch) {
    if (!begin(epoch)) return;
    stopPlaying();
    resetRuns();
    emit runReset();
}

void EngineWorker::shutdown() {
    m_playing.store(false);
    m_cancel.store(true);
    if (m_race) {
        m_race->requestStop();
        m_race->stopAndJoin();
        m_race.reset();
    }
    for (Run& run : m_runs) {
        run.session.reset();
        run.engine.reset();
    }
}

// ---- steps -----------------------------------------------------------------------------------------------

void EngineWorker::applyTraceOptions(Run& run, Side side, int nextPosition) {
    TraceOptions t;
    t.attention = RowSelection::new_rows;
    t.kv = RowSelection::new_rows;
    t.top_k = 8;
    t.compact_attention = true;  // the history keeps every row: half precision, causal keys only
    // The uncached run recomputes every row; while that stays small, record them all so the KV view
    // shows the recomputed values arriving (not only the one new row).
    if (side == Side::uncached && run.session->mode() == SessionMode::uncached &&
        kvRowBytes(run.session->engine().config(), nextPosition) <= kRecomputedRowsLimitBytes)
        t.kv = RowSelection::computed_rows;
    run.session->set_trace_options(t);
}

void EngineWorker::record(Run& run, const StepTrace& trace) {
    run.stepEnd.push_back(trace.pos_end);
    run.chosen.push_back(trace.chosen);
}

void EngineWorker::prefill(const std::vector<int32_t>& prompt, quint64 epoch) {
    if (!begin(epoch)) return;
    if (!ready()) return;
    stopPlaying();
    if (prompt.empty()) {
        emit stepFailed(tr("The prompt is empty: type some text (or token ids) to run through the model."));
        return;
    }
    const int capacity = m_runs[0].session->capacity();
    if (int(prompt.size()) >= capacity) {
        emit stepFailed(
            tr("The prompt is %1 tokens long, but this model can hold %2 tokens in all (its context%3), "
               "and at least one must be left to generate. Shorten the prompt.")
                .arg(prompt.size())
                .arg(capacity)
                .arg(capacity < m_model->config.context_length ? tr(", limited for the history")
                                                               : QString()));
        return;
    }
    resetRuns();
    StepPair pair;
    std::array<StepTracePtr, kSideCount> traces;
    for (Side side : kSides) {
        Run& run = m_runs[size_t(sideIndex(side))];
        applyTraceOptions(run, side, int(prompt.size()));
        emit busy(side, side == Side::cached
                            ? tr("Prefill: computing K and V of %1 prompt tokens").arg(prompt.size())
                            : tr("Computing all %1 prompt tokens").arg(prompt.size()));
        if (side == Side::uncached && run.session->mode() == SessionMode::cached)
            run.session->compare_next_step_with(lastLogits(*m_runs[0].session));
        auto t = run.session->prefill(prompt);
        if (!t) {
            resetRuns();
            emit idle();
            if (!m_cancel.load()) emit stepFailed(stepError(t.message()));
            return;
        }
        record(run, *t.value());
        traces[size_t(sideIndex(side))] = t.value();
    }
    pair.cached = traces[0];
    pair.uncached = traces[1];
    pair.maxLogitDiff = maxLogitDiff(*m_runs[0].session, *m_runs[1].session);
    emitOpeningPair(pair, *pair.cached);
}

void EngineWorker::emitOpeningPair(StepPair& pair, const StepTrace& attention) {
    pair.epoch = m_requestEpoch;
    const HeadScore opening = informative_head(attention, m_model->config.n_heads);
    pair.openLayer = opening.layer;
    pair.openHead = opening.head;
    m_inFlight.fetch_add(1);
    emit stepped(pair);
    emit idle();
}

bool EngineWorker::rewind(int keepSteps) {
    if (keepSteps < 0) return true;
    for (Run& run : m_runs) {
        if (keepSteps >= int(run.stepEnd.size())) continue;
        if (keepSteps == 0) {
            run.session->reset();
            run.stepEnd.clear();
            run.chosen.clear();
            continue;
        }
        const int pos = run.stepEnd[size_t(keepSteps - 1)];
        Status s = run.session->can_truncate() ? run.session->truncate(pos) : replay(run, pos);
        if (!s) {
            emit stepFailed(stepError(s.message()));
            return false;
        }
        run.stepEnd.resize(size_t(keepSteps));
        run.chosen.resize(size_t(keepSteps));
    }
    return true;
}

// An evicting cache cannot step back (the rows it dropped are gone): run its tokens again from the start.
Status EngineWorker::replay(Run& run, int pos) {
    const std::vector<int32_t> tokens(run.session->tokens().begin(), run.session->tokens().begin() + pos);
    const int prompt = run.stepEnd.empty() ? pos : std::min(pos, run.stepEnd.front());
    run.session->reset();
    auto p = run.session->prefill(std::span<const int32_t>(tokens.data(), size_t(prompt)));
    if (!p) return p.status();
    for (int i = prompt; i < pos; ++i) {
        auto d = run.session->decode(tokens[size_t(i)]);
        if (!d) return d.status();
    }
    return Status::ok();
}

bool EngineWorker::runLockstepStep() {
    Run& a = m_runs[0];
    Run& b = m_runs[1];
    if (a.chosen.empty() || b.chosen.empty()) {
        emit stepFailed(tr("Nothing to continue: run the prompt first (Prefill)."));
        return false;
    }
    const int position = a.session->position();
    // Past the context: the exact run has stopped, and a cache variant that evicts goes on alone.
    if (position >= a.session->capacity() && b.session->position() >= position &&
        sessionTokenLimit(*b.session) > a.session->capacity())
        return stepPastContext();
    if (position >= a.session->capacity() || b.session->position() != position) {
        emit reachedEnd(
            tr("The sequence has reached %1 tokens, the most this run can hold. Reset or step back to "
               "continue.")
                .arg(a.session->capacity()));
        return false;
    }
    // Lockstep: both runs are fed the cached run's token, so they stay on the same sequence; a free-running
    // variant is fed its own, and is measured against the exact run only while the texts agree.
    const int32_t token = a.chosen.back();
    const bool variant = b.session->mode() == SessionMode::cached;
    const bool freeRun = variant && m_settings.freeRunning;
    const int32_t tokenB = freeRun ? b.chosen.back() : token;
    const bool sameText = !freeRun || (tokenB == token && b.session->tokens() == a.session->tokens());
    applyTraceOptions(a, Side::cached, position + 1);
    applyTraceOptions(b, Side::uncached, position + 1);
    emit busy(Side::cached, tr("Decoding 1 token at position %1").arg(position));
    auto ta = a.session->decode(token);
    if (!ta) {
        emit idle();
        if (!m_cancel.load()) emit stepFailed(stepError(ta.message()));
        return false;
    }
    emit busy(Side::uncached, variant ? tr("Decoding 1 token over the variant cache")
                                      : tr("Recomputing all %1 tokens").arg(position + 1));
    if (variant && sameText) b.session->compare_next_step_with(lastLogits(*a.session));
    auto tb = b.session->decode(tokenB);
    if (!tb) {
        // Keep the runs on the same step: undo the cached half.
        (void)a.session->truncate(position);
        emit idle();
        if (!m_cancel.load()) emit stepFailed(stepError(tb.message()));
        return false;
    }
    record(a, *ta.value());
    record(b, *tb.value());
    // Lockstep feeds the cached run's token to both: the right run's own choice is not used (unless it
    // runs free).
    if (!freeRun) b.chosen.back() = ta.value()->chosen;
    StepPair pair;
    pair.cached = ta.value();
    pair.uncached = tb.value();
    pair.maxLogitDiff = maxLogitDiff(*m_runs[0].session, *m_runs[1].session);
    if (!variant) pair.recompute = checkRecomputedRows(*a.session, *b.session, tb.value()->pos_begin);
    pair.epoch = m_requestEpoch;
    m_inFlight.fetch_add(1);
    emit stepped(pair);
    emit idle();
    return true;
}

bool EngineWorker::stepPastContext() {
    Run& b = m_runs[1];
    const int position = b.session->position();
    if (position >= sessionTokenLimit(*b.session)) {
        emit reachedEnd(
            tr("The cache variant has run %1 tokens, %2 past the model's context; KVScope stops it "
               "there. Reset or step back to continue.")
                .arg(position)
                .arg(position - m_runs[0].session->capacity()));
        return false;
    }
    // No exact run to follow here: the variant picks its own tokens, and there is no reference to measure
    // its quality against (kvscope-cli lab measures it, teacher-forced over a long text).
    applyTraceOptions(b, Side::uncached, position + 1);
    emit busy(Side::uncached, tr("Past the context: decoding 1 token at position %1").arg(position));
    auto t = b.session->decode(b.chosen.back());
    if (!t) {
        emit idle();
        if (!m_cancel.load()) emit stepFailed(stepError(t.message()));
        return false;
    }
    record(b, *t.value());
    m_inFlight.fetch_add(1);
    emit raceStepped(Side::uncached, t.value(), m_requestEpoch);
    emit idle();
    return true;
}

void EngineWorker::step(int keepSteps, quint64 epoch) {
    if (!begin(epoch)) return;
    if (!ready()) return;
    stopPlaying();
    if (!rewind(keepSteps)) return;
    if (m_settings.mode == CompareMode::race) {
        // One step of each run, each on its own: the same work as lockstep but each samples for itself.
        for (Side side : kSides) {
            Run& run = m_runs[size_t(sideIndex(side))];
            if (run.chosen.empty()) {
                emit stepFailed(tr("Nothing to continue: run the prompt first (Prefill)."));
                return;
            }
            if (run.session->position() >= sessionTokenLimit(*run.session)) continue;
            applyTraceOptions(run, side, run.session->position() + 1);
            emit busy(side, side == Side::cached
                                ? tr("Decoding 1 token")
                                : tr("Recomputing all %1 tokens").arg(run.session->position() + 1));
            auto t = run.session->decode(run.chosen.back());
            if (!t) {
                emit idle();
                if (!m_cancel.load()) emit stepFailed(stepError(t.message()));
                return;
            }
            record(run, *t.value());
            m_inFlight.fetch_add(1);
            emit raceStepped(side, t.value(), m_requestEpoch);
        }
        emit idle();
        return;
    }
    runLockstepStep();
}

// ---- play ------------------------------------------------------------------------------------------------

void EngineWorker::play(int keepSteps, quint64 epoch) {
    if (!begin(epoch)) return;
    if (!ready()) return;
    stopPlaying();
    if (!rewind(keepSteps)) return;
    if (m_runs[0].chosen.empty()) {
        emit stepFailed(tr("Nothing to continue: run the prompt first (Prefill)."));
        return;
    }
    m_playing.store(true);
    m_playActive = true;
    emit playingChanged(true);
    if (m_settings.mode == CompareMode::race) {
        if (!m_race) m_race = std::make_unique<RaceLanes>(this);
        m_race->start(epoch);
        return;
    }
    scheduleNextPlayStep(0, epoch);
}

void EngineWorker::scheduleNextPlayStep(int delayMs, quint64 epoch) {
    QTimer::singleShot(std::max(0, delayMs), this, [this, epoch] { playTick(epoch); });
}

void EngineWorker::playTick(quint64 epoch) {
    if (!m_playing.load() || epoch != m_epoch.load()) return;
    m_requestEpoch = epoch;
    if (m_inFlight.load() >= kMaxInFlight) {  // the GUI is behind: wait for it
        scheduleNextPlayStep(2, epoch);
        return;
    }
    QElapsedTimer timer;
    timer.start();
    if (!runLockstepStep()) {
        stopPlaying();
        return;
    }
    const double speed = m_tokensPerSecond.load();
    const double period = speed > 0 ? 1000.0 / speed : 0.0;
    scheduleNextPlayStep(int(std::lround(period - double(timer.elapsed()))), epoch);
}

void EngineWorker::stopPlaying() {
    m_playing.store(false);
    if (m_race) m_race->stopAndJoin();
    if (m_playActive) {
        m_playActive = false;
        emit playingChanged(false);
    }
}

void EngineWorker::pause() {
    stopPlaying();
}

void EngineWorker::onLaneFinished(Side side, const QString& reason) {
    if (!reason.isEmpty()) emit reachedEnd(reason);
    if (m_race && !m_race->running()) stopPlaying();
}

}  // namespace kvscope::app
