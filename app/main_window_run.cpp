// The main window's side of the engine thread: requests out, answers in.
#include <QFileDialog>
#include <QFileInfo>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QStatusBar>
#include <QTimer>
#include <cstdio>

#include "app_paths.h"
#include "engine_worker.h"
#include "explanation_panel.h"
#include "format.h"
#include "main_window.h"
#include "pane_widget.h"
#include "presenter_widget.h"
#include "prompt_parser.h"
#include "sampling_panel.h"

namespace kvscope::app {

void MainWindow::connectWorker() {
    EngineWorker* w = m_worker;
    connect(w, &EngineWorker::modelLoaded, this, &MainWindow::onModelLoaded);
    connect(w, &EngineWorker::loadFailed, this, &MainWindow::onLoadFailed);
    connect(w, &EngineWorker::stepped, this, &MainWindow::onStepped);
    connect(w, &EngineWorker::raceStepped, this, &MainWindow::onRaceStepped);
    connect(w, &EngineWorker::stepFailed, this, &MainWindow::onStepFailed);
    connect(w, &EngineWorker::runReset, this, &MainWindow::onRunReset);
    connect(w, &EngineWorker::busy, this,
            [this](Side side, const QString& what) { pane(side)->setBusy(what); });
    connect(w, &EngineWorker::idle, this, [this] {
        for (Side side : kSides)
            pane(side)->setBusy(QString());
    });
    connect(w, &EngineWorker::playingChanged, this, [this](bool playing) {
        m_playing = playing;
        if (!playing)
            for (Side side : kSides)
                pane(side)->setBusy(QString());
        syncRunControls();
    });
    connect(w, &EngineWorker::cacheSaved, this,
            [this](const QString& path, const QString& error, int tokens) {
                if (error.isEmpty())
                    statusBar()->showMessage(
                        tr("Saved the cache of %1 tokens to %2 (resume: kvscope-cli generate MODEL "
                           "--load-cache FILE --steps N)")
                            .arg(tokens)
                            .arg(path),
                        15000);
                else
                    showError(tr("Save cache"), error);
                emit cacheSaved(path, error);
            });
    connect(w, &EngineWorker::cacheOpened, this, &MainWindow::onCacheOpened);
    connect(w, &EngineWorker::reachedEnd, this, [this](const QString& message) {
        // Which run is at the end shows in its own pane (updateContextState); this says why play stopped.
        if (contextFull())
            statusBar()->showMessage(contextFullShort());
        else
            statusBar()->showMessage(message, 15000);
    });
    connect(w, &EngineWorker::settingsApplied, this, [this](const RunSettings&, const QString& backend) {
        if (!backend.isEmpty()) {
            m_model.backendName = backend;
            m_sampling->setBackendName(tr("Running on: %1").arg(backend));
            updateTitleAndStatus();
        }
    });
    connect(w, &EngineWorker::settingsRejected, this,
            [this](const QString& message, const RunSettings& current) {
                m_settings.device = current.device;
                m_settings.mode = current.mode;
                m_settings.rightRun = current.rightRun;
                m_settings.freeRunning = current.freeRunning;
                m_settings.sampler = current.sampler;
                m_sampling->setSettings(m_settings);
                syncRunControls();
                showError(tr("Setting not applied"), message);
            });
}

void MainWindow::sendSettings() {
    if (!m_worker) return;
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, s = m_settings, e = m_worker->epoch()] { w->applySettings(s, e); },
        Qt::QueuedConnection);
    if (m_explanation) m_explanation->setMode(m_settings.mode);
    if (m_presenterWidget) m_presenterWidget->setMode(m_settings.mode);
}

// ---- requests ------------------------------------------------------------------------------------------

void MainWindow::openModel(const QString& path) {
    if (path.isEmpty()) return;
    statusBar()->showMessage(tr("Opening %1…").arg(path));
    // Loading is the worker's job (a big model takes a while); the current model stays until it succeeds.
    const quint64 epoch = m_worker->interrupt();
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, path, epoch] { w->loadModel(path, epoch); }, Qt::QueuedConnection);
}

