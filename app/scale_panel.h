// scale_panel.h — the "Scale up" and "Roofline" docks: Qt controls above a GlView that hosts the renderer.
//
// ScalePanel: context (a log slider, 1K … 1M tokens), weight and cache precision, concurrent conversations
// and the model looked at; they edit the window's ScaleSettings and the view redraws.
// RooflinePanel: this machine's roofs (read from the settings, or measured on first show), "Measure again"
// (on a worker thread: the GUI stays responsive), and what they are.
#pragma once

#include <QFutureWatcher>
#include <QWidget>

#include "scale_settings.h"
#include "trace_store.h"

class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;

namespace kvscope::app {

class DisplaySettings;
class GlView;

class ScalePanel : public QWidget {
    Q_OBJECT
  public:
    ScalePanel(ScaleSettings& settings, TraceStore& store, DisplaySettings& display,
               QWidget* parent = nullptr);
    GlView* view() const { return m_view; }
    void syncControls();  // after the settings changed elsewhere (the view's clicks, read settings)
    // Context as the slider holds it: 1K · 2^k, k = 0 … 10.
    static double contextForSlider(int k) { return 1024.0 * double(1 << k); }

  signals:
    void edited();

  private:
    void fromControls();
    ScaleSettings& m_settings;
    TraceStore& m_store;
    GlView* m_view = nullptr;
    QSlider* m_context = nullptr;
    QLabel* m_contextLabel = nullptr;
    QComboBox* m_weights = nullptr;
    QComboBox* m_kv = nullptr;
    QSpinBox* m_conversations = nullptr;
    QComboBox* m_model = nullptr;
    bool m_syncing = false;
};

class RooflinePanel : public QWidget {
    Q_OBJECT
  public:
    RooflinePanel(MachinePeaks& peaks, TraceStore& store, DisplaySettings& display,
                  QWidget* parent = nullptr);
    GlView* view() const { return m_view; }
    void measure();  // on a worker thread; measuredAgain() when done
    bool measuring() const { return m_watcher.isRunning(); }

  signals:
    void measured();

  private:
    void showPeaks();
    MachinePeaks& m_peaks;
    GlView* m_view = nullptr;
    QLabel* m_status = nullptr;
    QPushButton* m_measure = nullptr;
    QFutureWatcher<Result<MachinePeaks>> m_watcher;
};

}  // namespace kvscope::app
