// view_outline.h — the frame a lesson draws around the view it is talking about.
//
// A GL view may be a native child window (the QOpenGLWindow surface), which covers any widget drawn on
// top of it; so the outline is drawn by the view's host in a margin around its surface (GlView::
// setOutline). Other widgets get a transparent overlay child that paints a border and lets the mouse
// through.
#pragma once

#include <QColor>
#include <QList>
#include <QPointer>
#include <QWidget>

namespace kvscope::app {

class ViewOutline : public QObject {
    Q_OBJECT
  public:
    explicit ViewOutline(QObject* parent = nullptr) : QObject(parent) {}
    ~ViewOutline() override { clear(); }
    // Outlines these widgets (and only these) in `colour`.
    void show(const QList<QWidget*>& targets, const QColor& colour);
    void clear();
    const QList<QPointer<QWidget>>& targets() const { return m_targets; }

  private:
    QList<QPointer<QWidget>> m_targets;
    QList<QPointer<QWidget>> m_overlays;
};

}  // namespace kvscope::app
