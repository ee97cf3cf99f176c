// main_window.h — KVScope's window: menus, toolbar (prompt, Prefill, Step, Play, speed, mode, Reset),
// the two run panes side by side, docks (plots, scale up, roofline, complexity, explanation, sampling &
// device), the timeline, the status bar; presenter mode; settings remembered with QSettings.
//
// The window owns the TraceStore and the engine thread. It turns user actions into worker requests
// and worker answers into store updates; the views follow the store on their own. It never computes.
// Split by job: main_window.cpp (construction, layout, settings), main_window_actions.cpp (menus,
// toolbar, shortcuts, presenter mode), main_window_run.cpp (requests to the worker and its answers).
#pragma once

#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>
#include <QThread>
#include <functional>

#include "run_types.h"
#include "scale_settings.h"
#include "theme.h"
#include "trace_store.h"

class QAction;
class QActionGroup;
class QComboBox;
class QDockWidget;
class QLabel;
class QLineEdit;
class QTabBar;
class QMessageBox;
class QMenu;
class QSlider;
class QStackedWidget;
class QToolBar;

namespace kvscope::app {

class DisplaySettings;
class EngineWorker;
class ConversationsPanel;
class ExplanationPanel;
class GlossaryDialog;
class LessonPanel;
class GlView;
class PaneWidget;
class PresenterWidget;
class ExportDialog;
class FirstTokenPanel;
class RooflinePanel;
class ScalePanel;
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
    // Mode and device rebuild the sessions and restart the runs from the prompt. With `askFirst` (the
    // user's keys, menus and toolbar) a question comes first when decode steps would be dropped.
    void setMode(CompareMode mode, bool askFirst = false);
    // The right pane's run: "" (without a KV cache) or a cache variant spec; freeRunning: the variant
    // picks its own tokens.
    void setRightRun(const QString& spec, bool freeRunning, bool askFirst = false);
    void setSpeed(double tokensPerSecond);  // 0: as fast as the engine goes
    void setDevice(DeviceKind device, bool askFirst = false);
    void setTheme(ThemeKind kind);
    void setFontScale(float scale);
    void setPresenterMode(bool on);
    void showExportDialog();  // File ▸ Export for slides…
    // Gives the keyboard back to the run: the prompt box stops editing, so Space, P, arrows and Home/End
    // step, play and scrub (done after every prefill, step and play, and by Esc in the prompt box).
    void leavePrompt();
    // A prompt that runs on `info`: sample text for a model with a tokenizer, sample token ids without one.
    static QString samplePrompt(const ModelInfo& info);
    // Whether a step would have nowhere to go: the runs at the selected (latest) step hold as many tokens
    // as their context allows (in race mode, both runs). Step and Play are off then, with the reason.
    bool contextFull() const;
    QString contextFullReason() const;  // why Step is off, in words; empty when it is not
    QString contextFullShort() const;   // the same in a few words (the status bar)
    // A run's trace at its selected step fills the context.
    int tokenLimit(Side side) const;  // run_types.h: runTokenLimit for the side's run
    bool runFull(Side side) const;