void MainWindow::openDefaultModel() {
    const QString path = defaultModelPath();
    if (!path.isEmpty()) {
        openModel(path);
        return;
    }
    QMessageBox* box = showError(
        tr("The embedded model is missing"),
        tr("KVScope's default model (%1) was not found. It is looked for in:\n%2\n\nOpen another model with "
           "File ▸ Open model… — for example a Hugging Face folder (config.json + model.safetensors).")
            .arg(QString::fromLatin1(kDefaultModelFile), defaultModelCandidates().join(QLatin1Char('\n'))));
    // Then the Open dialog, once the message has been read.
    connect(
        box, &QMessageBox::finished, this, [this] { chooseModelFile(); }, Qt::SingleShotConnection);
}

void MainWindow::setPrompt(const QString& text) {
    if (m_promptEdit) m_promptEdit->setText(text);
}

QString MainWindow::samplePrompt(const ModelInfo& info) {
    if (!info.valid() || info.tokenizer)
        return QStringLiteral("ROMEO: But soft, what light through yonder window breaks?");
    // Token ids the model has, spread over its vocabulary so the strip shows different tokens.
    const int vocab = info.config().vocab_size;
    QStringList ids;
    for (int id : {1, 15, 27, 99, 42, 7, 64, 3})
        ids << QString::number(id % std::max(1, vocab));
    return ids.join(QStringLiteral(", "));
}

QString MainWindow::prompt() const {
    return m_promptEdit ? m_promptEdit->text() : QString();
}

bool MainWindow::parsePromptOrComplain(std::vector<int32_t>* tokens) {
    if (!m_model.valid()) {
        showError(tr("No model"), tr("Open a model first (File ▸ Open model…)."));
        return false;
    }
    PromptRules rules;
    rules.tokenizer = m_model.tokenizer.get();
    rules.vocabSize = m_model.config().vocab_size;
    rules.capacity = m_model.capacity;
    auto parsed = parsePrompt(prompt(), rules);
    if (!parsed) {
        showError(tr("Cannot run this prompt"), QString::fromStdString(parsed.message()));
        return false;
    }
    *tokens = std::move(parsed.value());
    return true;
}

void MainWindow::prefill() {
    leavePrompt();
    std::vector<int32_t> tokens;
    if (!parsePromptOrComplain(&tokens)) {
        m_autoSteps = 0;
        m_autoActive = false;
        return;
    }
    const quint64 epoch = m_worker->interrupt();
    m_store.clear();
    m_runPrompt = tokens;
    for (Side side : kSides)
        pane(side)->setNote(QString());
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, tokens, epoch] { w->prefill(tokens, epoch); }, Qt::QueuedConnection);
}

int MainWindow::keepStepsForRequest() {
    // Looking at an earlier step: continue from there, dropping the later history (the engine rewinds too).
    if (m_store.followsLatest()) return -1;
    const int keep = m_store.selectedStep() + 1;
    m_store.truncate(keep);
    return keep;
}

void MainWindow::step() {
    leavePrompt();
    if (!m_model.valid()) {
        showError(tr("No model"), tr("Open a model first (File ▸ Open model…)."));
        return;
    }
    if (contextFull()) {  // the action is off, but a script or a test may still ask
        statusBar()->showMessage(contextFullShort(), 15000);
        return;
    }
    if (m_store.empty()) {
        prefill();
        return;
    }
    const int keep = keepStepsForRequest();
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, keep, e = m_worker->epoch()] { w->step(keep, e); }, Qt::QueuedConnection);
}

void MainWindow::play() {
    leavePrompt();
    if (!m_model.valid()) {
        showError(tr("No model"), tr("Open a model first (File ▸ Open model…)."));
        return;
    }
    if (contextFull()) {
        statusBar()->showMessage(contextFullShort(), 15000);
        return;
    }
    if (m_store.empty()) {
        prefill();
        if (m_store.empty() && m_runPrompt.empty()) return;
    }
    const int keep = keepStepsForRequest();
    m_playing = true;
    syncRunControls();
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, keep, e = m_worker->epoch()] { w->play(keep, e); }, Qt::QueuedConnection);
}

void MainWindow::pause() {
    m_worker->requestPause();
    QMetaObject::invokeMethod(m_worker, &EngineWorker::pause, Qt::QueuedConnection);
    m_playing = false;
    syncRunControls();
}

