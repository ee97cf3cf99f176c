// sampling_panel.h — how the next token is chosen (greedy, or temperature with top-k, top-p and a seed)
// and where the runs compute (CPU, or CUDA when this build and machine have it). Edits are sent to the
// worker as RunSettings; a refused setting (CUDA missing) is put back with the reason shown.
#pragma once

#include <QWidget>

#include "run_types.h"

class QCheckBox;
class QDoubleSpinBox;
class QSpinBox;
class QComboBox;
class QLabel;

namespace kvscope::app {

class SamplingPanel : public QWidget {
    Q_OBJECT
  public:
    explicit SamplingPanel(QWidget* parent = nullptr);
    RunSettings settings(
        const RunSettings& base) const;  // base's mode and speed, this panel's sampler and device
    void setSettings(const RunSettings& settings);
    void setBackendName(const QString& name);

  signals:
    void edited();

  private:
    void updateEnabled();
    QCheckBox* m_greedy;
    QDoubleSpinBox* m_temperature;
    QSpinBox* m_topK;
    QDoubleSpinBox* m_topP;
    QSpinBox* m_seed;
    QComboBox* m_device;
    QLabel* m_backend;
    bool m_setting = false;
};

}  // namespace kvscope::app
