// floating_tip.h — the hover tooltip of every on-screen view, as a small window of its own.
//
// A view draws into its own OpenGL surface, so a tooltip drawn there (by ImGui) is cut at the view's edge:
// the token strip is a few lines tall and its top-5 list never fitted. The views instead describe their
// tooltip (FrameContext::tooltip) and their host shows it here: a frameless tool window placed beside the
// pointer, flipped to the other side and kept inside the screen, its lines wrapped rather than cut. One tip
// for the whole application: only the view under the pointer shows one.
#pragma once

#include <QLabel>
#include <QPointer>

#include "theme.h"

namespace kvscope::app {

class FloatingTip : public QLabel {
    Q_OBJECT
  public:
    static FloatingTip* instance();
    // Shows `lines` (the first in bold, in `accent`) beside the global point `pointer` for `owner`.
    void showFor(const QObject* owner, const QStringList& lines, const QColor& accent, const Theme& theme,
                 float scale, QPoint pointer);
    void hideFor(const QObject* owner);  // hides the tip when `owner` showed it
    const QObject* owner() const { return m_owner; }
    QStringList lines() const { return m_lines; }

  private:
    FloatingTip();
    QPointer<const QObject> m_owner;
    QStringList m_lines;
    QString m_style;
};

}  // namespace kvscope::app
