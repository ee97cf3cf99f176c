// presenter_widget.h — presenter mode's own layout (F5): fewer, larger views for a projector.
//
// At the top, the headline comparing both runs at the same sequence length (HeadlineRenderer). Below it, on
// the left, one page at a time, each showing both runs side by side with the same rows — KV cache,
// attention, tokens, counters — and the plots; pages that do not fit at once become tabs (keys 1–5 switch,
// as do clicks), so nothing is squeezed into a sliver or silently left out. On the right, the narration.
// The views are made when their page is first shown (each view is an OpenGL context).
#pragma once

#include <QWidget>
#include <array>
#include <functional>
#include <memory>

#include "run_types.h"

class QLabel;
class QSplitter;
class QTabWidget;

namespace kvscope::app {

class DisplaySettings;
class ExplanationPanel;
class GlView;
class TraceStore;
class ViewRenderer;

class PresenterWidget : public QWidget {
    Q_OBJECT
  public:
    PresenterWidget(TraceStore& store, DisplaySettings& display, QWidget* parent = nullptr);
    enum Page { kvCachePage, attentionPage, tokensPage, countersPage, plotsPage, pageCount };
    void showPage(int page);
    int currentPage() const;
    QTabWidget* tabs() const { return m_tabs; }
    GlView* headline() const { return m_headline; }
    ExplanationPanel* narration() const { return m_narration; }
    // The views made so far (the headline, then the pages' views that have been shown).
    QList<GlView*> views() const;
    void setMode(CompareMode mode);

  protected:
    void resizeEvent(QResizeEvent* event) override;

  private:
    void ensurePage(int page);
    void restyle();
    TraceStore& m_store;
    DisplaySettings& m_display;
    GlView* m_headline = nullptr;
    QTabWidget* m_tabs = nullptr;
    QSplitter* m_split = nullptr;
    ExplanationPanel* m_narration = nullptr;
    std::array<QList<GlView*>, pageCount> m_pageViews;
    QList<QLabel*> m_sideLabels;
};

}  // namespace kvscope::app
