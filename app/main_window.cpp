#include "main_window.h"

#include "kvscope/cache_policy.h"

#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabBar>
#include <QTimer>
#include <QToolBar>
#include <QUrl>

#include "conversations/conversations_panel.h"
#include "engine_worker.h"
#include "explanation_panel.h"
#include "first_token_panel.h"
#include "format.h"
#include "gl/imgui_layer.h"
#include "lessons/glossary_dialog.h"
#include "lessons/lesson_panel.h"
#include "pane_widget.h"
#include "presenter_widget.h"
#include "sampling_panel.h"
#include "scale_panel.h"
#include "timeline_bar.h"
#include "views/complexity_renderer.h"
#include "views/gl_view.h"
#include "views/plots_renderer.h"

namespace kvscope::app {

MainWindow::MainWindow(const Options& options, QWidget* parent)
    : QMainWindow(parent),
      m_options(options),
      m_display(new DisplaySettings(this)),
      m_worker(new EngineWorker) {
    registerMetaTypes();
    setObjectName(QStringLiteral("KVScopeMainWindow"));
    QIcon icon;
    for (int size : {32, 64, 128, 256})
        icon.addFile(QStringLiteral(":/icons/hicolor/%1x%1/apps/kvscope.png").arg(size), QSize(size, size));
    setWindowIcon(icon);
    setAcceptDrops(true);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);
    m_worker->moveToThread(&m_engineThread);
    m_engineThread.setObjectName(QStringLiteral("kvscope-engine"));
    m_engineThread.start();
    connectWorker();

    buildCentral();
    buildDocks();
    buildActions();
    buildMenus();
    buildToolbar();

    m_modelLabel = new QLabel(this);
    m_modelLabel->setObjectName(QStringLiteral("modelLabel"));
    m_memoryLabel = new QLabel(this);
    // The model label is short (the model's shape; the full path is its tooltip), so it is shown whole;
    // the temporary messages on the left take what is left.
    statusBar()->addPermanentWidget(m_memoryLabel);
    statusBar()->addPermanentWidget(m_modelLabel);
    connect(&m_store, &TraceStore::changed, this, [this](const StoreChange& c) {
        if (c.kind != StoreChange::Kind::selection) updateTitleAndStatus();
        updateContextState();
        syncRunControls();
    });
    connect(m_display, &DisplaySettings::changed, this, &MainWindow::applyDisplay);
    connect(m_display, &DisplaySettings::changed, this, &MainWindow::scheduleFitDockTabs);

    // First start: the whole screen (a teaching tool is used full size), docks sized for it, and slightly
    // smaller type on small screens; later starts restore what the user left.
    if (QScreen* screen = QGuiApplication::primaryScreen()) {
        const QSize available = screen->availableGeometry().size();
        resize(available);
        // Small screens: the lesson and the narration share the dock area as tabs, each with the full
        // height (a chapter brings its tab to the front); larger ones show both, the lesson on top.
        if (available.height() < 900) {
            tabifyDockWidget(m_explanationDock, m_lessonsDock);
            m_explanationDock->raise();
        }
        resizeDocks({m_explanationDock}, {std::clamp(available.width() / 5, 300, 420)}, Qt::Horizontal);
        resizeDocks({m_lessonsDock, m_explanationDock},
                    {available.height() * 60 / 100, available.height() * 40 / 100}, Qt::Vertical);
        resizeDocks({m_plotsDock}, {std::clamp(available.height() * 22 / 100, 150, 260)}, Qt::Vertical);
        if (available.height() < 900) m_display->setFontScale(0.85f);
    }
    if (m_options.useSettings) readSettings();
    if (prompt().trimmed().isEmpty()) {  // ready to Step: a sample prompt in place (adapted to the model)
        m_samplePrompt = samplePrompt(m_model);
        setPrompt(m_samplePrompt);
    }
    // The window opens with the keyboard on the run, not in the prompt box.
    centralWidget()->setFocus(Qt::OtherFocusReason);
    // A click on a view (its own OpenGL window, which takes no focus) also ends editing the prompt.
    qApp->installEventFilter(this);
    applyDisplay();
    // The views' text: rasterized on another core while the window is laid out and its first OpenGL
    // context made (about 80 ms of the start-up otherwise spent before the first view draws).
    if (QScreen* screen = QGuiApplication::primaryScreen())
        ImGuiLayer::prepareFonts(float(screen->devicePixelRatio()) * m_display->viewScale());
    sendSettings();
    updateTitleAndStatus();
    syncRunControls();
}

