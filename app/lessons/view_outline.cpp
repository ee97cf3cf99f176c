#include "lessons/view_outline.h"

#include <QEvent>
#include <QPainter>

#include "views/gl_view.h"

namespace kvscope::app {

namespace {

// A border over a plain widget, following its size, transparent to the mouse.
class Overlay : public QWidget {
  public:
    Overlay(QWidget* target, const QColor& colour) : QWidget(target), m_colour(colour) {
        setAttribute(Qt::WA_TransparentForMouseEvents);
        setAttribute(Qt::WA_NoSystemBackground);
        setObjectName(QStringLiteral("lessonOutline"));
        setGeometry(target->rect());
        target->installEventFilter(this);
        raise();
        QWidget::show();
    }

  protected:
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (watched == parent() && event->type() == QEvent::Resize) {
            setGeometry(static_cast<QWidget*>(watched)->rect());
            raise();
        }
        return false;
    }
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        const int w = 3;
        p.setPen(QPen(m_colour, w));
        p.drawRect(rect().adjusted(w / 2, w / 2, -(w + 1) / 2, -(w + 1) / 2));
    }

  private:
    QColor m_colour;
};

}  // namespace

void ViewOutline::show(const QList<QWidget*>& targets, const QColor& colour) {
    clear();
    for (QWidget* t : targets) {
        if (!t) continue;
        m_targets << t;
        if (auto* gl = qobject_cast<GlView*>(t))
            gl->setOutline(colour);
        else
            m_overlays << new Overlay(t, colour);
    }
}

void ViewOutline::clear() {
    for (const QPointer<QWidget>& t : m_targets)
        if (auto* gl = qobject_cast<GlView*>(t.data())) gl->setOutline(QColor());
    for (const QPointer<QWidget>& o : m_overlays)
        delete o.data();
    m_targets.clear();
    m_overlays.clear();
}

}  // namespace kvscope::app
