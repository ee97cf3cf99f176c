// Menus, toolbar, shortcuts and presenter mode of the main window.
#include <QActionGroup>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QSignalBlocker>
#include <QSlider>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QToolBar>
#include <QWindow>

#include "app_paths.h"
#include "conversations/conversations_panel.h"
#include "engine_worker.h"
#include "export/export_dialog.h"
#include "first_token_panel.h"
#include "icons.h"
#include "kvscope/cache_policy.h"
#include "lessons/lesson_pack_dialog.h"
#include "lessons/lesson_panel.h"
#include "main_window.h"
#include "pane_widget.h"
#include "presenter_widget.h"
#include "timeline_bar.h"
#include "views/block_map_renderer.h"
#include "views/gl_view.h"

namespace kvscope::app {

namespace {
// Play speeds the slider steps through, in tokens per second; the last is "as fast as it goes".
constexpr double kSpeeds[] = {0.5, 1, 2, 4, 8, 15, 30, 60, 0};
constexpr int kSpeedCount = int(sizeof(kSpeeds) / sizeof(kSpeeds[0]));
QString speedText(double s) {
    return s <= 0 ? QObject::tr("max speed") : QObject::tr("%1 tok/s").arg(s, 0, 'g', 3);
}
}  // namespace

void MainWindow::buildActions() {
    auto make = [this](const QString& text, const QKeySequence& key, auto slot) {
        auto* a = new QAction(text, this);
        if (!key.isEmpty()) a->setShortcut(key);
        connect(a, &QAction::triggered, this, slot);
        addAction(a);  // shortcuts keep working when the menu bar is hidden (presenter mode)
        return a;
    };
    m_openAction = make(tr("&Open model…"), QKeySequence::Open, [this] { chooseModelFile(); });
    m_openAction->setToolTip(tr("Open a GGUF file, a llama2.c checkpoint or a Hugging Face folder (Ctrl+O)"));
    m_openFolderAction =
        make(tr("Open model &folder (Hugging Face)…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O),
             [this] { chooseModelFolder(); });
    m_openDefaultAction =
        make(tr("Open the &embedded model"), QKeySequence(), [this] { openDefaultModel(); });
    m_exportAction =
        make(tr("&Export for slides…"), QKeySequence(Qt::CTRL | Qt::Key_E), [this] { showExportDialog(); });
    m_exportAction->setToolTip(tr("The steps run so far as MP4, GIF, PNG, SVG or the counters (Ctrl+E)"));
    m_lessonPackAction = make(tr("Export &lesson pack…"), QKeySequence(), [this] {
        exportLessonPackInteractively(
            this, m_model.valid() ? m_model.path : QString(),
            themeKindName(m_display->themeKind() == ThemeKind::dark ? ThemeKind::light
                                                                    : m_display->themeKind()));
    });
    m_lessonPackAction->setToolTip(
        tr("Every lesson as captioned MP4 and GIF clips, stills and a PDF handout"));
    m_quitAction = make(tr("&Quit"), QKeySequence::Quit, [this] { close(); });
    m_prefillAction = make(tr("Pre&fill"), QKeySequence(Qt::CTRL | Qt::Key_Return), [this] { prefill(); });
    m_prefillAction->setToolTip(tr("Run the prompt through both models (Ctrl+Enter); restarts the runs"));
    m_stepAction = make(tr("&Step"), QKeySequence(Qt::Key_Space), [this] { step(); });
    m_stepAction->setToolTip(tr("One token more in both runs (Space)"));
    m_playAction = make(tr("&Play"), QKeySequence(Qt::Key_P), [this] { togglePlay(); });
    m_playAction->setToolTip(tr("Keep stepping at the chosen speed (P)"));
    m_resetAction = make(tr("&Reset"), QKeySequence(Qt::CTRL | Qt::Key_R), [this] { reset(); });
    m_resetAction->setToolTip(tr("Forget both runs (Ctrl+R)"));
    m_backAction = make(tr("Step &back"), QKeySequence(Qt::Key_Left),
                        [this] { m_store.selectStep(m_store.selectedStep() - 1); });
    m_forwardAction = make(tr("Step f&orward"), QKeySequence(Qt::Key_Right),
                           [this] { m_store.selectStep(m_store.selectedStep() + 1); });
    m_firstAction = make(tr("First step"), QKeySequence(Qt::Key_Home), [this] { m_store.selectStep(0); });
    m_latestAction = make(tr("Latest step"), QKeySequence(Qt::Key_End), [this] { m_store.selectLatest(); });
    m_lockstepAction = make(tr("&Lockstep: both runs advance together"), QKeySequence(Qt::Key_L),
                            [this] { setMode(CompareMode::lockstep, true); });
    m_raceAction = make(tr("&Race: each run at its own speed"), QKeySequence(Qt::Key_R),
                        [this] { setMode(CompareMode::race, true); });
    auto* modes = new QActionGroup(this);
    for (QAction* a : {m_lockstepAction, m_raceAction}) {
        a->setCheckable(true);
        modes->addAction(a);
    }
    m_cpuAction = make(tr("&CPU"), QKeySequence(), [this] { setDevice(DeviceKind::cpu, true); });
    m_cudaAction = make(tr("C&UDA GPU"), QKeySequence(), [this] { setDevice(DeviceKind::cuda, true); });
    auto* devices = new QActionGroup(this);
    for (QAction* a : {m_cpuAction, m_cudaAction}) {
        a->setCheckable(true);
        devices->addAction(a);
    }
    m_cpuAction->setChecked(true);
    const char* themeNames[] = {QT_TR_NOOP("&Dark"), QT_TR_NOOP("&Light"),
                                QT_TR_NOOP("&Projector (light, high contrast)")};
    auto* themes = new QActionGroup(this);
    for (int i = 0; i < 3; ++i) {
        m_themeActions[i] = make(tr(themeNames[i]), QKeySequence(), [this, i] { setTheme(ThemeKind(i)); });
        m_themeActions[i]->setCheckable(true);
        themes->addAction(m_themeActions[i]);
    }
    m_biggerAction = make(tr("&Bigger text"), QKeySequence(Qt::Key_Plus),
                          [this] { setFontScale(m_display->fontScale() * 1.1f); });
    m_biggerAction->setShortcuts(
        {QKeySequence(Qt::Key_Plus), QKeySequence(Qt::Key_Equal), QKeySequence::ZoomIn});
    m_smallerAction = make(tr("&Smaller text"), QKeySequence(Qt::Key_Minus),
                           [this] { setFontScale(m_display->fontScale() / 1.1f); });
    m_smallerAction->setShortcuts({QKeySequence(Qt::Key_Minus), QKeySequence::ZoomOut});
    m_presenterAction =
        make(tr("&Presenter mode"), QKeySequence(Qt::Key_F5), [this](bool on) { setPresenterMode(on); });
    m_presenterAction->setCheckable(true);
    m_fullScreenAction = make(tr("&Full screen"), QKeySequence::FullScreen,
                              [this] { isFullScreen() ? showNormal() : showFullScreen(); });
    m_allHeadsAction = make(tr("&All attention heads"), QKeySequence(Qt::Key_H),
                            [this](bool on) { m_store.setAllHeads(on); });
    m_allHeadsAction->setCheckable(true);
    connect(&m_store, &TraceStore::changed, this,
            [this] { m_allHeadsAction->setChecked(m_store.allHeads()); });
    m_helpAction = make(tr("&Glossary and keyboard"), QKeySequence::HelpContents, [this] { showGlossary(); });
    m_aboutAction = make(tr("&About KVScope"), QKeySequence(), [this] {
        QMessageBox::about(
            this, tr("About KVScope"),
            tr("<h3>KVScope %1</h3><p>How the KV cache makes language models fast: the same small, real "
               "transformer runs twice, with and without a KV cache, token by token, side by side.</p>"
               "<p>Text in DejaVu Sans (Bitstream Vera license). Built with Qt %2, Dear ImGui %3 and "
               "Eigen.</p>")
                .arg(QStringLiteral(KVSCOPE_VERSION), QString::fromLatin1(qVersion()),
                     QStringLiteral("1.86")));
    });
    auto* escape = new QAction(this);
    escape->setShortcut(QKeySequence(Qt::Key_Escape));
    connect(escape, &QAction::triggered, this, [this] {
        if (m_promptEdit && m_promptEdit->hasFocus())
            leavePrompt();
        else if (m_presenter)
            setPresenterMode(false);
        else if (isFullScreen())
            showNormal();
    });
    addAction(escape);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_openAction);
    file->addAction(m_openFolderAction);
    m_recentMenu = file->addMenu(tr("Open &recent"));
    file->addAction(m_openDefaultAction);
    file->addSeparator();
    file->addAction(m_exportAction);
    file->addAction(m_lessonPackAction);
    file->addAction(tr("&Save cache…"), this, &MainWindow::saveCache);
    file->addAction(tr("Open &cache…"), this, &MainWindow::openCache);
    file->addSeparator();
    file->addAction(m_quitAction);
    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addActions({m_prefillAction, m_stepAction, m_playAction, m_resetAction});
    run->addSeparator();
    run->addActions({m_backAction, m_forwardAction, m_firstAction, m_latestAction});
    run->addSeparator();
    QMenu* mode = run->addMenu(tr("Comparison &mode"));
    mode->addActions({m_lockstepAction, m_raceAction});
    QMenu* device = run->addMenu(tr("&Device"));
    device->addActions({m_cpuAction, m_cudaAction});
    QMenu* view = menuBar()->addMenu(tr("&View"));
    QMenu* theme = view->addMenu(tr("&Theme"));
    for (QAction* a : m_themeActions)
        theme->addAction(a);
    view->addActions({m_biggerAction, m_smallerAction});
    view->addSeparator();
    view->addAction(m_allHeadsAction);
    view->addSeparator();
    view->addActions({m_presenterAction, m_fullScreenAction});
    QMenu* panels = view->addMenu(tr("&Panels"));
    panels->addActions({m_lessonsDock->toggleViewAction(), m_plotsDock->toggleViewAction(),
                        m_explanationDock->toggleViewAction(), m_samplingDock->toggleViewAction(),
                        m_scaleDock->toggleViewAction(), m_rooflineDock->toggleViewAction(),
                        m_complexityDock->toggleViewAction(), m_firstTokenDock->toggleViewAction(),
                        m_conversationsDock->toggleViewAction()});
    view->addAction(tr("&Conversations (paged KV cache)"), this, &MainWindow::showConversations);
    view->addAction(tr("Scale &up (real models' KV cache)"), this, &MainWindow::showScaleView);
    view->addAction(tr("Roo&fline (this machine's roofs)"), this, &MainWindow::showRooflineView);
    view->addAction(tr("Comple&xity (attention vs weight FLOPs)"), this, &MainWindow::showComplexityView);
    view->addAction(tr("First &token (the pause before the first word)"), this,
                    &MainWindow::showFirstTokenView);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* lessons = m_lessonsDock->toggleViewAction();
    lessons->setText(tr("Guided &lessons"));
    help->addActions({lessons, m_helpAction, m_aboutAction});
    rebuildRecentMenu();
}

void MainWindow::buildToolbar() {
    m_toolbar = addToolBar(tr("Run"));
    m_toolbar->setObjectName(QStringLiteral("runToolbar"));
    m_toolbar->setMovable(false);
    m_toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_toolbar->addAction(m_openAction);
    m_toolbar->addSeparator();
    auto* promptLabel = new QLabel(tr("Prompt"), this);
    promptLabel->setStyleSheet(QStringLiteral("font-weight: bold; padding: 0 4px;"));
    m_toolbar->addWidget(promptLabel);
    m_promptEdit = new QLineEdit(this);
    m_promptEdit->setObjectName(QStringLiteral("prompt"));
    m_promptEdit->setMinimumWidth(260);
    m_promptEdit->setClearButtonEnabled(true);
    m_promptEdit->setToolTip(
        tr("Enter runs the prompt (the prefill); Esc leaves the box so that Space steps"));
    // Only a click (or Tab) enters the box: the keyboard belongs to the run until the user edits the prompt.
    m_promptEdit->installEventFilter(this);
    connect(m_promptEdit, &QLineEdit::returnPressed, this, [this] { prefill(); });
    m_toolbar->addWidget(m_promptEdit);
    m_toolbar->addAction(m_prefillAction);
    m_toolbar->addAction(m_stepAction);
    m_toolbar->addAction(m_playAction);
    m_speedSlider = new QSlider(Qt::Horizontal, this);
    m_speedSlider->setRange(0, kSpeedCount - 1);
    m_speedSlider->setFixedWidth(110);
    m_speedSlider->setToolTip(tr("Play speed"));
    m_speedLabel = new QLabel(this);
    m_speedLabel->setMinimumWidth(
        m_speedLabel->fontMetrics().horizontalAdvance(QStringLiteral("max speed  ")));
    connect(m_speedSlider, &QSlider::valueChanged, this,
            [this](int i) { setSpeed(kSpeeds[std::clamp(i, 0, kSpeedCount - 1)]); });
    m_toolbar->addWidget(m_speedSlider);
    m_toolbar->addWidget(m_speedLabel);
    m_toolbar->addSeparator();
    m_modeCombo = new QComboBox(this);
    m_modeCombo->addItem(tr("Lockstep"), int(CompareMode::lockstep));
    m_modeCombo->addItem(tr("Race"), int(CompareMode::race));
    m_modeCombo->setToolTip(
        tr("Lockstep: both runs take each step together and are fed the same token.\n"
           "Race: each run on its own thread (one CPU core each), as fast as it can."));
    connect(m_modeCombo, &QComboBox::activated, this,
            [this](int i) { setMode(CompareMode(m_modeCombo->itemData(i).toInt()), true); });
    m_toolbar->addWidget(m_modeCombo);
    // The right pane's run: one entry per cache variant of core's table.
    m_rightRunCombo = new QComboBox(this);
    m_rightRunCombo->addItem(tr("Without KV cache"), QString());
    for (const CacheVariant& v : cache_variants())
        m_rightRunCombo->addItem(QString::fromLatin1(v.label), QString::fromLatin1(v.id));
    m_rightRunCombo->setToolTip(
        tr("The right pane's run: without a KV cache, or a cache variant (lower "
           "precision, or evicting tokens) measured against the exact cache"));
    m_rightRunSpec = new QLineEdit(this);
    m_rightRunSpec->setPlaceholderText(tr("variant parameters"));
    m_rightRunSpec->setFixedWidth(
        fontMetrics().horizontalAdvance(QStringLiteral("sinks:S=4,W=60,reindex=0")));
    m_rightRunSpec->setToolTip(
        tr("The variant with its parameters, e.g. window:W=64, sinks:S=4,W=60, "
           "h2o:B=64,R=32, int4:group=32. Press Enter to apply."));
    connect(m_rightRunCombo, &QComboBox::activated, this, [this](int i) {
        const QString id = m_rightRunCombo->itemData(i).toString();
        QString spec = id;
        if (!id.isEmpty())
            if (auto p = parse_cache_variant(id.toStdString()))
                spec = QString::fromStdString(cache_variant_spec(p.value()));
        setRightRun(spec, m_settings.freeRunning, true);
    });
    connect(m_rightRunSpec, &QLineEdit::returnPressed, this, [this] {
        const QString spec = m_rightRunSpec->text().trimmed();
        if (!spec.isEmpty()) {
            auto p = parse_cache_variant(spec.toStdString());
            if (!p) {
                showError(tr("Not a cache variant"), QString::fromStdString(p.message()));
                return;
            }
        }
        setRightRun(spec, m_settings.freeRunning, true);
    });
    m_freeRunningAction = new QAction(tr("Free-running"), this);
    m_freeRunningAction->setCheckable(true);
    m_freeRunningAction->setToolTip(
        tr("The variant picks its own tokens instead of being fed the exact "
           "run's: see where the texts diverge"));
    connect(m_freeRunningAction, &QAction::toggled, this,
            [this](bool on) { setRightRun(m_settings.rightRun, on, true); });
    m_toolbar->addWidget(m_rightRunCombo);
    m_toolbar->addWidget(m_rightRunSpec);
    m_toolbar->addAction(m_freeRunningAction);
    m_toolbar->addSeparator();
    m_toolbar->addAction(m_resetAction);

    addToolBarBreak(Qt::BottomToolBarArea);
    m_timelineBar = new QToolBar(tr("Timeline"), this);
    m_timelineBar->setObjectName(QStringLiteral("timelineToolbar"));
    m_timelineBar->setMovable(false);
    m_timeline = new TimelineBar(m_store, this);
    m_timelineBar->addWidget(m_timeline);
    addToolBar(Qt::BottomToolBarArea, m_timelineBar);
    setSpeed(m_settings.tokensPerSecond);
}

void MainWindow::syncRunControls() {
    const bool model = m_model.valid();
    const bool full = contextFull();
    m_stepAction->setEnabled(model && !full);
    m_prefillAction->setEnabled(model);
    m_playAction->setEnabled(model && (!full || m_playing));
    m_resetAction->setEnabled(model && !m_store.empty());
    // A disabled button says why it is off.
    const QString reason = contextFullReason();
    m_stepAction->setToolTip(full ? reason : tr("One token more in both runs (Space)"));
    m_playAction->setToolTip(full ? reason : tr("Keep stepping at the chosen speed (P)"));
    m_playAction->setText(m_playing ? tr("&Pause") : tr("&Play"));
    const QColor ink = m_display->theme().text;
    m_openAction->setIcon(toolIcon(ToolIcon::open, ink));
    m_prefillAction->setIcon(toolIcon(ToolIcon::prefill, ink));
    m_stepAction->setIcon(toolIcon(ToolIcon::step, ink));
    m_playAction->setIcon(toolIcon(m_playing ? ToolIcon::pause : ToolIcon::play, ink));
    m_resetAction->setIcon(toolIcon(ToolIcon::reset, ink));
    m_lockstepAction->setChecked(m_settings.mode == CompareMode::lockstep);
    m_raceAction->setChecked(m_settings.mode == CompareMode::race);
    m_cpuAction->setChecked(m_settings.device == DeviceKind::cpu);
    m_cudaAction->setChecked(m_settings.device == DeviceKind::cuda);
    if (m_modeCombo) m_modeCombo->setCurrentIndex(m_settings.mode == CompareMode::race ? 1 : 0);
    syncRightRunControls();
}

void MainWindow::syncRightRunControls() {
    if (!m_rightRunCombo) return;
    const QString id = m_settings.rightRun.section(QLatin1Char(':'), 0, 0);
    const int i = m_rightRunCombo->findData(id);
    m_rightRunCombo->setCurrentIndex(std::max(0, i));
    if (m_rightRunSpec->text() != m_settings.rightRun) m_rightRunSpec->setText(m_settings.rightRun);
    const QSignalBlocker block(m_freeRunningAction);
    m_freeRunningAction->setChecked(m_settings.freeRunning);
    m_freeRunningAction->setEnabled(!m_settings.rightRun.isEmpty());
    QString title;
    if (!m_settings.rightRun.isEmpty())
        if (auto p = parse_cache_variant(m_settings.rightRun.toStdString()))
            title = tr("Variant: %1").arg(QString::fromStdString(p.value().describe()));
    setRightRunTitle(title);
    for (Side side : kSides)
        pane(side)->setTitle(sideTitle(side));
}

void MainWindow::setSpeed(double tokensPerSecond) {
    int index = kSpeedCount - 1;
    for (int i = 0; i < kSpeedCount; ++i)
        if (kSpeeds[i] == tokensPerSecond) index = i;
    if (m_speedSlider && m_speedSlider->value() != index) {
        m_speedSlider->setValue(index);  // calls back here with the slider's speed
        return;
    }
    m_settings.tokensPerSecond = kSpeeds[index];
    if (m_speedLabel) m_speedLabel->setText(speedText(m_settings.tokensPerSecond));
    sendSettings();
}

void MainWindow::rebuildRecentMenu() {
    if (!m_recentMenu) return;
    m_recentMenu->clear();
    for (const QString& path : m_recent) {
        QAction* a = m_recentMenu->addAction(QFileInfo(path).fileName() + QStringLiteral("  —  ") + path);
        connect(a, &QAction::triggered, this, [this, path] { openModel(path); });
    }
    m_recentMenu->setEnabled(!m_recent.isEmpty());
}

void MainWindow::addRecent(const QString& path) {
    m_recent.removeAll(path);
    m_recent.prepend(path);
    while (m_recent.size() > 8)
        m_recent.removeLast();
    rebuildRecentMenu();
}

void MainWindow::leavePrompt() {
    if (!m_promptEdit || !m_promptEdit->hasFocus()) return;
    // The panes take the focus: no view or button swallows Space or the arrows there.
    centralWidget()->setFocus(Qt::OtherFocusReason);
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::MouseButtonPress && m_promptEdit && m_promptEdit->hasFocus()) {
        // A press on one of the views' own windows (the window surface) leaves the prompt as a click on
        // any other widget does.
        auto* window = qobject_cast<QWindow*>(watched);
        if (window && !window->inherits("QWidgetWindow")) leavePrompt();
    } else if (watched == m_promptEdit && event->type() == QEvent::KeyPress &&
               static_cast<QKeyEvent*>(event)->key() == Qt::Key_Escape) {
        leavePrompt();
        return true;
    }
    return QMainWindow::eventFilter(watched, event);
}

