#include "main_window.h"

#include "kvscope/cache_policy.h"

#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QToolBar>
#include <QUrl>

#include "conversations/conversations_panel.h"
#include "engine_worker.h"
#include "explanation_panel.h"
#include "format.h"
#include "pane_widget.h"
#include "sampling_panel.h"
#include "timeline_bar.h"
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
    m_memoryLabel = new QLabel(this);
    // Long model descriptions must not widen the window past a small screen: they are cut instead.
    m_modelLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_modelLabel->setMinimumWidth(80);
    statusBar()->addPermanentWidget(m_memoryLabel);
    statusBar()->addPermanentWidget(m_modelLabel);
    connect(&m_store, &TraceStore::changed, this, [this](const StoreChange& c) {
        if (c.kind != StoreChange::Kind::selection) updateTitleAndStatus();
        syncRunControls();
    });
    connect(m_display, &DisplaySettings::changed, this, &MainWindow::applyDisplay);

    // First start: the whole screen (a teaching tool is used full size), docks sized for it, and slightly
    // smaller type on small screens; later starts restore what the user left.
    if (QScreen* screen = QGuiApplication::primaryScreen()) {
        const QSize available = screen->availableGeometry().size();
        resize(available);
        resizeDocks({m_explanationDock}, {std::clamp(available.width() / 5, 260, 420)}, Qt::Horizontal);
        resizeDocks({m_plotsDock}, {std::clamp(available.height() * 22 / 100, 150, 260)}, Qt::Vertical);
        if (available.height() < 900) m_display->setFontScale(0.85f);
    }
    if (m_options.useSettings) readSettings();
    applyDisplay();
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
}

void MainWindow::buildCentral() {
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName(QStringLiteral("panes"));
    for (Side side : kSides) {
        m_panes[sideIndex(side)] = new PaneWidget(side, m_store, *m_display, split);
        split->addWidget(m_panes[sideIndex(side)]);
    }
    split->setChildrenCollapsible(false);
    setCentralWidget(split);
}

void MainWindow::buildDocks() {
    m_plots = new GlView(m_store, *m_display, std::make_unique<PlotsRenderer>(), Side::cached);
    m_plots->setMinimumHeight(150);
    m_plotsDock = new QDockWidget(tr("Plots"), this);
    m_plotsDock->setObjectName(QStringLiteral("plotsDock"));
    m_plotsDock->setWidget(m_plots);
    addDockWidget(Qt::BottomDockWidgetArea, m_plotsDock);

    m_explanation = new ExplanationPanel(m_store, *m_display);
    m_explanationDock = new QDockWidget(tr("What just happened"), this);
    m_explanationDock->setObjectName(QStringLiteral("explanationDock"));
    m_explanationDock->setWidget(m_explanation);
    addDockWidget(Qt::RightDockWidgetArea, m_explanationDock);

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
    connect(m_sampling, &SamplingPanel::edited, this, [this] {
        m_settings = m_sampling->settings(m_settings);
        sendSettings();
    });
}

void MainWindow::showConversations() {
    m_conversationsDock->show();
    m_conversationsDock->raise();
    // The block maps need height: at least 45% of the window.
    resizeDocks({m_conversationsDock}, {std::max(height() * 45 / 100, m_conversationsDock->height())},
                Qt::Vertical);
}

QList<GlView*> MainWindow::glViews() const {
    QList<GlView*> views;
    for (PaneWidget* p : m_panes)
        views << p->views();
    views << m_plots;
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
    // Not modal: a long-running play or the benchmark must not block on a dialog.
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setObjectName(QStringLiteral("kvscopeError"));
    box->open();
    emit errorShown(message);
    return box;
}

void MainWindow::updateTitleAndStatus() {
    if (!m_model.valid()) {
        setWindowTitle(QStringLiteral("KVScope"));
        m_modelLabel->setText(tr("no model"));
    } else {
        const ModelConfig& c = m_model.config();
        setWindowTitle(QStringLiteral("KVScope — %1").arg(m_model.displayName));
        m_modelLabel->setText(tr("%1 · %2 · %3 layers · %4 heads / %5 KV · context %6 · %7")
                                  .arg(m_model.displayName, QString::fromStdString(c.arch_name))
                                  .arg(c.n_layers)
                                  .arg(c.n_heads)
                                  .arg(c.n_kv_heads)
                                  .arg(m_model.capacity)
                                  .arg(m_model.backendName));
    }
    m_memoryLabel->setText(tr("history %1").arg(formatBytes(double(m_store.bytesHeld()))));
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

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile()) openModel(urls.first().toLocalFile());
}

}  // namespace kvscope::app