void MainWindow::togglePlay() {
    m_playing ? pause() : play();
}

void MainWindow::reset() {
    const quint64 epoch = m_worker->interrupt();
    m_autoSteps = 0;
    m_autoActive = false;
    m_playing = false;
    m_store.clear();
    m_runPrompt.clear();
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, epoch] { w->reset(epoch); }, Qt::QueuedConnection);
    syncRunControls();
}

void MainWindow::stepRepeatedly(int presses) {
    if (presses <= 0) return;
    m_autoSteps = presses - 1;
    m_autoAsked = presses;
    m_autoDone = 0;
    m_autoActive = true;
    step();
}

void MainWindow::confirmRestart(const QString& what, const std::function<void()>& apply) {
    // The prefill alone is redone at once after the switch; only decode steps would be lost.
    const int decodeSteps = m_store.maxStepCount() - 1;
    if (decodeSteps <= 0) {
        apply();
        return;
    }
    if (m_restartQuestion) m_restartQuestion->close();
    if (m_errorBox) m_errorBox->close();  // the question supersedes an earlier notice: one box at a time
    auto* box = new QMessageBox(
        QMessageBox::Question, tr("Restart the runs?"),
        tr("%1 rebuilds both runs, so they restart from the prompt: %2 taken so far would be dropped "
           "(export them first with File ▸ Export for slides if you want to keep them).")
            .arg(what, decodeSteps == 1 ? tr("the decode step") : tr("the %1 decode steps").arg(decodeSteps)),
        QMessageBox::NoButton, this);
    box->setObjectName(QStringLiteral("restartQuestion"));
    QPushButton* restart = box->addButton(tr("Switch and restart"), QMessageBox::AcceptRole);
    box->addButton(decodeSteps == 1 ? tr("Keep the step") : tr("Keep the %1 steps").arg(decodeSteps),
                   QMessageBox::RejectRole);
    box->setDefaultButton(restart);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this, box, restart, apply] {
        if (box->clickedButton() == restart)
            apply();
        else
            m_sampling->setSettings(m_settings);  // a refused device switch puts the device box back
        syncRunControls();                        // and a refused mode switch the mode box
    });
    m_restartQuestion = box;
    box->open();
}

void MainWindow::setMode(CompareMode mode, bool askFirst) {
    if (mode == m_settings.mode) return;
    if (!askFirst) {
        applyMode(mode);
        return;
    }
    confirmRestart(mode == CompareMode::race ? tr("Switching to race") : tr("Switching to lockstep"),
                   [this, mode] { applyMode(mode); });
    syncRunControls();  // until the answer, the controls show the mode still in force
}

void MainWindow::restartRunsWithNewSettings() {
    // The worker rebuilds the sessions from the new settings; the runs restart from the prompt (the
    // prefill is redone at once when there was a history).
    m_reprefillAfterReset = !m_store.empty();
    m_worker->interrupt();
    m_store.clear();
    m_playing = false;
    sendSettings();
    syncRunControls();
}

void MainWindow::applyMode(CompareMode mode) {
    if (mode == m_settings.mode) return;
    m_settings.mode = mode;
    // A new mode rebuilds the sessions (race gives each run its own one-thread backend): the runs restart
    // from the prompt, so a class can switch to race and press Play at once.
    restartRunsWithNewSettings();
    statusBar()->showMessage(
        mode == CompareMode::race
            ? tr("Race: each run on its own thread with one CPU core, at its own speed (set the speed to max "
                 "to let both go flat out). Press Play.")
            : tr("Lockstep: both runs take each step together and are fed the same token."),
        10000);
}

void MainWindow::setRightRun(const QString& spec, bool freeRunning, bool askFirst) {
    if (spec == m_settings.rightRun && freeRunning == m_settings.freeRunning) {
        syncRightRunControls();
        return;
    }
    if (!askFirst) {
        applyRightRun(spec, freeRunning);
        return;
    }
    confirmRestart(tr("Changing the right pane's run"),
                   [this, spec, freeRunning] { applyRightRun(spec, freeRunning); });
    syncRightRunControls();  // until the answer, the list shows the run still in force
}

