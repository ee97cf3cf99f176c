// timeline_bar.h — the scrubber over every step taken: drag to any earlier step and every view shows the
// runs as they were then (from the TraceStore; the engine is not asked). Step back / latest buttons
// beside it. Stepping from an earlier step continues from there (the main window rewinds the engine).
#pragma once

#include <QWidget>

#include "trace_store.h"

class QSlider;
class QLabel;
class QToolButton;

namespace kvscope::app {

class TimelineBar : public QWidget {
    Q_OBJECT
  public:
    TimelineBar(TraceStore& store, QWidget* parent = nullptr);
    QSlider* slider() const { return m_slider; }

  private:
    void sync();
    TraceStore& m_store;
    QToolButton* m_back;
    QToolButton* m_latest;
    QSlider* m_slider;
    QLabel* m_label;
    bool m_syncing = false;
};

}  // namespace kvscope::app