MainWindow::~MainWindow() {
    m_worker->interrupt();
    QMetaObject::invokeMethod(m_worker, &EngineWorker::shutdown, Qt::BlockingQueuedConnection);
    m_engineThread.quit();
    m_engineThread.wait();
    delete m_worker;
    // The panes, views, docks and dialogs hold references to m_store and *m_display. Members die before
    // the base class deletes the children, and m_display (the first child) before the views: delete every
    // child widget now, while what they refer to is still alive (it used to crash on quit now and then).
    // The docks, toolbars and central widget leave the window's layout through its own API first: a dock
    // deleted while the layout still held it left a dangling item there, and deleting a toolbar later
    // walked the layout's items and crashed (1 quit in 4 after the monkey expanded the toolbar).
    for (QDockWidget* dock : findChildren<QDockWidget*>(QString(), Qt::FindDirectChildrenOnly))
        removeDockWidget(dock);
    for (QToolBar* bar : findChildren<QToolBar*>(QString(), Qt::FindDirectChildrenOnly))
        removeToolBar(bar);
    delete takeCentralWidget();
    for (QWidget* child : findChildren<QWidget*>(QString(), Qt::FindDirectChildrenOnly))
        delete child;
}

void MainWindow::buildCentral() {
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName(QStringLiteral("panes"));
    for (Side side : kSides) {
        m_panes[sideIndex(side)] = new PaneWidget(side, m_store, *m_display, split);
        split->addWidget(m_panes[sideIndex(side)]);
    }
    PaneWidget::alignHeaders(m_panes[0], m_panes[1]);
    split->setChildrenCollapsible(false);
    // Both runs at the same width, whatever their headers say (size hints would favour the longer one);
    // the splitter keeps the proportion as the window resizes, until the user drags it.
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setSizes({1000, 1000});
    // The keyboard's home: Space, P, arrows and Home/End reach the window's shortcuts from here.
    split->setFocusPolicy(Qt::ClickFocus);
    m_central = new QStackedWidget(this);
    m_central->addWidget(split);
    setCentralWidget(m_central);
}

