// scale_settings.h — what the "Scale up" and "Roofline" views show besides the run: the reference catalog
// of published model shapes and accelerators, the choices of the Scale up controls (context, precisions,
// concurrent conversations, the model looked at), and this machine's measured roofs.
//
// A plain value the controls edit and the renderers read (on screen and in export); it holds no
// arithmetic: every figure comes from core's kvscope/scale.h and kvscope/roofline.h.
#pragma once

#include <QString>
#include <memory>

#include "kvscope/roofline.h"
#include "kvscope/scale.h"

class QSettings;

namespace kvscope::app {

struct ScaleSettings {
    double context = 131072;  // tokens per conversation, 1K … 1M
    Precision weights = Precision::bf16;
    Precision kv = Precision::bf16;
    int conversations = 1;                            // decoded together (the batch)
    QString model = QStringLiteral("Llama-3.1-70B");  // the catalog's model looked at (or the loaded one)
    QString accelerator = QStringLiteral("NVIDIA H100 SXM");  // the one the narration speaks of

    // The catalog KVScope ships (assets/reference/model-configs.json), read once; null with `error` set
    // when it cannot be found or read.
    static std::shared_ptr<const ReferenceCatalog> catalog(QString* error = nullptr);

    void read(QSettings& s);
    void write(QSettings& s) const;
};

// This machine's roofs, kept in the settings between runs ("Measure again" replaces them).
struct StoredPeaks {
    // The roofs kept in the settings, when they were measured for `device` (the backend's name, which says
    // its thread count): roofs of another thread count are not the roofs of these runs.
    static bool read(QSettings& s, MachinePeaks* peaks, const std::string& device);
    static void write(QSettings& s, const MachinePeaks& peaks);
    // The roofs of the runs' own backend: the CPU with lockstepThreads() threads (engine_worker.h), as
    // the window's lockstep runs and an export's headless run step. Measured on the calling thread.
    static Result<MachinePeaks> measureForRuns();
    static std::string runsDevice();  // that backend's name: "CPU (Eigen, 1 thread)"
};

}  // namespace kvscope::app
