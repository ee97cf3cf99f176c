#include "first_token_panel.h"

#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <QtConcurrent>

#include "format.h"
#include "views/gl_view.h"

namespace kvscope::app {

FirstTokenPanel::FirstTokenPanel(TraceStore& store, DisplaySettings& display, QWidget* parent)
    : QWidget(parent), m_store(store) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    auto* bar = new QHBoxLayout;
    m_measure = new QPushButton(tr("Measure"), this);
    m_measure->setObjectName(QStringLiteral("firstTokenMeasure"));
    m_measure->setToolTip(
        tr("Time the first token of prompts of 16, 32, 64, … tokens on the loaded model, "
           "then the words after it (a few seconds; the runs wait)"));
    bar->addWidget(m_measure);
    m_status = new QLabel(tr("Not measured yet."), this);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    bar->addWidget(m_status, 1);
    layout->addLayout(bar);
    m_view = new GlView(store, display, std::make_unique<FirstTokenRenderer>(m_sweep), Side::cached, this);
    layout->addWidget(m_view, 1);
    connect(m_measure, &QPushButton::clicked, this, &FirstTokenPanel::measure);
    connect(&store, &TraceStore::changed, this, [this](const StoreChange& change) {
        if (change.kind != StoreChange::Kind::model) return;
        cancel();  // the rows were of another model
        ++m_generation;
        *m_sweep = FirstTokenSweep{};
        m_status->setText(tr("Not measured yet."));
        m_view->requestRepaint();
    });
    connect(&m_watcher, &QFutureWatcher<Status>::finished, this, [this] {
        const Status st = m_watcher.result();
        m_sweep->running = false;
        m_measure->setEnabled(true);
        const QString error = st ? QString() : QString::fromStdString(st.message());
        if (!m_cancel.load())
            m_status->setText(
                error.isEmpty()
                    ? tr("%1 prompt lengths measured on %2.").arg(m_sweep->rows.size()).arg(m_sweep->device)
                    : tr("Measuring failed: %1").arg(error));
        m_view->requestRepaint();
        emit measured(error);
    });
}

FirstTokenPanel::~FirstTokenPanel() {
    cancel();
}

void FirstTokenPanel::cancel() {
    if (!m_watcher.isRunning()) return;
    m_cancel.store(true);
    m_watcher.waitForFinished();
}

void FirstTokenPanel::measure() {
    if (m_watcher.isRunning()) return;
    Result<FirstTokenPlan> plan = planFirstTokenSweep(m_store.model());
    if (!plan) {
        m_status->setText(m_store.model().valid()
                              ? tr("Not measured: %1.").arg(QString::fromStdString(plan.message()))
                              : tr("Open a model first."));
        return;
    }
    *m_sweep = plan->sweep;
    m_sweep->running = true;
    m_cancel.store(false);
    const int generation = ++m_generation;
    m_measure->setEnabled(false);
    m_status->setText(tr("Measuring prompts of %1 … %2 tokens…")
                          .arg(m_sweep->lengths.front())
                          .arg(m_sweep->lengths.back()));
    m_view->requestRepaint();
    m_watcher.setFuture(QtConcurrent::run([this, generation, plan = std::move(*plan)]() -> Status {
        auto rows = runFirstTokenSweep(plan, &m_cancel, [this, generation](const PromptSweepRow& row) {
            QMetaObject::invokeMethod(
                this,
                [this, generation, row] {
                    if (generation != m_generation) return;
                    m_sweep->rows.push_back(row);
                    m_view->requestRepaint();
                },
                Qt::QueuedConnection);
        });
        return rows ? Status::ok() : rows.status();
    }));
}

}  // namespace kvscope::app