void MainWindow::buildDocks() {
    m_plots = new GlView(m_store, *m_display, std::make_unique<PlotsRenderer>(), Side::cached);
    m_plots->setMinimumHeight(150);
    m_plotsDock = new QDockWidget(tr("Plots"), this);
    m_plotsDock->setObjectName(QStringLiteral("plotsDock"));
    m_plotsDock->setWidget(m_plots);
    addDockWidget(Qt::BottomDockWidgetArea, m_plotsDock);

    // Why it matters at scale: the KV cache of real models, and this machine's roofline. Tabs beside the
    // plots; the roofs are measured the first time the Roofline tab is shown (then kept in the settings).
    m_scalePanel = new ScalePanel(m_scaleSettings, m_store, *m_display);
    m_scaleDock = new QDockWidget(tr("Scale up"), this);
    m_scaleDock->setObjectName(QStringLiteral("scaleDock"));
    m_scaleDock->setWidget(m_scalePanel);
    addDockWidget(Qt::BottomDockWidgetArea, m_scaleDock);
    tabifyDockWidget(m_plotsDock, m_scaleDock);
    m_rooflinePanel = new RooflinePanel(m_peaks, m_store, *m_display);
    m_rooflineDock = new QDockWidget(tr("Roofline"), this);
    m_rooflineDock->setObjectName(QStringLiteral("rooflineDock"));
    m_rooflineDock->setWidget(m_rooflinePanel);
    addDockWidget(Qt::BottomDockWidgetArea, m_rooflineDock);
    tabifyDockWidget(m_scaleDock, m_rooflineDock);
    m_complexity = new GlView(m_store, *m_display, std::make_unique<ComplexityRenderer>(), Side::cached);
    m_complexityDock = new QDockWidget(tr("Complexity"), this);
    m_complexityDock->setObjectName(QStringLiteral("complexityDock"));
    m_complexityDock->setWidget(m_complexity);
    addDockWidget(Qt::BottomDockWidgetArea, m_complexityDock);
    tabifyDockWidget(m_rooflineDock, m_complexityDock);
    // The pause before the first word: time to first token against prompt length, measured on demand.
    m_firstToken = new FirstTokenPanel(m_store, *m_display);
    m_firstTokenDock = new QDockWidget(tr("First token"), this);
    m_firstTokenDock->setObjectName(QStringLiteral("firstTokenDock"));
    m_firstTokenDock->setWidget(m_firstToken);
    addDockWidget(Qt::BottomDockWidgetArea, m_firstTokenDock);
    tabifyDockWidget(m_complexityDock, m_firstTokenDock);
    m_plotsDock->raise();
    // First shown (its tab or the View menu): measure, as the roofs are; the tests measure when they ask.
    connect(m_firstTokenDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible && m_options.useSettings && m_store.hasModel() && m_firstToken->sweep().rows.empty() &&
            !m_firstToken->measuring())
            m_firstToken->measure();
    });
    connect(m_rooflineDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible && !m_peaks.valid() && m_options.useSettings) m_rooflinePanel->measure();
    });
    connect(m_rooflinePanel, &RooflinePanel::measured, this, [this] {
        if (!m_options.useSettings) return;
        QSettings s;
        StoredPeaks::write(s, m_peaks);
    });

    m_explanation = new ExplanationPanel(m_store, *m_display);
    m_explanationDock = new QDockWidget(tr("What just happened"), this);
    m_explanationDock->setObjectName(QStringLiteral("explanationDock"));
    m_explanationDock->setWidget(m_explanation);
    addDockWidget(Qt::RightDockWidgetArea, m_explanationDock);

    // The guided lessons: above the narration, so a page and "what just happened" are read together.
    m_lessons = new LessonPanel(*this, shippedLessons());
    m_lessonsDock = new QDockWidget(tr("Lessons"), this);
    m_lessonsDock->setObjectName(QStringLiteral("lessonsDock"));
    m_lessonsDock->setWidget(m_lessons);
    addDockWidget(Qt::RightDockWidgetArea, m_lessonsDock);
    splitDockWidget(m_lessonsDock, m_explanationDock, Qt::Vertical);
    connect(m_lessons, &LessonPanel::glossaryRequested, this,
            [this](const QString& term) { showGlossary(term); });

    m_sampling = new SamplingPanel;
    m_samplingDock = new QDockWidget(tr("Sampling and device"), this);
    m_samplingDock->setObjectName(QStringLiteral("samplingDock"));
    m_samplingDock->setWidget(m_sampling);
    addDockWidget(Qt::RightDockWidgetArea, m_samplingDock);
    tabifyDockWidget(m_explanationDock, m_samplingDock);
    m_explanationDock->raise();

    // Many conversations in one KV budget (paged vs reserved): a tab beside the plots.
    m_conversations = new ConversationsPanel(*m_display);
    m_conversationsDock = new QDockWidget(tr("Conversations"), this);
    m_conversationsDock->setObjectName(QStringLiteral("conversationsDock"));
    m_conversationsDock->setWidget(m_conversations);
    addDockWidget(Qt::BottomDockWidgetArea, m_conversationsDock);
    tabifyDockWidget(m_plotsDock, m_conversationsDock);
    m_plotsDock->raise();
    connect(this, &MainWindow::modelReady, m_conversations, &ConversationsPanel::setModel);
    // The views about scale need height (a table of models, the roofs, the block maps): their tab picked in
    // the band at the bottom takes 45% of the window, as the View menu gives it; picking Plots again gives
    // the band back the height it had. (At the Plots' height the Scale up table ran into its narration.)
    // Only a tab the user picks: layouts restored or rebuilt (presenter mode, the projector's size) keep
    // their sizes.
    connect(this, &QMainWindow::tabifiedDockWidgetActivated, this, [this](QDockWidget* dock) {
        if (dock->isFloating() || dockWidgetArea(dock) != Qt::BottomDockWidgetArea) return;
        const bool scaleView = scaleDocks().contains(dock);
        if (dock == m_plotsDock && m_bandHeightBefore >= 0) {
            const int before = std::exchange(m_bandHeightBefore, -1);
            QTimer::singleShot(0, this,
                               [this, before] { resizeDocks({m_plotsDock}, {before}, Qt::Vertical); });
        } else if (scaleView) {
            QTimer::singleShot(0, this, [this, dock] {
                const int want = height() * 45 / 100;
                if (!dock->isVisible() || dock->height() >= want) return;
                if (m_bandHeightBefore < 0)
                    m_bandHeightBefore = m_plotsDock->height();  // the band as Plots had it
                resizeDocks({dock}, {want}, Qt::Vertical);
            });
        }
    });
    // Each dock's full and short title (fitDockTabs), and a new fit whenever docks move or show.
    const std::pair<QDockWidget*, QString> shortTitles[] = {{m_explanationDock, tr("What happened")},
                                                            {m_samplingDock, tr("Sampling")},
                                                            {m_lessonsDock, tr("Lessons")},
                                                            {m_plotsDock, tr("Plots")},
                                                            {m_scaleDock, tr("Scale")},
                                                            {m_rooflineDock, tr("Roofline")},
                                                            {m_complexityDock, tr("Complexity")},
                                                            {m_firstTokenDock, tr("1st token")},
                                                            {m_conversationsDock, tr("Chats")}};
    for (const auto& [dock, brief] : shortTitles) {
        dock->setProperty("fullTitle", dock->windowTitle());
        dock->setProperty("shortTitle", brief);
        dock->setToolTip(dock->windowTitle());
        connect(dock, &QDockWidget::visibilityChanged, this, &MainWindow::scheduleFitDockTabs);
        connect(dock, &QDockWidget::dockLocationChanged, this, &MainWindow::scheduleFitDockTabs);
        connect(dock, &QDockWidget::topLevelChanged, this, &MainWindow::scheduleFitDockTabs);
    }
    m_lessons->watchConversations(m_conversations);
    connect(m_sampling, &SamplingPanel::edited, this, [this] {
        RunSettings next = m_sampling->settings(m_settings);
        const DeviceKind device = next.device;
        next.device = m_settings.device;  // a new device restarts the runs: asked first, below
        m_settings = next;
        sendSettings();
        if (device != m_settings.device) setDevice(device, true);
    });
}