void MainWindow::applyRightRun(const QString& spec, bool freeRunning) {
    m_settings.rightRun = spec;
    m_settings.freeRunning = freeRunning;
    // A new right run rebuilds its session: both runs restart from the prompt.
    restartRunsWithNewSettings();
    statusBar()->showMessage(spec.isEmpty()
                                 ? tr("Right pane: the run without a KV cache.")
                                 : tr("Right pane: the cache variant %1, measured against the exact cache%2.")
                                       .arg(spec, freeRunning ? tr(", picking its own tokens") : QString()),
                             10000);
}

void MainWindow::setDevice(DeviceKind device, bool askFirst) {
    if (device == m_settings.device) return;
    if (!askFirst) {
        applyDevice(device);
        return;
    }
    confirmRestart(tr("Moving the runs to another device"), [this, device] { applyDevice(device); });
    syncRunControls();
}

void MainWindow::applyDevice(DeviceKind device) {
    if (device == m_settings.device) return;
    m_settings.device = device;
    m_reprefillAfterReset = !m_store.empty();
    sendSettings();
}

// ---- the end of the context ----------------------------------------------------------------------------

int MainWindow::tokenLimit(Side side) const {
    if (side == Side::cached || m_settings.rightRun.isEmpty() || !m_model.valid()) return m_model.capacity;
    auto policy = parse_cache_variant(m_settings.rightRun.toStdString());
    return policy ? runTokenLimit(m_model.config(), m_model.capacity, true, policy.value())
                  : m_model.capacity;
}

bool MainWindow::runFull(Side side) const {
    if (!m_model.valid()) return false;
    const StepTrace* t = m_store.trace(side, m_store.stepFor(side));
    return t && t->pos_end >= tokenLimit(side);
}

bool MainWindow::contextFull() const {
    // Looking back at an earlier step, Step continues from there: only the latest step can be a dead end.
    if (!m_model.valid() || m_store.empty() || !m_store.followsLatest()) return false;
    const bool cachedFull =
        m_store.stepFor(Side::cached) == m_store.stepCount(Side::cached) - 1 && runFull(Side::cached);
    const bool uncachedFull =
        m_store.stepFor(Side::uncached) == m_store.stepCount(Side::uncached) - 1 && runFull(Side::uncached);
    // Lockstep steps both runs together (past the context, a cache variant that evicts goes on alone); in
    // a race, Step still moves a run that has room.
    if (m_settings.mode == CompareMode::lockstep && tokenLimit(Side::uncached) > m_model.capacity)
        return uncachedFull;
    return m_settings.mode == CompareMode::lockstep ? cachedFull || uncachedFull : cachedFull && uncachedFull;
}

QString MainWindow::contextFullReason() const {
    if (!contextFull()) return QString();
    const int capacity = m_model.capacity;
    return tr("The context is full: the runs hold %1 of %1 tokens, so there is no position left for another "
              "token. Step back (←) and Step to continue from an earlier step, or Reset (Ctrl+R).")
        .arg(capacity);
}

QString MainWindow::contextFullShort() const {
    // Short enough for the status bar of a 1280-pixel window in the projector theme.
    return contextFull()
               ? tr("Context full (%1 tokens): ← step back, or Ctrl+R to reset").arg(m_model.capacity)
               : QString();
}

