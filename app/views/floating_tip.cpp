#include "views/floating_tip.h"

#include <QGuiApplication>
#include <QScreen>
#include <algorithm>

namespace kvscope::app {

FloatingTip* FloatingTip::instance() {
    static QPointer<FloatingTip> tip;
    if (!tip) tip = new FloatingTip;  // a top-level window: lives as long as the application
    return tip;
}

FloatingTip::FloatingTip() : QLabel(nullptr, Qt::ToolTip | Qt::FramelessWindowHint) {
    setObjectName(QStringLiteral("kvscopeTooltip"));
    setAttribute(Qt::WA_ShowWithoutActivating);
    setAttribute(Qt::WA_TransparentForMouseEvents);
    setTextFormat(Qt::RichText);
    setWordWrap(false);
}

void FloatingTip::showFor(const QObject* owner, const QStringList& lines, const QColor& accent,
                          const Theme& theme, float scale, QPoint pointer) {
    if (lines.isEmpty()) {
        hideFor(owner);
        return;
    }
    const QString style = QStringLiteral(
                              "QLabel#kvscopeTooltip { background: %1; color: %2; border: 1px solid %3; "
                              "border-radius: 4px; padding: %4px %5px; font-size: %6pt; }")
                              .arg(theme.panelRaised.name(), theme.text.name(),
                                   (accent.isValid() ? accent : theme.border).name())
                              .arg(int(4 * scale))
                              .arg(int(7 * scale))
                              .arg(10.0 * double(scale), 0, 'f', 1);
    if (style != m_style) {
        m_style = style;
        setStyleSheet(style);
    }
    if (lines != m_lines) {
        m_lines = lines;
        QStringList html;
        html << QStringLiteral("<b style=\"color:%1\">%2</b>")
                    .arg((accent.isValid() ? accent : theme.textStrong).name(),
                         lines.front().toHtmlEscaped());
        for (int i = 1; i < lines.size(); ++i)
            html << lines[i].toHtmlEscaped();
        setText(html.join(QStringLiteral("<br>")));
    }
    m_owner = owner;
    // Whole on the screen: wrap lines wider than most of it, then put the tip below right of the pointer,
    // or above / left of it where it would not fit.
    QScreen* screen = QGuiApplication::screenAt(pointer);
    if (!screen) screen = QGuiApplication::primaryScreen();
    const QRect area = screen ? screen->availableGeometry() : QRect(0, 0, 1920, 1080);
    setWordWrap(false);
    QSize size = sizeHint();
    if (size.width() > area.width() * 3 / 5) {
        setWordWrap(true);
        setFixedWidth(area.width() * 3 / 5);
        size = QSize(width(), heightForWidth(width()));
    } else {
        setMinimumWidth(0);
        setMaximumWidth(QWIDGETSIZE_MAX);
    }
    resize(size);
    const int gap = int(16 * scale);
    int x = pointer.x() + gap, y = pointer.y() + gap;
    if (x + size.width() > area.right()) x = pointer.x() - gap - size.width();
    if (y + size.height() > area.bottom()) y = pointer.y() - gap - size.height();
    x = std::clamp(x, area.left(), std::max(area.left(), area.right() - size.width()));
    y = std::clamp(y, area.top(), std::max(area.top(), area.bottom() - size.height()));
    move(x, y);
    if (!isVisible()) show();
    raise();
}

void FloatingTip::hideFor(const QObject* owner) {
    if (m_owner != owner) return;
    m_owner = nullptr;
    hide();
}

}  // namespace kvscope::app