GlossaryDialog* MainWindow::showGlossary(const QString& term) {
    if (!m_glossary) m_glossary = new GlossaryDialog(shippedLessons(), this, this);
    if (term.isEmpty() || !m_glossary->showTerm(term)) m_glossary->showKeyboard();
    m_glossary->show();
    m_glossary->raise();
    return m_glossary;
}

void MainWindow::showScaleView() {
    m_scaleDock->show();
    m_scaleDock->raise();
    resizeDocks({m_scaleDock}, {std::max(height() * 45 / 100, m_scaleDock->height())}, Qt::Vertical);
}

void MainWindow::showComplexityView() {
    m_complexityDock->show();
    m_complexityDock->raise();
    resizeDocks({m_complexityDock}, {std::max(height() * 45 / 100, m_complexityDock->height())},
                Qt::Vertical);
}

void MainWindow::showFirstTokenView() {
    m_firstTokenDock->show();
    m_firstTokenDock->raise();
    resizeDocks({m_firstTokenDock}, {std::max(height() * 45 / 100, m_firstTokenDock->height())},
                Qt::Vertical);
}

void MainWindow::showRooflineView() {
    m_rooflineDock->show();
    m_rooflineDock->raise();
    resizeDocks({m_rooflineDock}, {std::max(height() * 45 / 100, m_rooflineDock->height())}, Qt::Vertical);
}

void MainWindow::showConversations() {
    m_conversationsDock->show();
    m_conversationsDock->raise();
    // The block maps need height: at least 45% of the window.
    resizeDocks({m_conversationsDock}, {std::max(height() * 45 / 100, m_conversationsDock->height())},
                Qt::Vertical);
    // The right column is shorter then: an open lesson gets a wider column and its whole height, the
    // narration as a tab behind it (as on small screens), so that its page is read without scrolling.
    if (m_lessonsDock->isVisible()) {
        resizeDocks({m_lessonsDock}, {std::max(width() * 30 / 100, m_lessonsDock->width())}, Qt::Horizontal);
        if (!tabifiedDockWidgets(m_lessonsDock).contains(m_explanationDock))
            tabifyDockWidget(m_explanationDock, m_lessonsDock);
        m_lessonsDock->raise();
    }
}

