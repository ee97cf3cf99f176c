#include "icons.h"

#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

namespace kvscope::app {

namespace {

void drawIcon(QPainter& p, ToolIcon kind, const QColor& c, qreal s) {
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(c);
    auto triangle = [&](qreal x0, qreal x1) {
        QPainterPath t;
        t.moveTo(x0, s * 0.2);
        t.lineTo(x1, s * 0.5);
        t.lineTo(x0, s * 0.8);
        t.closeSubpath();
        p.drawPath(t);
    };
    switch (kind) {
        case ToolIcon::open: {
            QPainterPath folder;
            folder.moveTo(s * 0.1, s * 0.25);
            folder.lineTo(s * 0.4, s * 0.25);
            folder.lineTo(s * 0.48, s * 0.33);
            folder.lineTo(s * 0.9, s * 0.33);
            folder.lineTo(s * 0.9, s * 0.8);
            folder.lineTo(s * 0.1, s * 0.8);
            folder.closeSubpath();
            p.drawPath(folder);
            break;
        }
        case ToolIcon::prefill:  // many tokens at once: a double triangle
            triangle(s * 0.12, s * 0.52);
            triangle(s * 0.48, s * 0.88);
            break;
        case ToolIcon::step:  // one token: a triangle and a bar
            triangle(s * 0.18, s * 0.66);
            p.drawRect(QRectF(s * 0.7, s * 0.2, s * 0.12, s * 0.6));
            break;
        case ToolIcon::play:
            triangle(s * 0.25, s * 0.8);
            break;
        case ToolIcon::pause:
            p.drawRect(QRectF(s * 0.25, s * 0.2, s * 0.17, s * 0.6));
            p.drawRect(QRectF(s * 0.58, s * 0.2, s * 0.17, s * 0.6));
            break;
        case ToolIcon::reset: {
            p.setBrush(Qt::NoBrush);
            p.setPen(QPen(c, s * 0.11, Qt::SolidLine, Qt::RoundCap));
            p.drawArc(QRectF(s * 0.2, s * 0.2, s * 0.6, s * 0.6), 100 * 16, 280 * 16);
            p.setPen(Qt::NoPen);
            p.setBrush(c);
            QPainterPath head;
            head.moveTo(s * 0.38, s * 0.08);
            head.lineTo(s * 0.6, s * 0.2);
            head.lineTo(s * 0.38, s * 0.34);
            head.closeSubpath();
            p.drawPath(head);
            break;
        }
    }
}

}  // namespace

QIcon toolIcon(ToolIcon kind, const QColor& colour) {
    QIcon icon;
    for (int size : {16, 24, 32, 48}) {
        QPixmap pm(size, size);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        drawIcon(p, kind, colour, size);
        p.end();
        icon.addPixmap(pm);
    }
    return icon;
}

}  // namespace kvscope::app