    TraceStore& store() { return m_store; }
    DisplaySettings& display() { return *m_display; }
    EngineWorker* worker() const { return m_worker; }
    PaneWidget* pane(Side side) const { return m_panes[sideIndex(side)]; }
    GlView* plotsView() const { return m_plots; }
    ExplanationPanel* explanation() const { return m_explanation; }
    TimelineBar* timeline() const { return m_timeline; }
    QWidget* stepButton() const;  // the toolbar's Step button
    QWidget* promptField() const;
    QWidget* modeSelector() const;
    QWidget* rightRunSelector() const;  // the toolbar's list of what the right pane runs
    LessonPanel* lessons() const { return m_lessons; }
    QDockWidget* lessonsDock() const { return m_lessonsDock; }
    // F1: the glossary (at `term`, or at the keyboard shortcuts when empty); made on first use.
    GlossaryDialog* showGlossary(const QString& term = QString());
    ScalePanel* scalePanel() const { return m_scalePanel; }
    RooflinePanel* rooflinePanel() const { return m_rooflinePanel; }
    ScaleSettings& scaleSettings() { return m_scaleSettings; }
    // What File ▸ Export starts from that the dialog has no controls for: the Scale up view's choices.
    void prepareExportDialog(ExportDialog& dialog) const;
    const MachinePeaks& machinePeaks() const { return m_peaks; }
    // Shows the Scale up or Roofline dock in front (the View menu does the same).
    void showScaleView();
    void showRooflineView();
    void showComplexityView();
    GlView* complexityView() const { return m_complexity; }
    void showFirstTokenView();  // the pause before the first word (measures on first show)
    FirstTokenPanel* firstToken() const { return m_firstToken; }
    ConversationsPanel* conversations() const { return m_conversations; }
    void showConversations();
    void saveCache();  // File ▸ Save cache… (asks for a file)
    void openCache();  // File ▸ Open cache… (asks for a file)
    // Continues from a saved cache: it becomes step 0 of the run with a KV cache, restored without
    // computing; the right run processes its tokens (EngineWorker::openCache).
    void openCacheFrom(const QString& path);
    void saveCacheTo(const QString& path);  // the cached run's K/V, resumable with kvscope-cli --load-cache
                                            // // View ▸ Conversations: raises the dock and gives it room
    QList<GlView*> glViews() const;
    const RunSettings& runSettings() const { return m_settings; }
    bool playing() const { return m_playing; }
    bool presenterMode() const { return m_presenter; }
    // Presenter mode's own layout (made when presenter mode is first entered; null before).
    PresenterWidget* presenter() const { return m_presenterWidget; }
    QString lastError() const { return m_lastError; }
    // The open "restart the runs?" question (mode or device switch), or null.
    QMessageBox* restartQuestion() const { return m_restartQuestion; }
    QLineEdit* promptEdit() const { return m_promptEdit; }
    QAction* stepAction() const { return m_stepAction; }
    QAction* playAction() const { return m_playAction; }
    QString modelLabelText() const;  // the status bar's model description
    // The length a tab of `bar` needs along the bar to show `text` whole (what QTabBar's size hint works
    // out), and whether the bar stands beside its docks.
    int tabWidthNeeded(const QTabBar* bar, const QString& text) const;
    static bool isVerticalTabBar(const QTabBar* bar);

  signals:
    void modelReady(const kvscope::app::ModelInfo& info);
    void errorShown(const QString& message);
    void stepArrived();
    // The presses stepRepeatedly() asked for have all been answered, or the context filled before they
    // were (`done` says how many were).
    void stepsFinished(int done, int asked);
    // The runs have just filled the context: what happened, in one line (the app prints it on stderr).
    void contextFilled(const QString& message);
    // File ▸ Save cache… finished: `error` is empty on success.
    void cacheSaved(const QString& path, const QString& error);
    // File ▸ Open cache… finished: `error` is empty on success.
    void cacheOpened(const QString& path, const QString& error);

  protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