QList<GlView*> MainWindow::glViews() const {
    QList<GlView*> views;
    for (PaneWidget* p : m_panes)
        views << p->views();
    views << m_plots;
    if (m_presenterWidget) views << m_presenterWidget->views();
    return views;
}

void MainWindow::applyDisplay() {
    applyTheme(*qApp, m_display->theme(), m_display->fontScale());
    syncRunControls();  // the toolbar icons take the theme's colour
    for (int i = 0; i < 3; ++i)
        if (m_themeActions[i]) m_themeActions[i]->setChecked(int(m_display->themeKind()) == i);
}

QMessageBox* MainWindow::showError(const QString& title, const QString& message) {
    m_lastError = message;
    statusBar()->showMessage(message, 10000);
    // One notice, never modal: a long-running play, the benchmark or the keyboard must not block on it, and
    // errors that come in bursts (every Step pressed in a row, both race lanes) must not stack up boxes.
    // A newer error replaces the text of the one shown.
    // One box at a time: an open "restart the runs?" question is answered "keep" (nothing is lost) and
    // the error takes its place.
    if (m_restartQuestion) m_restartQuestion->close();
    QMessageBox* box = m_errorBox;
    if (!box) {
        box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setObjectName(QStringLiteral("kvscopeError"));
        box->setWindowModality(Qt::NonModal);
        // Nor does it take the keyboard: Space, P and the arrows keep stepping the window behind it.
        box->setAttribute(Qt::WA_ShowWithoutActivating);
        m_errorBox = box;
    } else {
        box->setWindowTitle(title);
        box->setText(message);
    }
    box->show();
    box->raise();
    emit errorShown(message);
    return box;
}

void MainWindow::updateTitleAndStatus() {
    // Qt adds the application's name (" — KVScope") to every window title itself.
    if (!m_model.valid()) {
        setWindowTitle(QString());
        m_modelLabel->setText(tr("no model"));
        m_modelLabel->setToolTip(QString());
    } else {
        const ModelConfig& c = m_model.config();
        setWindowTitle(m_model.displayName);
        // A long file or folder name is shortened in the middle; the numbers after it are always whole.
        const QString name = m_modelLabel->fontMetrics().elidedText(
            m_model.displayName, Qt::ElideMiddle, m_modelLabel->fontMetrics().averageCharWidth() * 32);
        m_modelLabel->setText(tr("%1 · %2 layers · %3 heads / %4 KV · context %5 · %6")
                                  .arg(name)
                                  .arg(c.n_layers)
                                  .arg(c.n_heads)
                                  .arg(c.n_kv_heads)
                                  .arg(m_model.capacity)
                                  .arg(m_model.backendName));
        // What the loader noticed (e.g. tensors the model does not use), as the CLI prints them.
        QString notes;
        for (const std::string& note : m_model.model->notes)
            notes += QStringLiteral("\n") + tr("note: %1").arg(QString::fromStdString(note));
        m_modelLabel->setToolTip(tr("%1 (%2, %3)")
                                     .arg(QDir::toNativeSeparators(m_model.path),
                                          QString::fromStdString(c.arch_name), m_model.format) +
                                 notes);
    }
    m_memoryLabel->setText(tr("history %1").arg(formatBytes(double(m_store.bytesHeld()))));
}

QString MainWindow::modelLabelText() const {
    return m_modelLabel->text();
}

