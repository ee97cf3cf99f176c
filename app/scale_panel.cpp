#include "scale_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <cmath>
#include <thread>

#include "format.h"
#include "views/gl_view.h"
#include "views/roofline_renderer.h"
#include "views/scale_renderer.h"

namespace kvscope::app {

namespace {
QComboBox* precisionCombo(QWidget* parent) {
    auto* c = new QComboBox(parent);
    for (Precision p : kAllPrecisions)
        c->addItem(QLatin1String(precision_name(p)), int(p));
    return c;
}
}  // namespace

ScalePanel::ScalePanel(ScaleSettings& settings, TraceStore& store, DisplaySettings& display, QWidget* parent)
    : QWidget(parent), m_settings(settings), m_store(store) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Context"), this));
    m_context = new QSlider(Qt::Horizontal, this);
    m_context->setObjectName(QStringLiteral("scaleContext"));
    m_context->setRange(0, 10);  // 1K … 1M tokens, doubling
    m_context->setPageStep(1);
    m_context->setMinimumWidth(140);
    m_context->setToolTip(tr("Tokens per conversation (log scale: each notch doubles it)"));
    bar->addWidget(m_context, 2);
    m_contextLabel = new QLabel(this);
    m_contextLabel->setMinimumWidth(48);
    bar->addWidget(m_contextLabel);
    bar->addSpacing(10);
    bar->addWidget(new QLabel(tr("Weights"), this));
    m_weights = precisionCombo(this);
    m_weights->setObjectName(QStringLiteral("scaleWeights"));
    bar->addWidget(m_weights);
    bar->addWidget(new QLabel(tr("Cache"), this));
    m_kv = precisionCombo(this);
    m_kv->setObjectName(QStringLiteral("scaleKv"));
    bar->addWidget(m_kv);
    bar->addSpacing(10);
    bar->addWidget(new QLabel(tr("Conversations"), this));
    m_conversations = new QSpinBox(this);
    m_conversations->setObjectName(QStringLiteral("scaleConversations"));
    m_conversations->setRange(1, 256);
    m_conversations->setToolTip(
        tr("Conversations decoded together: the weights are read once per step for all "
           "of them, each one's cache for itself"));
    bar->addWidget(m_conversations);
    bar->addSpacing(10);
    bar->addWidget(new QLabel(tr("Model"), this));
    m_model = new QComboBox(this);
    m_model->setObjectName(QStringLiteral("scaleModel"));
    m_model->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    bar->addWidget(m_model, 1);
    layout->addLayout(bar);
    m_view = new GlView(store, display,
                        std::make_unique<ScaleRenderer>(&m_settings,
                                                        [this] {
                                                            syncControls();
                                                            emit edited();
                                                        }),
                        Side::cached, this);
    layout->addWidget(m_view, 1);
    syncControls();
    for (QComboBox* c : {m_weights, m_kv, m_model})
        connect(c, &QComboBox::currentIndexChanged, this, &ScalePanel::fromControls);
    connect(m_context, &QSlider::valueChanged, this, &ScalePanel::fromControls);
    connect(m_conversations, &QSpinBox::valueChanged, this, &ScalePanel::fromControls);
    // A new model is a new row.
    connect(&store, &TraceStore::changed, this, [this](const StoreChange& c) {
        if (c.kind == StoreChange::Kind::model) syncControls();
    });
}

void ScalePanel::syncControls() {
    m_syncing = true;
    m_context->setValue(std::clamp(int(std::lround(std::log2(m_settings.context / 1024.0))), 0, 10));
    m_contextLabel->setText(QString::fromStdString(format_token_count(m_settings.context)));
    m_weights->setCurrentIndex(m_weights->findData(int(m_settings.weights)));
    m_kv->setCurrentIndex(m_kv->findData(int(m_settings.kv)));
    m_conversations->setValue(m_settings.conversations);
    m_model->clear();
    if (auto catalog = ScaleSettings::catalog())
        for (const ModelShape& m : ScaleRenderer::rows(*catalog, m_store))
            m_model->addItem(QString::fromStdString(m.name));
    m_model->setCurrentIndex(std::max(0, m_model->findText(m_settings.model)));
    m_syncing = false;
    m_view->requestRepaint();
}

void ScalePanel::fromControls() {
    if (m_syncing) return;
    m_settings.context = contextForSlider(m_context->value());
    m_contextLabel->setText(QString::fromStdString(format_token_count(m_settings.context)));
    m_settings.weights = Precision(m_weights->currentData().toInt());
    m_settings.kv = Precision(m_kv->currentData().toInt());
    m_settings.conversations = m_conversations->value();
    if (!m_model->currentText().isEmpty()) m_settings.model = m_model->currentText();
    m_view->requestRepaint();
    emit edited();
}

RooflinePanel::RooflinePanel(MachinePeaks& peaks, TraceStore& store, DisplaySettings& display,
                             QWidget* parent)
    : QWidget(parent), m_peaks(peaks) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    auto* bar = new QHBoxLayout;
    m_measure = new QPushButton(tr("Measure again"), this);
    m_measure->setObjectName(QStringLiteral("rooflineMeasure"));
    m_measure->setToolTip(
        tr("Peak FLOP/s of a GEMM and the memory bandwidth, with the threads the runs step with "
           "(a few seconds; results are kept in the settings)"));
    bar->addWidget(m_measure);
    m_status = new QLabel(this);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    bar->addWidget(m_status, 1);
    layout->addLayout(bar);
    m_view = new GlView(store, display, std::make_unique<RooflineRenderer>(&m_peaks), Side::cached, this);
    layout->addWidget(m_view, 1);
    connect(m_measure, &QPushButton::clicked, this, &RooflinePanel::measure);
    connect(&m_watcher, &QFutureWatcher<Result<MachinePeaks>>::finished, this, [this] {
        const Result<MachinePeaks> r = m_watcher.result();
        m_measure->setEnabled(true);
        if (!r) {
            m_status->setText(tr("Measuring failed: %1").arg(QString::fromStdString(r.message())));
            return;
        }
        m_peaks = r.value();
        showPeaks();
        m_view->requestRepaint();
        emit measured();
    });
    showPeaks();
}

void RooflinePanel::measure() {
    if (m_watcher.isRunning()) return;
    m_measure->setEnabled(false);
    m_status->setText(tr("Measuring this machine's peak FLOP/s and memory bandwidth…"));
    // With the runs' thread count: a point is compared with the roofs of the threads that ran it.
    m_watcher.setFuture(QtConcurrent::run([] { return StoredPeaks::measureForRuns(); }));
}

void RooflinePanel::showPeaks() {
    if (!m_peaks.valid()) {
        m_status->setText(tr("Not measured yet."));
        return;
    }
    m_status->setText(tr("%1: peak %2 (%3); memory %4 GB/s (%5)")
                          .arg(QString::fromStdString(m_peaks.device), formatSi(m_peaks.peak_flops, "FLOP/s"),
                               QString::fromStdString(m_peaks.flops_method))
                          .arg(m_peaks.bandwidth / 1e9, 0, 'f', 1)
                          .arg(QString::fromStdString(m_peaks.bandwidth_method)));
}

}  // namespace kvscope::app
