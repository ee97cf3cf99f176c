#include "timeline_bar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QToolButton>

namespace kvscope::app {

TimelineBar::TimelineBar(TraceStore& store, QWidget* parent) : QWidget(parent), m_store(store) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 2, 8, 2);
    auto* title = new QLabel(tr("Timeline"), this);
    title->setStyleSheet(QStringLiteral("font-weight: bold;"));
    m_back = new QToolButton(this);
    m_back->setText(tr("◀ Step back"));
    m_back->setToolTip(tr("Show the previous step (←)"));
    m_latest = new QToolButton(this);
    m_latest->setText(tr("Latest ▶▶"));
    m_latest->setToolTip(tr("Show the newest step (End)"));
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setToolTip(tr("Every step taken: drag to look back (← / →)"));
    m_slider->setPageStep(1);
    m_label = new QLabel(this);
    m_label->setMinimumWidth(
        fontMetrics().horizontalAdvance(QStringLiteral("step 0000 of 0000 · 0000 tokens")));
    layout->addWidget(title);
    layout->addWidget(m_back);
    layout->addWidget(m_slider, 1);
    layout->addWidget(m_latest);
    layout->addWidget(m_label);
    connect(m_back, &QToolButton::clicked, this, [this] { m_store.selectStep(m_store.selectedStep() - 1); });
    connect(m_latest, &QToolButton::clicked, this, [this] { m_store.selectLatest(); });
    connect(m_slider, &QSlider::valueChanged, this, [this](int v) {
        if (!m_syncing) m_store.selectStep(v);
    });
    connect(&m_store, &TraceStore::changed, this, &TimelineBar::sync);
    sync();
}

void TimelineBar::sync() {
    m_syncing = true;
    const int n = m_store.maxStepCount();
    m_slider->setEnabled(n > 1);
    m_slider->setRange(0, std::max(0, n - 1));
    m_slider->setValue(std::max(0, m_store.selectedStep()));
    m_back->setEnabled(m_store.selectedStep() > 0);
    m_latest->setEnabled(!m_store.followsLatest());
    if (n == 0) {
        m_label->setText(tr("no steps yet"));
    } else {
        const StepTrace* t = m_store.trace(Side::cached, m_store.stepFor(Side::cached));
        m_label->setText(
            tr("step %1 of %2 · %3 tokens").arg(m_store.selectedStep()).arg(n - 1).arg(t ? t->pos_end : 0));
    }
    m_syncing = false;
}

}  // namespace kvscope::app