void MainWindow::readSettings() {
    QSettings s;
    restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    for (Side side : kSides)
        m_panes[sideIndex(side)]->restoreSplitters(
            s.value(QStringLiteral("window/pane%1").arg(sideIndex(side))).toByteArray());
    ThemeKind kind = ThemeKind::dark;
    if (parseThemeKind(s.value(QStringLiteral("display/theme")).toString(), &kind))
        m_display->setThemeKind(kind);
    m_display->setFontScale(
        s.value(QStringLiteral("display/fontScale"), double(m_display->fontScale())).toFloat());
    m_scaleSettings.read(s);
    m_scalePanel->syncControls();
    StoredPeaks::read(s, &m_peaks, StoredPeaks::runsDevice());
    m_recent = s.value(QStringLiteral("files/recent")).toStringList();
    rebuildRecentMenu();
    m_settings.mode = s.value(QStringLiteral("run/mode")).toString() == QStringLiteral("race")
                          ? CompareMode::race
                          : CompareMode::lockstep;
    m_settings.tokensPerSecond = s.value(QStringLiteral("run/speed"), 8.0).toDouble();
    m_settings.rightRun = s.value(QStringLiteral("run/rightRun")).toString();
    if (!m_settings.rightRun.isEmpty() && !parse_cache_variant(m_settings.rightRun.toStdString()))
        m_settings.rightRun.clear();
    m_settings.sampler.temperature = s.value(QStringLiteral("sampling/temperature"), 0.0).toFloat();
    m_settings.sampler.top_k = s.value(QStringLiteral("sampling/topK"), 40).toInt();
    m_settings.sampler.top_p = s.value(QStringLiteral("sampling/topP"), 0.95).toFloat();
    m_settings.sampler.seed = s.value(QStringLiteral("sampling/seed"), 0).toULongLong();
    if (!m_settings.sampler.validate()) m_settings.sampler = SamplerConfig{};
    m_sampling->setSettings(m_settings);
    setSpeed(m_settings.tokensPerSecond);
    m_modeCombo->setCurrentIndex(m_settings.mode == CompareMode::race ? 1 : 0);
    setPrompt(s.value(QStringLiteral("run/prompt")).toString());
}

void MainWindow::writeSettings() {
    if (!m_options.useSettings) return;
    QSettings s;
    if (!m_presenter) {
        s.setValue(QStringLiteral("window/geometry"), saveGeometry());
        s.setValue(QStringLiteral("window/state"), saveState());
        s.setValue(QStringLiteral("display/theme"), themeKindName(m_display->themeKind()));
        s.setValue(QStringLiteral("display/fontScale"), double(m_display->fontScale()));
    }
    m_scaleSettings.write(s);
    for (Side side : kSides)
        s.setValue(QStringLiteral("window/pane%1").arg(sideIndex(side)),
                   m_panes[sideIndex(side)]->saveSplitters());
    s.setValue(QStringLiteral("files/recent"), m_recent);
    s.setValue(QStringLiteral("run/mode"),
               m_settings.mode == CompareMode::race ? QStringLiteral("race") : QStringLiteral("lockstep"));
    s.setValue(QStringLiteral("run/speed"), m_settings.tokensPerSecond);
    s.setValue(QStringLiteral("run/rightRun"), m_settings.rightRun);
    s.setValue(QStringLiteral("run/prompt"), prompt());
    s.setValue(QStringLiteral("sampling/temperature"), double(m_settings.sampler.temperature));
    s.setValue(QStringLiteral("sampling/topK"), m_settings.sampler.top_k);
    s.setValue(QStringLiteral("sampling/topP"), double(m_settings.sampler.top_p));
    s.setValue(QStringLiteral("sampling/seed"), qulonglong(m_settings.sampler.seed));
}

void MainWindow::closeEvent(QCloseEvent* event) {
    writeSettings();
    QMainWindow::closeEvent(event);
}

void MainWindow::resizeEvent(QResizeEvent* event) {
    QMainWindow::resizeEvent(event);
    fitDocksToHeight();
    scheduleFitDockTabs();
}

void MainWindow::fitDocksToHeight() {
    if (m_presenter || !m_plotsDock || !m_explanationDock) return;
    const bool compact = height() < 900;
    m_display->setCompact(compact);
    if (compact == m_compactDocks) return;
    m_compactDocks = compact;
    if (compact) {
        // A projector's 720 lines go to the two runs: the plots become a tab beside the narration, and
        // the views about scale (Scale up, Roofline, Complexity, Conversations) close; the View menu (or a
        // lesson) opens them again, as a band at the bottom.
        tabifyDockWidget(m_explanationDock, m_plotsDock);
        m_explanationDock->raise();
        for (QDockWidget* dock : scaleDocks())
            dock->hide();
    } else {
        addDockWidget(Qt::BottomDockWidgetArea, m_plotsDock);
        resizeDocks({m_plotsDock}, {std::clamp(height() * 22 / 100, 150, 260)}, Qt::Vertical);
    }
}

QList<QDockWidget*> MainWindow::scaleDocks() const {
    return {m_scaleDock, m_rooflineDock, m_complexityDock, m_firstTokenDock, m_conversationsDock};
}

