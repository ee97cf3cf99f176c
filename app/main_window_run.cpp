// The main window's side of the engine thread: requests out, answers in.
#include <QFileInfo>
#include <QLineEdit>
#include <QMessageBox>
#include <QStatusBar>
#include <QTimer>

#include "app_paths.h"
#include "engine_worker.h"
#include "explanation_panel.h"
#include "main_window.h"
#include "pane_widget.h"
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
    connect(w, &EngineWorker::reachedEnd, this, [this](const QString& message) {
        m_autoSteps = 0;
        m_autoActive = false;
        statusBar()->showMessage(message, 15000);
        for (Side side : kSides)
            pane(side)->setNote(tr("end of the context"));
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
    connect(box, &QMessageBox::finished, this, [this] { chooseModelFile(); });
}

void MainWindow::setPrompt(const QString& text) {
    if (m_promptEdit) m_promptEdit->setText(text);
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
    if (!m_model.valid()) {
        showError(tr("No model"), tr("Open a model first (File ▸ Open model…)."));
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
    if (!m_model.valid()) {
        showError(tr("No model"), tr("Open a model first (File ▸ Open model…)."));
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
    m_autoActive = true;
    step();
}

void MainWindow::setMode(CompareMode mode) {
    if (mode == m_settings.mode) return;
    m_settings.mode = mode;
    // A new mode rebuilds the sessions (race gives each run its own one-thread backend): the runs restart
    // from the prompt, so a class can switch to race and press Play at once.
    m_reprefillAfterReset = !m_store.empty();
    m_worker->interrupt();
    m_store.clear();
    m_playing = false;
    sendSettings();
    syncRunControls();
    statusBar()->showMessage(
        mode == CompareMode::race
            ? tr("Race: each run on its own thread with one CPU core, at its own speed (set the speed to max "
                 "to let both go flat out). Press Play.")
            : tr("Lockstep: both runs take each step together and are fed the same token."),
        10000);
}

void MainWindow::setRightRun(const QString& spec, bool freeRunning) {
    if (spec == m_settings.rightRun && freeRunning == m_settings.freeRunning) {
        syncRightRunControls();
        return;
    }
    m_settings.rightRun = spec;
    m_settings.freeRunning = freeRunning;
    // A new right run rebuilds its session: both runs restart from the prompt.
    m_reprefillAfterReset = !m_store.empty();
    m_worker->interrupt();
    m_store.clear();
    m_playing = false;
    sendSettings();
    syncRunControls();
    statusBar()->showMessage(spec.isEmpty()
                                 ? tr("Right pane: the run without a KV cache.")
                                 : tr("Right pane: the cache variant %1, measured against the exact cache%2.")
                                       .arg(spec, freeRunning ? tr(", picking its own tokens") : QString()),
                             10000);
}

void MainWindow::setDevice(DeviceKind device) {
    if (device == m_settings.device) return;
    m_settings.device = device;
    m_reprefillAfterReset = !m_store.empty();
    sendSettings();
}

// ---- answers -------------------------------------------------------------------------------------------

void MainWindow::onModelLoaded(const ModelInfo& info) {
    m_model = info;
    m_runPrompt.clear();
    m_store.setModel(info);
    addRecent(info.path);
    PromptRules rules;
    rules.tokenizer = info.tokenizer.get();
    m_promptEdit->setPlaceholderText(promptHint(rules));
    m_sampling->setBackendName(tr("Running on: %1").arg(info.backendName));
    for (Side side : kSides)
        pane(side)->setNote(QString());
    statusBar()->showMessage(info.capacityNote.isEmpty() ? tr("Opened %1").arg(info.path) : info.capacityNote,
                             10000);
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
                                                : tr("No model is open; use File ▸ Open model….")));
    (void)path;
}

void MainWindow::afterResult(bool completesStep) {
    m_worker->acknowledge();
    if (!completesStep) return;
    emit stepArrived();
    if (m_autoSteps > 0 && !m_playing) {
        --m_autoSteps;
        step();
    } else if (m_autoActive && m_autoSteps == 0) {
        m_autoActive = false;
        emit stepsFinished();
    }
}

void MainWindow::onStepped(const StepPair& pair) {
    m_store.appendPair(pair);
    afterResult(true);
}

void MainWindow::onRaceStepped(Side side, const StepTracePtr& trace) {
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
