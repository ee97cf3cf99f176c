#include "scale_settings.h"

#include <QSettings>
#include <mutex>

#include "engine_worker.h"
#include "kvscope/backend.h"
#include "kvscope/default_model.h"

namespace kvscope::app {

std::shared_ptr<const ReferenceCatalog> ScaleSettings::catalog(QString* error) {
    static std::once_flag once;
    static std::shared_ptr<const ReferenceCatalog> loaded;
    static QString failure;
    std::call_once(once, [] {
        const std::string path = find_reference_catalog(executable_dir());
        if (path.empty()) {
            failure = QStringLiteral("the reference catalog model-configs.json is not installed");
            return;
        }
        auto c = load_reference_catalog(path);
        if (!c) {
            failure = QString::fromStdString(c.message());
            return;
        }
        loaded = std::make_shared<const ReferenceCatalog>(std::move(c.value()));
    });
    if (error) *error = failure;
    return loaded;
}

void ScaleSettings::read(QSettings& s) {
    s.beginGroup(QStringLiteral("scale"));
    context = std::clamp(s.value(QStringLiteral("context"), context).toDouble(), 1024.0, 1048576.0);
    if (auto p = parse_precision(s.value(QStringLiteral("weights")).toString().toStdString())) weights = *p;
    if (auto p = parse_precision(s.value(QStringLiteral("kv")).toString().toStdString())) kv = *p;
    conversations = std::clamp(s.value(QStringLiteral("conversations"), conversations).toInt(), 1, 1024);
    model = s.value(QStringLiteral("model"), model).toString();
    accelerator = s.value(QStringLiteral("accelerator"), accelerator).toString();
    s.endGroup();
}

void ScaleSettings::write(QSettings& s) const {
    s.beginGroup(QStringLiteral("scale"));
    s.setValue(QStringLiteral("context"), context);
    s.setValue(QStringLiteral("weights"), QString::fromLatin1(precision_name(weights)));
    s.setValue(QStringLiteral("kv"), QString::fromLatin1(precision_name(kv)));
    s.setValue(QStringLiteral("conversations"), conversations);
    s.setValue(QStringLiteral("model"), model);
    s.setValue(QStringLiteral("accelerator"), accelerator);
    s.endGroup();
}

std::string StoredPeaks::runsDevice() {
    return make_cpu_backend(lockstepThreads())->name();
}

Result<MachinePeaks> StoredPeaks::measureForRuns() {
    const int threads = lockstepThreads();
    auto backend = make_cpu_backend(threads);
    return measure_machine_peaks(*backend, threads);
}

bool StoredPeaks::read(QSettings& s, MachinePeaks* p, const std::string& device) {
    s.beginGroup(QStringLiteral("roofline"));
    MachinePeaks m;
    m.device = s.value(QStringLiteral("device")).toString().toStdString();
    m.peak_flops = s.value(QStringLiteral("peakFlops")).toDouble();
    m.flops_method = s.value(QStringLiteral("flopsMethod")).toString().toStdString();
    m.bandwidth = s.value(QStringLiteral("bandwidth")).toDouble();
    m.bandwidth_method = s.value(QStringLiteral("bandwidthMethod")).toString().toStdString();
    m.triad_bandwidth = s.value(QStringLiteral("triad")).toDouble();
    m.llc_bytes = s.value(QStringLiteral("llcBytes")).toDouble();
    const QStringList sizes = s.value(QStringLiteral("ladderBytes")).toStringList();
    const QStringList rates = s.value(QStringLiteral("ladderBandwidth")).toStringList();
    for (int i = 0; i < sizes.size() && i < rates.size(); ++i)
        m.ladder.push_back({sizes[i].toDouble(), rates[i].toDouble()});
    s.endGroup();
    if (!m.valid() || m.device != device) return false;
    *p = m;
    return true;
}

void StoredPeaks::write(QSettings& s, const MachinePeaks& m) {
    s.beginGroup(QStringLiteral("roofline"));
    s.setValue(QStringLiteral("device"), QString::fromStdString(m.device));
    s.setValue(QStringLiteral("peakFlops"), m.peak_flops);
    s.setValue(QStringLiteral("flopsMethod"), QString::fromStdString(m.flops_method));
    s.setValue(QStringLiteral("bandwidth"), m.bandwidth);
    s.setValue(QStringLiteral("bandwidthMethod"), QString::fromStdString(m.bandwidth_method));
    s.setValue(QStringLiteral("triad"), m.triad_bandwidth);
    s.setValue(QStringLiteral("llcBytes"), m.llc_bytes);
    QStringList sizes, rates;
    for (const BandwidthAt& b : m.ladder) {
        sizes << QString::number(b.bytes, 'g', 17);
        rates << QString::number(b.bandwidth, 'g', 17);
    }
    s.setValue(QStringLiteral("ladderBytes"), sizes);
    s.setValue(QStringLiteral("ladderBandwidth"), rates);
    s.endGroup();
}

}  // namespace kvscope::app