void MainWindow::scheduleFitDockTabs() {
    if (m_fitDockTabsQueued) return;
    m_fitDockTabsQueued = true;
    QTimer::singleShot(0, this, [this] {
        m_fitDockTabsQueued = false;
        fitDockTabs();
    });
}

int MainWindow::tabWidthNeeded(const QTabBar* bar, const QString& text) const {
    // What Qt works out for such a tab: a hidden bar like `bar` (the window's style sheet, its font and
    // mode) holding that one tab; its size hint is the tab's.
    if (!m_tabProbe) {
        m_tabProbe = new QTabBar(const_cast<MainWindow*>(this));
        m_tabProbe->setObjectName(QStringLiteral("tabMeasure"));
        m_tabProbe->hide();
    }
    m_tabProbe->setFont(bar->font());
    m_tabProbe->setDocumentMode(bar->documentMode());
    m_tabProbe->setDrawBase(bar->drawBase());
    m_tabProbe->setExpanding(false);
    m_tabProbe->setElideMode(Qt::ElideNone);
    m_tabProbe->setShape(QTabBar::RoundedNorth);  // the length along the bar, whichever way it stands
    while (m_tabProbe->count() > 0)
        m_tabProbe->removeTab(0);
    m_tabProbe->addTab(text);
    m_tabProbe->ensurePolished();
    return m_tabProbe->sizeHint().width();
}

void MainWindow::fitDockTabs() {
    const QList<QDockWidget*> docks = findChildren<QDockWidget*>(QString(), Qt::FindDirectChildrenOnly);
    auto dockTitled = [&](const QString& title) -> QDockWidget* {
        for (QDockWidget* d : docks)
            if (d->windowTitle() == title) return d;
        return nullptr;
    };
    auto title = [](QDockWidget* d, bool full) {
        const QString t = d->property(full ? "fullTitle" : "shortTitle").toString();
        return t.isEmpty() ? d->windowTitle() : t;
    };
    // The tab bars QMainWindow makes for tabified docks are its direct children.
    for (QTabBar* bar : findChildren<QTabBar*>(QString(), Qt::FindDirectChildrenOnly)) {
        if (bar == m_tabProbe || !bar->isVisible() || bar->count() == 0) continue;
        QList<QDockWidget*> tabs;
        int fullLength = 0, shortLength = 0;
        for (int i = 0; i < bar->count(); ++i) {
            QDockWidget* d = dockTitled(bar->tabText(i));
            if (!d) continue;
            tabs << d;
            fullLength += tabWidthNeeded(bar, title(d, true));
            shortLength += tabWidthNeeded(bar, title(d, false));
        }
        if (tabs.isEmpty()) continue;
        // The room a bar has across the dock (below it) and along its side (standing beside it).
        const Qt::DockWidgetArea area = dockWidgetArea(tabs.first());
        const bool side = area == Qt::LeftDockWidgetArea || area == Qt::RightDockWidgetArea;
        const bool vertical = isVerticalTabBar(bar);
        const int across = vertical ? tabs.first()->width() + bar->width() : bar->width();
        const int along = vertical ? bar->height() : tabs.first()->height() + bar->height();
        // Whole titles below the docks; else the short ones; else (a narrow side area) the tabs stand
        // beside the docks, at the window's edge, where the height has room for them.
        bool full = fullLength <= across, standUp = false;
        if (!full && shortLength > across && side) {
            standUp = true;
            full = fullLength <= along;
        }
        if (side) {
            const QTabWidget::TabPosition want = !standUp                          ? QTabWidget::South
                                                 : area == Qt::RightDockWidgetArea ? QTabWidget::East
                                                                                   : QTabWidget::West;
            if (tabPosition(area) != want) setTabPosition(area, want);
        }
        for (QDockWidget* d : tabs)
            if (d->windowTitle() != title(d, full)) d->setWindowTitle(title(d, full));
    }
}

bool MainWindow::isVerticalTabBar(const QTabBar* bar) {
    switch (bar->shape()) {
        case QTabBar::RoundedWest:
        case QTabBar::RoundedEast:
        case QTabBar::TriangularWest:
        case QTabBar::TriangularEast:
            return true;
        default:
            return false;
    }
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile()) openModel(urls.first().toLocalFile());
}

}  // namespace kvscope::app
