// first_token_panel.h — the "First token" dock: a Measure button above a GlView that draws the pause
// before the first word (views/first_token_renderer.h).
//
// Measure runs the sweep (first_token_sweep.h, as `kvscope-cli bench --prompt-lengths` does) on the loaded
// model, on a worker thread with an engine of its own: prompts of 16, 32, 64, … tokens up to what the runs
// may hold, each a fresh prefill, then 8 decode steps. Rows reach the view as they are measured; a new model
// cancels the sweep and clears them.
#pragma once

#include <QFutureWatcher>
#include <QWidget>
#include <atomic>

#include "first_token_sweep.h"
#include "kvscope/status.h"
#include "trace_store.h"
#include "views/first_token_renderer.h"

class QLabel;
class QPushButton;

namespace kvscope::app {

class DisplaySettings;
class GlView;

class FirstTokenPanel : public QWidget {
    Q_OBJECT
  public:
    FirstTokenPanel(TraceStore& store, DisplaySettings& display, QWidget* parent = nullptr);
    ~FirstTokenPanel() override;  // cancels a sweep in flight and waits for it
    GlView* view() const { return m_view; }
    const FirstTokenSweep& sweep() const { return *m_sweep; }
    bool measuring() const { return m_watcher.isRunning(); }
    void measure();

  signals:
    void measured(const QString& error);  // the sweep ended: error empty when every length ran

  private:
    void cancel();
    TraceStore& m_store;
    GlView* m_view = nullptr;
    QPushButton* m_measure = nullptr;
    QLabel* m_status = nullptr;
    // What the view draws; a sweep fills it in place.
    std::shared_ptr<FirstTokenSweep> m_sweep = std::make_shared<FirstTokenSweep>();
    std::atomic<bool> m_cancel{false};
    int m_generation = 0;  // of the sweep whose rows are wanted: rows of a cancelled one are dropped
    QFutureWatcher<Status> m_watcher;
};

}  // namespace kvscope::app
