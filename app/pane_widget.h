// pane_widget.h — one run's column: a header in the run's colour (with what the engine is doing right
// now, e.g. "Recomputing all 212 tokens…"), then its token strip, KV cache, attention and counters
// views in splitters the user can drag.
#pragma once

#include <QLabel>
#include <QTimer>
#include <QWidget>

#include "run_types.h"

class QSplitter;

namespace kvscope::app {

class GlView;
class TraceStore;
class DisplaySettings;

class PaneWidget : public QWidget {
    Q_OBJECT
  public:
    PaneWidget(Side side, TraceStore& store, DisplaySettings& display, QWidget* parent = nullptr);
    Side side() const { return m_side; }
    GlView* tokenStrip() const { return m_tokens; }
    GlView* kvCacheView() const { return m_kv; }
    GlView* attentionView() const { return m_attention; }
    GlView* countersView() const { return m_counters; }
    QList<GlView*> views() const { return {m_tokens, m_kv, m_attention, m_counters}; }

    // What the engine is doing for this run (empty: idle).
    void setBusy(const QString& what);
    void setNote(const QString& note);  // a lasting note (e.g. the end of the context)
    QString note() const { return m_note; }
    QString statusText() const { return m_status->text(); }  // what the header says now
    void setTitle(const QString& title);  // the run's name (the right pane: no cache, or a variant)
    QByteArray saveSplitters() const;
    void restoreSplitters(const QByteArray& state);
    // Both panes' headers as tall as the taller one's text needs, from now on: the views below then line
    // up (the same rows side by side) whether or not one pane's status wraps onto more lines.
    static void alignHeaders(PaneWidget* a, PaneWidget* b);
    int headerHeight() const { return m_header->height(); }

  signals:
    void headerChanged();  // the header's text or width changed: the height it needs may have

  protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

  private:
    int headerHeightNeeded() const;
    void restyle();
    void tick();
    Side m_side;
    DisplaySettings& m_display;
    QWidget* m_header;
    QLabel* m_title;
    QLabel* m_status;
    GlView* m_tokens;
    GlView* m_kv;
    GlView* m_attention;
    GlView* m_counters;
    QSplitter* m_vertical;
    QSplitter* m_horizontal;
    QString m_busy, m_note;
    QTimer m_spinner;
    int m_frame = 0;
};

}  // namespace kvscope::app