void MainWindow::chooseModelFolder() {
    // A Hugging Face model is a folder (config.json, model.safetensors, tokenizer.json): picked as one.
    const QString folder = QFileDialog::getExistingDirectory(
        this, tr("Open a model folder (config.json + model.safetensors)"),
        m_recent.isEmpty() ? QString() : QFileInfo(m_recent.first()).absolutePath());
    if (folder.isEmpty()) return;
    if (!QFileInfo(QDir(folder), QStringLiteral("config.json")).exists()) {
        showError(tr("Not a model folder"),
                  tr("%1 has no config.json: a Hugging Face model folder holds config.json and "
                     "model.safetensors (or its shards). For a single file (GGUF, llama2.c .bin) use File ▸ "
                     "Open model…")
                      .arg(QDir::toNativeSeparators(folder)));
        return;
    }
    openModel(folder);
}

void MainWindow::chooseModelFile() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open a model"), m_recent.isEmpty() ? QString() : QFileInfo(m_recent.first()).absolutePath(),
        tr("Models (*.gguf *.safetensors *.bin config.json);;All files (*)"));
    if (path.isEmpty()) return;
    // A Hugging Face model is a folder: picking its config.json or model.safetensors opens the folder.
    const QFileInfo info(path);
    const bool hfFile = info.fileName() == QStringLiteral("config.json") ||
                        (info.suffix() == QStringLiteral("safetensors") &&
                         QFileInfo(info.dir(), QStringLiteral("config.json")).exists());
    openModel(hfFile ? info.absolutePath() : path);
}

