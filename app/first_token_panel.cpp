#include "first_token_panel.h"

#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <QtConcurrent>
#include <random>

#include "engine_worker.h"
#include "format.h"
#include "kvscope/backend.h"
#include "views/gl_view.h"

namespace kvscope::app {

std::vector<int> FirstTokenPanel::lengthsFor(int limit, int decodeSteps) {
    std::vector<int> lengths;
    const int longest = std::min(limit - decodeSteps, 2048);
    for (int p = 16; p <= longest; p *= 2)
        lengths.push_back(p);
    if (longest >= 1 && (lengths.empty() || lengths.back() != longest)) lengths.push_back(longest);
    return lengths;
}

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
    m_view = new GlView(store, display, std::make_unique<FirstTokenRenderer>(&m_sweep), Side::cached, this);
    layout->addWidget(m_view, 1);
    connect(m_measure, &QPushButton::clicked, this, &FirstTokenPanel::measure);
    connect(&store, &TraceStore::changed, this, [this](const StoreChange& change) {
        if (change.kind != StoreChange::Kind::model) return;
        cancel();  // the rows were of another model
        ++m_generation;
        m_sweep = FirstTokenSweep{};
        m_status->setText(tr("Not measured yet."));
        m_view->requestRepaint();
    });
    connect(&m_watcher, &QFutureWatcher<Status>::finished, this, [this] {
        const Status st = m_watcher.result();
        m_sweep.running = false;
        m_measure->setEnabled(true);
        const QString error = st ? QString() : QString::fromStdString(st.message());
        if (!m_cancel.load())
            m_status->setText(
                error.isEmpty()
                    ? tr("%1 prompt lengths measured on %2.").arg(m_sweep.rows.size()).arg(m_sweep.device)
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
    const ModelInfo& info = m_store.model();
    if (!info.valid()) {
        m_status->setText(tr("Open a model first."));
        return;
    }
    const int limit = info.capacity > 0 ? info.capacity : info.config().context_length;
    m_sweep = FirstTokenSweep{};
    m_sweep.lengths = lengthsFor(limit, kDecodeSteps);
    m_sweep.model = info.displayName;
    if (m_sweep.lengths.empty()) {
        m_status->setText(tr("This model's context (%1 tokens) is too short to sweep.").arg(limit));
        return;
    }
    const int threads = lockstepThreads();
    std::shared_ptr<Backend> backend = make_cpu_backend(threads);
    m_sweep.device = QString::fromStdString(backend->name());
    m_sweep.running = true;
    m_cancel.store(false);
    const int generation = ++m_generation;
    m_measure->setEnabled(false);
    m_status->setText(
        tr("Measuring prompts of %1 … %2 tokens…").arg(m_sweep.lengths.front()).arg(m_sweep.lengths.back()));
    m_view->requestRepaint();
    // The same pseudo-random tokens as the command line's sweep: every prompt a prefix of the longest.
    std::vector<int32_t> tokens(size_t(m_sweep.lengths.back() + kDecodeSteps));
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> pick(0, info.config().vocab_size - 1);
    for (int32_t& t : tokens)
        t = pick(rng);
    m_watcher.setFuture(
        QtConcurrent::run([this, generation, model = info.model, backend, lengths = m_sweep.lengths,
                           tokens = std::move(tokens)]() -> Status {
            auto engine = Engine::create(model, backend);
            if (!engine) return engine.status();
            auto rows = run_prompt_sweep(engine.value(), lengths, kDecodeSteps, tokens, &m_cancel,
                                         [this, generation](const PromptSweepRow& row) {
                                             QMetaObject::invokeMethod(
                                                 this,
                                                 [this, generation, row] {
                                                     if (generation != m_generation) return;
                                                     m_sweep.rows.push_back(row);
                                                     m_view->requestRepaint();
                                                 },
                                                 Qt::QueuedConnection);
                                         });
            return rows ? Status::ok() : rows.status();
        }));
}

}  // namespace kvscope::app
