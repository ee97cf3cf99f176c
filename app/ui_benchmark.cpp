#include "ui_benchmark.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSysInfo>
#include <QThread>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "engine_worker.h"
#include "main_window.h"
#include "views/gl_view.h"

namespace kvscope::app {

namespace {
double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size() - 1) + 0.5));
    return v[i];
}
QJsonObject summary(const std::vector<double>& v) {
    return {{QStringLiteral("count"), int(v.size())},
            {QStringLiteral("median_ms"), percentile(v, 50)},
            {QStringLiteral("p95_ms"), percentile(v, 95)},
            {QStringLiteral("p99_ms"), percentile(v, 99)},
            {QStringLiteral("max_ms"), v.empty() ? 0.0 : *std::max_element(v.begin(), v.end())},
            {QStringLiteral("over_33ms"),
             int(std::count_if(v.begin(), v.end(), [](double x) { return x > 33.0; }))}};
}
}  // namespace

UiBenchmark::UiBenchmark(MainWindow& window, QString outputFile, QObject* parent)
    : QObject(parent), m_window(window), m_output(std::move(outputFile)) {
    m_heartbeat.setTimerType(Qt::PreciseTimer);
    m_heartbeat.setInterval(16);
    connect(&m_heartbeat, &QTimer::timeout, this, &UiBenchmark::heartbeat);
    for (GlView* view : m_window.glViews())
        connect(view, &GlView::frameSwapped, this, [this, view] { onFrameSwapped(view); });
    connect(&m_window, &MainWindow::stepArrived, this, [this] {
        if (m_phaseIndex >= 0 && !m_recording) ++m_phases[size_t(m_phaseIndex)].steps;
    });
    connect(m_window.worker(), &EngineWorker::playingChanged, this, [this](bool playing) {
        if (!playing) QTimer::singleShot(300, this, &UiBenchmark::checkDone);
    });
}

void UiBenchmark::start() {
    m_clock.start();
    m_heartbeat.start();
    // First the cost of drawing alone, the engine idle, 3 seconds, on a sequence of at least 41 tokens: the
    // prefill, then as many steps as a short prompt needs (a long prompt shows a long context at once).
    m_window.setSpeed(0);
    auto idle = [this] {
        m_phaseIndex = int(m_phases.size());
        m_phases.push_back({QStringLiteral("idle (drawing only)"), {}, {}, {}, 0, 0});
        m_phases.back().seconds = m_clock.elapsed() / 1000.0;
        const StepTrace* t =
            m_window.store().trace(Side::cached, m_window.store().stepCount(Side::cached) - 1);
        m_phases.back().tokensAtStart = t ? t->pos_end : 0;
        m_recording = true;
        QTimer::singleShot(3000, this, [this] {
            m_recording = false;
            m_phases.back().seconds = m_clock.elapsed() / 1000.0 - m_phases.back().seconds;
            report(m_phases.back());
            beginPhase(CompareMode::lockstep);
        });
    };
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = connect(&m_window, &MainWindow::stepsFinished, this, [this, connection, idle] {
        disconnect(*connection);
        const int tokens =
            m_window.store().trace(Side::cached, 0) ? m_window.store().trace(Side::cached, 0)->pos_end : 0;
        const int more = std::max(0, 41 - tokens);
        if (more == 0) {
            idle();
            return;
        }
        auto rest = std::make_shared<QMetaObject::Connection>();
        *rest = connect(&m_window, &MainWindow::stepsFinished, this, [rest, idle] {
            QObject::disconnect(*rest);
            idle();
        });
        m_window.stepRepeatedly(more);
    });
    m_window.stepRepeatedly(1);
}

void UiBenchmark::beginPhase(CompareMode mode) {
    m_phaseIndex = int(m_phases.size());
    m_phases.push_back({mode == CompareMode::lockstep ? QStringLiteral("lockstep") : QStringLiteral("race"),
                        {},
                        {},
                        {},
                        0,
                        0});
    m_phases.back().seconds = m_clock.elapsed() / 1000.0;
    m_window.setSpeed(0);
    m_window.setMode(mode);
    // setMode restarts the runs when the mode changed; Play prefills when nothing has run.
    QTimer::singleShot(200, this, [this] {
        m_window.reset();
        QTimer::singleShot(200, this, [this] { m_window.play(); });
    });
}

namespace {
// CPU time the calling (GUI) thread has used, in milliseconds.
double threadCpuMs() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}
}  // namespace

void UiBenchmark::heartbeat() {
    const double now = m_clock.nsecsElapsed() / 1e6;
    const bool measuring = m_phaseIndex >= 0 && (m_recording || m_window.playing());
    if (m_lastTick >= 0 && measuring)
        m_phases[size_t(m_phaseIndex)].lateMs.push_back(
            std::max(0.0, now - m_lastTick - m_heartbeat.interval()));
    m_lastTick = now;
    if (!m_pending.isEmpty()) return;  // the previous frame is still being produced: measure it to the end
    m_tickAt = now;
    m_tickCpu = threadCpuMs();
    for (GlView* v : m_window.glViews())
        if (v->isVisible()) {
            m_pending.insert(v);
            v->requestRepaint();
        }
}