void MainWindow::updateContextState() {
    for (Side side : kSides) {
        const StepTrace* t = m_store.trace(side, m_store.stepFor(side));
        QString note;
        if (t && t->pos_end > m_model.capacity)  // a cache variant past the context
            note = runFull(side)
                       ? tr("stopped %1 tokens past the context").arg(t->pos_end - m_model.capacity)
                       : tr("past the context: %1 tokens, cache holds %2").arg(t->pos_end).arg(t->cache.rows);
        else if (t && t->pos_end >= m_model.capacity)
            note = tr("context full: %1 of %1 tokens").arg(m_model.capacity);
        pane(side)->setNote(note);
    }
    // Lockstep: when the exact run stops and the cache variant can go on, say how to follow it.
    const bool variantGoesOn = m_settings.mode == CompareMode::lockstep && runFull(Side::cached) &&
                               tokenLimit(Side::uncached) > m_model.capacity && !runFull(Side::uncached);
    if (variantGoesOn && !m_variantWentOn)
        statusBar()->showMessage(tr("The exact cache is full (%1 tokens); the cache variant goes on past the "
                                    "context: Space steps it, P plays")
                                     .arg(m_model.capacity),
                                 15000);
    m_variantWentOn = variantGoesOn;
    const bool full = contextFull();
    if (m_store.empty()) m_fullAnnouncedAt = -1;
    if (full && !m_wasFull) {
        statusBar()->showMessage(contextFullShort());  // stays: Step is off until the state changes
        // Announced once per history: scrubbing back and to the latest step again does not repeat it.
        if (m_fullAnnouncedAt != m_store.maxStepCount()) {
            m_fullAnnouncedAt = m_store.maxStepCount();
            emit contextFilled(tr("the context is full (%1 tokens: the prompt's %2 and %3 generated); the "
                                  "runs stop here")
                                   .arg(m_model.capacity)
                                   .arg(m_store.promptLength(Side::cached))
                                   .arg(m_model.capacity - m_store.promptLength(Side::cached)));
        }
    } else if (!full && m_wasFull) {
        statusBar()->clearMessage();
    }
    m_wasFull = full;
}

// ---- answers -------------------------------------------------------------------------------------------

void MainWindow::onModelLoaded(const ModelInfo& info) {
    m_model = info;
    m_runPrompt.clear();
    m_store.setModel(info);
    addRecent(info.path);
    PromptRules rules;
    rules.tokenizer = info.tokenizer.get();
    rules.vocabSize = info.config().vocab_size;
    m_promptEdit->setPlaceholderText(promptHint(rules));
    // The prompt must suit the model: a model without a tokenizer takes token ids, so a text prompt left
    // from the last model would only fail at the first Step. The app's own sample is replaced freely.
    const QString sample = samplePrompt(info);
    if (prompt().trimmed().isEmpty() || prompt() == m_samplePrompt) {
        setPrompt(sample);
        m_samplePrompt = sample;
    } else if (!info.tokenizer && !parsePrompt(prompt(), rules)) {
        statusBar()->showMessage(
            tr("%1 has no tokenizer, so the prompt is token ids: \"%2\" became the sample %3.")
                .arg(info.displayName, prompt(), sample),
            15000);
        setPrompt(sample);
        m_samplePrompt = sample;
    }
    m_sampling->setBackendName(tr("Running on: %1").arg(info.backendName));
    for (Side side : kSides)
        pane(side)->setNote(QString());
    // The loader's notes (e.g. tensors the model does not use) go where the CLI puts them, on stderr, and
    // into the status bar's message and the model label's tooltip: reported, never silently dropped.
    QStringList notes;
    for (const std::string& note : info.model->notes) {
        notes << QString::fromStdString(note);
        std::fprintf(stderr, "kvscope: note: %s\n", note.c_str());
    }
    QString opened = tr("Opened %1").arg(QFileInfo(info.path).fileName());
    if (!notes.isEmpty())
        opened += QStringLiteral(" · ") + tr("note: %1").arg(notes.join(QStringLiteral("; ")));
    if (statusBar()->currentMessage().isEmpty() || statusBar()->currentMessage().startsWith(tr("Opening")))
        statusBar()->showMessage(info.capacityNote.isEmpty() ? opened : info.capacityNote, 10000);
    updateTitleAndStatus();
    syncRunControls();
    emit modelReady(info);
}

void MainWindow::onLoadFailed(const QString& path, const QString& message) {
    m_autoSteps = 0;
    m_autoActive = false;
    showError(tr("Could not open the model"),
              tr("%1\n\n%2")
                  .arg(message, m_model.valid() ? tr("%1 stays open.").arg(m_model.displayName)
                                                : tr("No model is open; use File ▸ Open model…")));
    (void)path;
}

void MainWindow::afterResult(bool completesStep) {
    m_worker->acknowledge();
    if (!completesStep) return;
    if (m_autoActive) ++m_autoDone;
    emit stepArrived();
    if (m_autoActive && m_autoSteps > 0 && contextFull()) {
        // Asked for more steps than the context holds: stop, say so (contextFilled), and let scripts go on.
        m_autoSteps = 0;
        m_autoActive = false;
        emit stepsFinished(m_autoDone, m_autoAsked);
        return;
    }
    if (m_autoSteps > 0 && !m_playing) {
        --m_autoSteps;
        step();
    } else if (m_autoActive && m_autoSteps == 0) {
        m_autoActive = false;
        emit stepsFinished(m_autoDone, m_autoAsked);
    }
}

