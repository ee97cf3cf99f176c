// explanation_panel.h — the dock that narrates the selected step in plain words (narration.h), redrawn
// at most a few times a second so that play at full speed does not spend the GUI thread on HTML.
#pragma once

#include <QTimer>
#include <QWidget>

#include "run_types.h"

class QTextBrowser;

namespace kvscope::app {

class TraceStore;
class DisplaySettings;

class ExplanationPanel : public QWidget {
    Q_OBJECT
  public:
    ExplanationPanel(TraceStore& store, DisplaySettings& display, QWidget* parent = nullptr);
    void setMode(CompareMode mode);
    QString currentHtml() const { return m_html; }
    void refreshNow();

  private:
    TraceStore& m_store;
    DisplaySettings& m_display;
    CompareMode m_mode = CompareMode::lockstep;
    QTextBrowser* m_text;
    QTimer m_throttle;
    QString m_html;
};

}  // namespace kvscope::app
