#include "sampling_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QSpinBox>

namespace kvscope::app {

SamplingPanel::SamplingPanel(QWidget* parent) : QWidget(parent) {
    auto* form = new QFormLayout(this);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_greedy = new QCheckBox(tr("Greedy (always the most likely token)"), this);
    m_temperature = new QDoubleSpinBox(this);
    m_temperature->setRange(0.05, 5.0);
    m_temperature->setSingleStep(0.05);
    m_temperature->setValue(0.8);
    m_topK = new QSpinBox(this);
    m_topK->setRange(0, 100000);
    m_topK->setSpecialValueText(tr("off"));
    m_topK->setValue(40);
    m_topP = new QDoubleSpinBox(this);
    m_topP->setRange(0.01, 1.0);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(0.95);
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 1 << 30);
    m_device = new QComboBox(this);
    m_device->addItem(tr("CPU"), int(DeviceKind::cpu));
    m_device->addItem(tr("CUDA GPU"), int(DeviceKind::cuda));
    m_backend = new QLabel(this);
    m_backend->setWordWrap(true);
    m_greedy->setChecked(true);
    form->addRow(m_greedy);
    form->addRow(tr("Temperature"), m_temperature);
    form->addRow(tr("Top-k"), m_topK);
    form->addRow(tr("Top-p"), m_topP);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Device"), m_device);
    form->addRow(m_backend);
    for (auto* w : {static_cast<QWidget*>(m_temperature), static_cast<QWidget*>(m_topP)})
        connect(static_cast<QDoubleSpinBox*>(w), &QDoubleSpinBox::valueChanged, this, [this] {
            if (!m_setting) emit edited();
        });
    for (auto* s : {m_topK, m_seed})
        connect(s, &QSpinBox::valueChanged, this, [this] {
            if (!m_setting) emit edited();
        });
    connect(m_greedy, &QCheckBox::toggled, this, [this] {
        updateEnabled();
        if (!m_setting) emit edited();
    });
    connect(m_device, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_setting) emit edited();
    });
    updateEnabled();
}

void SamplingPanel::updateEnabled() {
    const bool sampling = !m_greedy->isChecked();
    m_temperature->setEnabled(sampling);
    m_topK->setEnabled(sampling);
    m_topP->setEnabled(sampling);
    m_seed->setEnabled(sampling);
}

RunSettings SamplingPanel::settings(const RunSettings& base) const {
    RunSettings s = base;
    s.sampler.temperature = m_greedy->isChecked() ? 0.0f : float(m_temperature->value());
    s.sampler.top_k = m_topK->value();
    s.sampler.top_p = float(m_topP->value());
    s.sampler.seed = uint64_t(m_seed->value());
    s.device = DeviceKind(m_device->currentData().toInt());
    return s;
}

void SamplingPanel::setSettings(const RunSettings& s) {
    m_setting = true;
    m_greedy->setChecked(s.sampler.greedy());
    if (!s.sampler.greedy()) m_temperature->setValue(double(s.sampler.temperature));
    m_topK->setValue(s.sampler.top_k);
    m_topP->setValue(double(s.sampler.top_p));
    m_seed->setValue(int(s.sampler.seed));
    m_device->setCurrentIndex(m_device->findData(int(s.device)));
    updateEnabled();
    m_setting = false;
}

void SamplingPanel::setBackendName(const QString& name) {
    m_backend->setText(name);
}

}  // namespace kvscope::app