void MainWindow::setTheme(ThemeKind kind) {
    m_display->setThemeKind(kind);
}

void MainWindow::setFontScale(float scale) {
    m_display->setFontScale(scale);
}

void MainWindow::setPresenterMode(bool on) {
    if (on == m_presenter) return;
    m_presenter = on;
    m_presenterAction->setChecked(on);
    m_display->setCompact(!on && height() < 900);  // presenter mode has the room for the larger type
    if (on) {
        m_beforePresenter = {m_display->themeKind(), m_display->fontScale(), isMaximized(), saveState()};
        if (!m_presenterWidget) {
            m_presenterWidget = new PresenterWidget(m_store, *m_display, m_central);
            m_presenterWidget->setMode(m_settings.mode);
            m_central->addWidget(m_presenterWidget);
        }
        m_central->setCurrentWidget(m_presenterWidget);
        m_display->setThemeKind(ThemeKind::projector);
        m_display->setFontScale(std::max(1.0f, m_display->fontScale()));
        // Presenter mode's own layout: the headline, one page of both runs, the narration; the docks and
        // the run toolbar go (the keyboard drives the run), the timeline stays.
        menuBar()->hide();
        m_toolbar->hide();
        for (QDockWidget* dock : {m_plotsDock, m_explanationDock, m_samplingDock, m_scaleDock, m_rooflineDock,
                                  m_complexityDock, m_firstTokenDock, m_conversationsDock})
            dock->hide();
        showFullScreen();
        // A lesson in progress stays, large: a third of the screen; the lesson list alone goes.
        if (m_lessons->chapter() >= 0 && m_lessonsDock->isVisible())
            resizeDocks({m_lessonsDock}, {std::max(width(), 1280) / 3}, Qt::Horizontal);
        else
            m_lessonsDock->hide();
        statusBar()->showMessage(tr("Presenter mode: Space step · P play · ←/→ scrub · 1–5 pages · +/− text "
                                    "size · Esc to leave"),
                                 8000);
    } else {
        m_central->setCurrentIndex(0);
        m_display->setThemeKind(m_beforePresenter.theme);
        m_display->setFontScale(m_beforePresenter.fontScale);
        menuBar()->show();
        m_toolbar->show();
        restoreState(m_beforePresenter.state);
        m_beforePresenter.maximized ? showMaximized() : showNormal();
    }
}

