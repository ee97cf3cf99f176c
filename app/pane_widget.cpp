#include "pane_widget.h"

#include <QDataStream>
#include <QHBoxLayout>
#include <QResizeEvent>
#include <QSplitter>
#include <QVBoxLayout>
#include <cmath>

#include "format.h"
#include "views/attention_renderer.h"
#include "views/counters_renderer.h"
#include "views/gl_view.h"
#include "views/kv_cache_renderer.h"
#include "views/token_strip_renderer.h"

namespace kvscope::app {

PaneWidget::PaneWidget(Side side, TraceStore& store, DisplaySettings& display, QWidget* parent)
    : QWidget(parent), m_side(side), m_display(display) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    auto* header = new QWidget(this);
    m_header = header;
    header->setObjectName(QStringLiteral("paneHeader"));
    header->installEventFilter(this);
    auto* hl = new QHBoxLayout(header);
    hl->setContentsMargins(12, 6, 12, 6);
    m_title = new QLabel(sideTitle(side), header);
    m_status = new QLabel(header);
    m_status->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    // The status never widens the window: on a narrow pane (or in larger type) it wraps onto a second
    // line rather than being cut.
    m_status->setWordWrap(true);
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::MinimumExpanding);
    hl->addWidget(m_title);
    hl->addWidget(m_status, 1);
    layout->addWidget(header);

    m_tokens = new GlView(store, display, std::make_unique<TokenStripRenderer>(side), side);
    m_kv = new GlView(store, display, std::make_unique<KvCacheRenderer>(side), side);
    m_attention = new GlView(store, display, std::make_unique<AttentionRenderer>(side), side);
    m_counters = new GlView(store, display, std::make_unique<CountersRenderer>(side), side);
    m_horizontal = new QSplitter(Qt::Horizontal);
    m_horizontal->addWidget(m_kv);
    m_horizontal->addWidget(m_attention);
    m_horizontal->setStretchFactor(0, 11);
    m_horizontal->setStretchFactor(1, 9);
    m_horizontal->setSizes({550, 450});
    m_vertical = new QSplitter(Qt::Vertical, this);
    m_vertical->addWidget(m_tokens);
    m_vertical->addWidget(m_horizontal);
    m_vertical->addWidget(m_counters);
    m_vertical->setStretchFactor(0, 2);
    m_vertical->setStretchFactor(1, 7);
    m_vertical->setStretchFactor(2, 3);
    // Starting proportions: a few lines of tokens, most of the height for the cache and attention.
    m_vertical->setSizes({100, 410, 220});
    m_vertical->setChildrenCollapsible(false);
    m_horizontal->setChildrenCollapsible(false);
    layout->addWidget(m_vertical, 1);

    m_spinner.setInterval(120);
    connect(&m_spinner, &QTimer::timeout, this, &PaneWidget::tick);
    connect(&display, &DisplaySettings::changed, this, &PaneWidget::restyle);
    restyle();
}

void PaneWidget::restyle() {
    const Theme& th = m_display.theme();
    const QColor c = th.side(m_side);
    QColor tint = th.tint(m_side);
    const double scale = double(m_display.viewScale());
    m_header->setStyleSheet(
        QStringLiteral("#paneHeader { background: rgba(%1,%2,%3,%4); border-left: 6px solid %5; "
                       "border-radius: 4px; }")
            .arg(tint.red())
            .arg(tint.green())
            .arg(tint.blue())
            .arg(std::min(1.0, tint.alphaF() * 1.6), 0, 'f', 2)
            .arg(c.name()));
    m_title->setStyleSheet(QStringLiteral("color: %1; font-weight: bold; font-size: %2pt;")
                               .arg(c.name())
                               .arg(14.0 * scale, 0, 'f', 1));
    m_status->setStyleSheet(
        QStringLiteral("color: %1; font-size: %2pt;").arg(th.textDim.name()).arg(10.5 * scale, 0, 'f', 1));
    // The token strip holds its header, the "↑ earlier tokens" line and a row of chips at this text size.
    m_tokens->setMinimumHeight(int(std::ceil(92.0 * scale)));
    tick();
}

bool PaneWidget::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_header && event->type() == QEvent::Resize) {
        auto* resize = static_cast<QResizeEvent*>(event);
        if (resize->size().width() != resize->oldSize().width()) emit headerChanged();
    }
    return QWidget::eventFilter(watched, event);
}

int PaneWidget::headerHeightNeeded() const {
    QLayout* l = m_header->layout();
    return l->hasHeightForWidth() ? l->totalHeightForWidth(m_header->width()) : l->totalSizeHint().height();
}

void PaneWidget::alignHeaders(PaneWidget* a, PaneWidget* b) {
    auto align = [a, b] {
        const int h = std::max(a->headerHeightNeeded(), b->headerHeightNeeded());
        for (PaneWidget* p : {a, b})
            if (p->m_header->minimumHeight() != h) p->m_header->setMinimumHeight(h);
    };
    for (PaneWidget* p : {a, b})
        connect(p, &PaneWidget::headerChanged, a, align);
    align();
}

void PaneWidget::setBusy(const QString& what) {
    const bool changed = what != m_busy;
    m_busy = what;
    if (what.isEmpty())
        m_spinner.stop();
    else if (!m_spinner.isActive())
        m_spinner.start();
    tick();
    if (changed) emit headerChanged();  // the spinner's frames alone change no line count
}

void PaneWidget::setNote(const QString& note) {
    m_note = note;
    tick();
}

void PaneWidget::tick() {
    static const char* frames[] = {"◐", "◓", "◑", "◒"};
    if (!m_busy.isEmpty()) {
        m_status->setText(QStringLiteral("%1  %2…").arg(QString::fromUtf8(frames[m_frame++ % 4]), m_busy));
        return;
    }
    const QString before = m_status->text();
    m_status->setText(m_note.isEmpty()
                          ? (m_side == Side::cached ? tr("computes each token once, keeps K and V")
                             : sideTitle(m_side) != tr("Without KV cache")
                                 ? tr("the same model over a cache variant, fed the same tokens")
                                 : tr("recomputes the whole sequence every step"))
                          : m_note);
    if (m_status->text() != before) emit headerChanged();
}

QByteArray PaneWidget::saveSplitters() const {
    QByteArray out;
    QDataStream s(&out, QIODevice::WriteOnly);
    s << m_vertical->saveState() << m_horizontal->saveState();
    return out;
}

void PaneWidget::restoreSplitters(const QByteArray& state) {
    QDataStream s(state);
    QByteArray v, h;
    s >> v >> h;
    if (s.status() != QDataStream::Ok) return;
    m_vertical->restoreState(v);
    m_horizontal->restoreState(h);
}

}  // namespace kvscope::app

namespace kvscope::app {

void PaneWidget::setTitle(const QString& title) {
    m_title->setText(title);
    emit headerChanged();
}

}  // namespace kvscope::app