  private:
    // main_window.cpp
    void buildCentral();
    void buildDocks();
    void readSettings();
    void writeSettings();
    void updateTitleAndStatus();
    void applyDisplay();
    // Below 900 px of height the plots become a tab beside the narration, so the panes' views keep a
    // readable size; above it they go back under the panes.
    void fitDocksToHeight();
    // The views about scale in the band below the panes (Scale up, Roofline, Complexity, Conversations).
    QList<QDockWidget*> scaleDocks() const;
    // Dock tabs show their whole title: a tab bar too narrow for the full titles (the narration's at
    // 1280×720) switches its docks to their short titles ("What happened", "Sampling"), and back when the
    // room returns. Runs after every layout change (queued, once).
    void fitDockTabs();
    void scheduleFitDockTabs();
    bool m_fitDockTabsQueued = false;
    mutable QTabBar* m_tabProbe = nullptr;  // tabWidthNeeded's measuring bar (hidden)
    QMessageBox* showError(const QString& title, const QString& message);
    // main_window_actions.cpp
    void buildActions();
    void buildMenus();
    void buildToolbar();
    void rebuildRecentMenu();
    void addRecent(const QString& path);
    void chooseModelFile();
    void syncRunControls();
    void chooseModelFolder();
    // Switching mode or device rebuilds the sessions and restarts the runs from the prompt: asks first
    // when that would drop decode steps; `apply` runs once the user agrees (at once when nothing is lost).
    void confirmRestart(const QString& what, const std::function<void()>& apply);
    void applyMode(CompareMode mode);
    void applyRightRun(const QString& spec, bool freeRunning);
    void restartRunsWithNewSettings();  // after a change of mode or right run: both runs restart
    void applyDevice(DeviceKind device);
    void updateContextState();
    bool eventFilter(QObject* watched, QEvent* event) override;
    // main_window_run.cpp
    void connectWorker();
    void sendSettings();
    int keepStepsForRequest();
    bool parsePromptOrComplain(std::vector<int32_t>* tokens);
    void onModelLoaded(const ModelInfo& info);
    void onLoadFailed(const QString& path, const QString& message);
    void onStepped(const StepPair& pair);
    void onRaceStepped(Side side, const StepTracePtr& trace, quint64 epoch);
    void onStepFailed(const QString& message);
    void onCacheOpened(const QString& path, const QString& error, int tokens, double seconds);
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
    int m_autoAsked = 0;           // presses stepRepeatedly() was asked for
    int m_autoDone = 0;            // of which answered
    bool m_wasFull = false;        // the context was full at the last store change
    bool m_variantWentOn = false;  // lockstep: the exact run had stopped and the cache variant could go on
    int m_fullAnnouncedAt = -1;    // the history length at which contextFilled was last emitted
    QString m_samplePrompt;  // the sample the app put in the prompt box (replaced freely on a new model)
    bool m_reprefillAfterReset = false;
    QString m_lastError;
    QPointer<QMessageBox> m_restartQuestion;
    QPointer<QMessageBox> m_errorBox;  // the one error notice, while it is open
    QStringList m_recent;

    struct BeforePresenter {
        ThemeKind theme = ThemeKind::dark;
        float fontScale = 1.0f;
        bool maximized = false;
        QByteArray state;  // docks and toolbars
    } m_beforePresenter;
    QStackedWidget* m_central = nullptr;  // the two panes, or presenter mode's layout
    PresenterWidget* m_presenterWidget = nullptr;
    bool m_compactDocks = false;
    int m_bandHeightBefore = -1;  // the bottom band's height before a scale view's tab took 45% (-1: none)

    PaneWidget* m_panes[kSideCount] = {};
    GlView* m_plots = nullptr;
    ScaleSettings m_scaleSettings;
    MachinePeaks m_peaks;
    ScalePanel* m_scalePanel = nullptr;
    RooflinePanel* m_rooflinePanel = nullptr;
    QDockWidget* m_scaleDock = nullptr;
    QDockWidget* m_rooflineDock = nullptr;
    GlView* m_complexity = nullptr;
    QDockWidget* m_complexityDock = nullptr;
    FirstTokenPanel* m_firstToken = nullptr;
    QDockWidget* m_firstTokenDock = nullptr;
    ExplanationPanel* m_explanation = nullptr;
    LessonPanel* m_lessons = nullptr;
    QDockWidget* m_lessonsDock = nullptr;
    GlossaryDialog* m_glossary = nullptr;
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
    QAction* m_openFolderAction = nullptr;
    QAction* m_openDefaultAction = nullptr;
    QAction* m_exportAction = nullptr;
    QAction* m_lessonPackAction = nullptr;
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