void MainWindow::showExportDialog() {
    if (m_store.empty()) {
        showError(tr("Nothing to export yet"),
                  tr("Export draws the steps the runs have taken: press Step (Space) first."));
        return;
    }
    ExportDialog dialog(m_store, m_display->themeKind(), this);
    prepareExportDialog(dialog);
    dialog.exec();
}

void MainWindow::prepareExportDialog(ExportDialog& dialog) const {
    // The Scale up view exports as the window shows it: its context, precisions, batch, model, accelerator.
    ExportSettings s = dialog.settings();
    s.scaleContext = QString::fromStdString(format_token_count(m_scaleSettings.context));
    s.scaleWeights = QString::fromLatin1(precision_name(m_scaleSettings.weights));
    s.scaleKv = QString::fromLatin1(precision_name(m_scaleSettings.kv));
    s.scaleConversations = m_scaleSettings.conversations;
    s.scaleModel = m_scaleSettings.model;
    s.scaleAccelerator = m_scaleSettings.accelerator;
    // The First token view exports what its dock has measured, as it is now (a sweep may still add rows).
    if (m_firstToken && !m_firstToken->sweep().rows.empty())
        s.firstTokenSweep = std::make_shared<const FirstTokenSweep>(m_firstToken->sweep());
    // And the Conversations view its maps, as they are now.
    if (m_conversations && m_conversations->blockMaps()->snapshot)
        s.blockMaps = std::make_shared<const BlockMaps>(*m_conversations->blockMaps());
    dialog.setSettings(s);
}

}  // namespace kvscope::app

namespace kvscope::app {

QWidget* MainWindow::stepButton() const {
    return m_toolbar ? m_toolbar->widgetForAction(m_stepAction) : nullptr;
}

QWidget* MainWindow::promptField() const {
    return m_promptEdit;
}

QWidget* MainWindow::modeSelector() const {
    return m_modeCombo;
}

QWidget* MainWindow::rightRunSelector() const {
    return m_rightRunCombo;
}

}  // namespace kvscope::app
