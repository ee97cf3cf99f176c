// main_window.h — KVScope's window: menus, toolbar (prompt, Prefill, Step, Play, speed, mode, Reset),
// the two run panes side by side, docks (plots, explanation, sampling & device), the timeline, the
// status bar; presenter mode; settings remembered with QSettings.
//
// The window owns the TraceStore and the engine thread. It turns user actions into worker requests
// and worker answers into store updates; the views follow the store on their own. It never computes.
// Split by job: main_window.cpp (construction, layout, settings), main_window_actions.cpp (menus,
// toolbar, shortcuts, presenter mode), main_window_run.cpp (requests to the worker and its answers).
#pragma once

#include <QMainWindow>
#include <QPointer>
#include <QThread>

#include "run_types.h"
#include "theme.h"
#include "trace_store.h"

class QAction;
class QActionGroup;
class QComboBox;
class QDockWidget;
class QLabel;
class QLineEdit;
class QMessageBox;
class QMenu;
class QSlider;
class QToolBar;

namespace kvscope::app {

class DisplaySettings;
class EngineWorker;
class ConversationsPanel;
class ExplanationPanel;
class GlView;
class PaneWidget;
class SamplingPanel;
class TimelineBar;

class MainWindow : public QMainWindow {
    Q_OBJECT
  public:
    struct Options {
        bool openDefaultModel = true;  // at start: the embedded model, or a message and the Open dialog
        bool useSettings = true;       // read and write QSettings (tests start from defaults)
    };
    explicit MainWindow(const Options& options, QWidget* parent = nullptr);
    ~MainWindow() override;

    // --- what the menus, toolbar, command line, benchmark and tests do ------------------------------------
    void openModel(const QString& path);
    void openDefaultModel();
    void setPrompt(const QString& text);
    QString prompt() const;
    void prefill();  // (re)starts both runs on the prompt
    void step();     // one step of both runs (the prefill if nothing has run); from the selected step
    void play();
    void pause();
    void togglePlay();
    void reset();
    void stepRepeatedly(int presses);  // presses Step `presses` times, each after the previous result
    void setMode(CompareMode mode);
    // The right pane's run: "" (without a KV cache) or a cache variant spec; freeRunning: the variant
    // picks its own tokens.
    void setRightRun(const QString& spec, bool freeRunning);
    void setSpeed(double tokensPerSecond);  // 0: as fast as the engine goes
    void setDevice(DeviceKind device);
    void setTheme(ThemeKind kind);
    void setFontScale(float scale);
    void setPresenterMode(bool on);
    void showExportDialog();  // File ▸ Export for slides…

    TraceStore& store() { return m_store; }
    DisplaySettings& display() { return *m_display; }
    EngineWorker* worker() const { return m_worker; }
    PaneWidget* pane(Side side) const { return m_panes[sideIndex(side)]; }
    GlView* plotsView() const { return m_plots; }
    ExplanationPanel* explanation() const { return m_explanation; }
    ConversationsPanel* conversations() const { return m_conversations; }
    void showConversations();  // View ▸ Conversations: raises the dock and gives it room
    QList<GlView*> glViews() const;
    const RunSettings& runSettings() const { return m_settings; }
    bool playing() const { return m_playing; }
    bool presenterMode() const { return m_presenter; }
    QString lastError() const { return m_lastError; }

  signals:
    void modelReady(const kvscope::app::ModelInfo& info);
    void errorShown(const QString& message);
    void stepArrived();
    void stepsFinished();  // the presses stepRepeatedly() asked for have all been answered

  protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

  private:
    // main_window.cpp
    void buildCentral();
    void buildDocks();
    void readSettings();
    void writeSettings();
    void updateTitleAndStatus();
    void applyDisplay();
    QMessageBox* showError(const QString& title, const QString& message);
    // main_window_actions.cpp
    void buildActions();
    void buildMenus();
    void buildToolbar();
    void rebuildRecentMenu();
    void addRecent(const QString& path);
    void chooseModelFile();
    void showKeyboardHelp();
    void syncRunControls();
    // main_window_run.cpp
    void connectWorker();
    void sendSettings();
    int keepStepsForRequest();
    bool parsePromptOrComplain(std::vector<int32_t>* tokens);
    void onModelLoaded(const ModelInfo& info);
    void onLoadFailed(const QString& path, const QString& message);
    void onStepped(const StepPair& pair);
    void onRaceStepped(Side side, const StepTracePtr& trace);
    void onStepFailed(const QString& message);
    void onRunReset();
    void afterResult(bool completesStep);

    Options m_options;
    TraceStore m_store;
    DisplaySettings* m_display;
    QThread m_engineThread;
    EngineWorker* m_worker;
    RunSettings m_settings;
    ModelInfo m_model;
    std::vector<int32_t> m_runPrompt;  // the prompt the current run was prefilled with
    bool m_playing = false;
    bool m_presenter = false;
    int m_autoSteps = 0;
    bool m_autoActive = false;
    bool m_reprefillAfterReset = false;
    QString m_lastError;
    QStringList m_recent;

    struct BeforePresenter {
        ThemeKind theme = ThemeKind::dark;
        float fontScale = 1.0f;
        bool maximized = false;
    } m_beforePresenter;

    PaneWidget* m_panes[kSideCount] = {};
    GlView* m_plots = nullptr;
    ExplanationPanel* m_explanation = nullptr;
    SamplingPanel* m_sampling = nullptr;
    TimelineBar* m_timeline = nullptr;
    QDockWidget* m_plotsDock = nullptr;
    QDockWidget* m_explanationDock = nullptr;
    QDockWidget* m_samplingDock = nullptr;
    ConversationsPanel* m_conversations = nullptr;
    QDockWidget* m_conversationsDock = nullptr;
    QToolBar* m_toolbar = nullptr;
    QToolBar* m_timelineBar = nullptr;
    QLineEdit* m_promptEdit = nullptr;
    QComboBox* m_modeCombo = nullptr;
    QComboBox* m_rightRunCombo = nullptr;  // "Without KV cache" or a cache variant (cache_variants())
    QLineEdit* m_rightRunSpec = nullptr;   // the variant with its parameters, editable
    QAction* m_freeRunningAction = nullptr;
    void syncRightRunControls();
    QSlider* m_speedSlider = nullptr;
    QLabel* m_speedLabel = nullptr;
    QLabel* m_modelLabel = nullptr;
    QLabel* m_memoryLabel = nullptr;
    QMenu* m_recentMenu = nullptr;

    QAction* m_openAction = nullptr;
    QAction* m_openDefaultAction = nullptr;
    QAction* m_exportAction = nullptr;
    QAction* m_quitAction = nullptr;
    QAction* m_prefillAction = nullptr;
    QAction* m_stepAction = nullptr;
    QAction* m_playAction = nullptr;
    QAction* m_resetAction = nullptr;
    QAction* m_backAction = nullptr;
    QAction* m_forwardAction = nullptr;
    QAction* m_firstAction = nullptr;
    QAction* m_latestAction = nullptr;
    QAction* m_lockstepAction = nullptr;
    QAction* m_raceAction = nullptr;
    QAction* m_cpuAction = nullptr;
    QAction* m_cudaAction = nullptr;
    QAction* m_themeActions[3] = {};
    QAction* m_biggerAction = nullptr;
    QAction* m_smallerAction = nullptr;
    QAction* m_presenterAction = nullptr;
    QAction* m_fullScreenAction = nullptr;
    QAction* m_allHeadsAction = nullptr;
    QAction* m_helpAction = nullptr;
    QAction* m_aboutAction = nullptr;
};

}  // namespace kvscope::app