void MainWindow::onStepped(const StepPair& pair) {
    if (pair.epoch != m_worker->epoch()) {
        // Made before a reset, a new prompt, a mode switch or a new model, and queued before it: the
        // history it belonged to is gone.
        m_worker->acknowledge();
        return;
    }
    if (pair.cached && pair.cached->restored) {
        // File ▸ Open cache: the restored cache starts a new history.
        m_store.clear();
        for (Side side : kSides)
            pane(side)->setNote(QString());
    }
    m_store.appendPair(pair);
    afterResult(true);
}

void MainWindow::onRaceStepped(Side side, const StepTracePtr& trace, quint64 epoch) {
    if (epoch != m_worker->epoch()) {
        m_worker->acknowledge();
        return;
    }
    m_store.append(side, trace);
    // In race mode a step request answers once per run; the uncached answer completes it.
    afterResult(side == Side::uncached);
}

void MainWindow::onStepFailed(const QString& message) {
    m_autoSteps = 0;
    m_autoActive = false;
    for (Side side : kSides)
        pane(side)->setBusy(QString());
    showError(tr("The step did not run"), message);
}

void MainWindow::onRunReset() {
    m_store.clear();
    m_playing = false;
    syncRunControls();
    if (m_reprefillAfterReset && !m_runPrompt.empty()) {
        m_reprefillAfterReset = false;
        prefill();
    }
}

}  // namespace kvscope::app

namespace kvscope::app {

void MainWindow::saveCache() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save the KV cache"), QString(),
                                                      tr("KVScope cache (*.kvcache);;All files (*)"));
    if (!path.isEmpty()) saveCacheTo(path);
}

void MainWindow::saveCacheTo(const QString& path) {
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, path] { w->saveCache(path); }, Qt::QueuedConnection);
}

void MainWindow::openCache() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open a saved KV cache"), QString(),
                                                      tr("KVScope cache (*.kvcache);;All files (*)"));
    if (!path.isEmpty()) openCacheFrom(path);
}

void MainWindow::openCacheFrom(const QString& path) {
    leavePrompt();
    if (!m_model.valid()) {
        showError(tr("No model"), tr("Open the model the cache was saved with first (File ▸ Open model…)."));
        return;
    }
    m_autoSteps = 0;
    m_autoActive = false;
    // The history stays until the restored step arrives (onStepped): a file that is refused loses nothing.
    const quint64 epoch = m_worker->interrupt();
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, path, epoch] { w->openCache(path, epoch); }, Qt::QueuedConnection);
}

void MainWindow::onCacheOpened(const QString& path, const QString& error, int tokens, double seconds) {
    if (!error.isEmpty()) {
        showError(tr("Open cache"), error);
        emit cacheOpened(path, error);
        return;
    }
    // The restored tokens are this run's prompt now: Reset runs them again as one (a real prefill).
    if (const StepTrace* t = m_store.trace(Side::cached, 0); t && t->restored) {
        m_runPrompt = t->input_tokens;
        if (m_model.tokenizer)
            setPrompt(QString::fromStdString(m_model.tokenizer->decode(t->input_tokens)));
        else {
            QStringList ids;
            for (int32_t id : t->input_tokens)
                ids << QString::number(id);
            setPrompt(ids.join(QStringLiteral(", ")));
        }
    }
    QString right;
    if (const StepTrace* u = m_store.trace(Side::uncached, 0))
        right = tr("; the right run computed them: %1 in %2")
                    .arg(formatFlops(double(u->counters.flops())), formatSeconds(u->counters.wall_seconds));
    statusBar()->showMessage(tr("Opened %1: %2 tokens restored in %3, 0 FLOPs%4")
                                 .arg(QFileInfo(path).fileName())
                                 .arg(tokens)
                                 .arg(formatSeconds(seconds), right),
                             20000);
    emit cacheOpened(path, QString());
}

}  // namespace kvscope::app