void UiBenchmark::onFrameSwapped(GlView* view) {
    if (m_tickAt < 0 || !m_pending.remove(view) || !m_pending.isEmpty()) return;
    const double ms = m_clock.nsecsElapsed() / 1e6 - m_tickAt;
    const double cpu = threadCpuMs() - m_tickCpu;
    if (m_phaseIndex >= 0 && (m_recording || m_window.playing())) {
        m_phases[size_t(m_phaseIndex)].frameMs.push_back(ms);
        m_phases[size_t(m_phaseIndex)].cpuMs.push_back(cpu);
    }
    m_tickAt = -1;
}

namespace {
// A "VmRSS:" or "VmHWM:" line of /proc/self/status, in MiB (0 where there is none).
double procStatusMiB(const char* key) {
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly)) return 0;
    for (const QByteArray& line : status.readAll().split('\n'))
        if (line.startsWith(key))
            return line.mid(int(std::strlen(key))).trimmed().split(' ').value(0).toDouble() / 1024.0;
    return 0;
}
}  // namespace

void UiBenchmark::report(Phase& p) {
    p.historyMiB = double(m_window.store().bytesHeld()) / double(1 << 20);
    p.rssMiB = procStatusMiB("VmRSS:");
    p.peakRssMiB = procStatusMiB("VmHWM:");
    const QJsonObject f = summary(p.frameMs), c = summary(p.cpuMs);
    std::fprintf(
        stderr,
        "kvscope --benchmark-ui: %s: %d steps in %.1f s, %d frames; frame time median %.1f ms, p95 %.1f ms, "
        "max %.1f ms (%d over 33 ms); GUI-thread CPU per frame median %.1f ms, p95 %.1f ms, max %.1f ms\n",
        qPrintable(p.name), p.steps, p.seconds, int(p.frameMs.size()),
        f[QStringLiteral("median_ms")].toDouble(), f[QStringLiteral("p95_ms")].toDouble(),
        f[QStringLiteral("max_ms")].toDouble(), f[QStringLiteral("over_33ms")].toInt(),
        c[QStringLiteral("median_ms")].toDouble(), c[QStringLiteral("p95_ms")].toDouble(),
        c[QStringLiteral("max_ms")].toDouble());
    std::fprintf(stderr, "kvscope --benchmark-ui: %s: history %.0f MiB, resident %.0f MiB (peak %.0f MiB)\n",
                 qPrintable(p.name), p.historyMiB, p.rssMiB, p.peakRssMiB);
}

void UiBenchmark::checkDone() {
    if (m_window.playing() || m_phaseIndex < 0) return;
    Phase& p = m_phases[size_t(m_phaseIndex)];
    if (p.name == QStringLiteral("idle (drawing only)")) return;
    p.tokensAtStart = m_window.store().promptLength(Side::cached);
    p.seconds = m_clock.elapsed() / 1000.0 - p.seconds;
    report(p);
    if (p.name == QStringLiteral("lockstep")) {
        beginPhase(CompareMode::race);
        return;
    }
    finish();
}

void UiBenchmark::finish() {
    m_heartbeat.stop();
    QJsonArray phases;
    for (const Phase& p : m_phases) {
        phases.append(QJsonObject{{QStringLiteral("mode"), p.name},
                                  {QStringLiteral("tokens_at_start"), p.tokensAtStart},
                                  {QStringLiteral("steps"), p.steps},
                                  {QStringLiteral("seconds"), p.seconds},
                                  {QStringLiteral("frame_time"), summary(p.frameMs)},
                                  {QStringLiteral("gui_thread_cpu_per_frame"), summary(p.cpuMs)},
                                  {QStringLiteral("heartbeat_lateness"), summary(p.lateMs)},
                                  {QStringLiteral("history_mib"), p.historyMiB},
                                  {QStringLiteral("resident_mib"), p.rssMiB},
                                  {QStringLiteral("peak_resident_mib"), p.peakRssMiB}});
    }
    const ModelInfo& m = m_window.store().model();
    QJsonObject root{
        {QStringLiteral("model"), m.path},
        {QStringLiteral("context"), m.capacity},
        {QStringLiteral("layers"), m.valid() ? m.config().n_layers : 0},
        {QStringLiteral("heads"), m.valid() ? m.config().n_heads : 0},
        {QStringLiteral("kv_heads"), m.valid() ? m.config().n_kv_heads : 0},
        {QStringLiteral("window"), QStringLiteral("%1x%2").arg(m_window.width()).arg(m_window.height())},
        {QStringLiteral("cpu_threads"), QThread::idealThreadCount()},
        {QStringLiteral("machine"), QSysInfo::prettyProductName()},
        {QStringLiteral("method"),
         QStringLiteral("60 Hz heartbeat repaints every view; frame time = heartbeat tick to the last "
                        "view's frameSwapped, on the GUI thread, while both runs play at full speed")},
        {QStringLiteral("phases"), phases}};
    QFile f(m_output);
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(root).toJson()) < 0) {
        std::fprintf(stderr, "kvscope --benchmark-ui: cannot write %s\n", qPrintable(m_output));
        emit finished(1);
        return;
    }
    emit finished(0);
}

}  // namespace kvscope::app
