#include "export/export_job.h"

#include <QTimer>

#include "export/export_io.h"
#include "export/forwarded_frames.h"
#include "export/view_svg.h"

namespace kvscope::app {
namespace {

ExportResult failedWith(const Status& status) {
    ExportResult r;
    r.outcome = ExportResult::Outcome::failed;
    r.error = statusText(status);
    return r;
}

std::vector<CountersRun> countersRuns(const ExportHistory& history, const ExportSettings& s) {
    std::vector<CountersRun> runs;
    for (Side side : kSides) {
        CountersRun run;
        run.mode = side == Side::cached ? SessionMode::cached : SessionMode::uncached;
        const auto& steps = history.steps[size_t(sideIndex(side))];
        for (int i = s.firstStep; i <= s.lastStep && i < int(steps.size()); ++i)
            run.steps.push_back(steps[size_t(i)].trace);
        runs.push_back(std::move(run));
    }
    return runs;
}

}  // namespace

ExportJob::ExportJob(ExportHistory history, const ExportSettings& settings, QObject* parent)
    : QObject(parent), m_history(std::move(history)), m_settings(settings) {}

ExportJob::~ExportJob() {
    if (m_worker) {
        m_cancel.store(true);
        if (m_forwarded) m_forwarded->detach();  // a worker waiting for a frame wakes up now
        m_worker->wait();
    }
}

int ExportJob::frameCount() const {
    return m_frames ? m_frames->frameCount() : 0;
}

int ExportJob::framesDrawn() const {
    return m_frames ? m_frames->framesDrawn() : 0;
}

ExportRequest ExportJob::request() const {
    ExportRequest r;
    r.format = m_settings.format;
    r.outPath = m_settings.out;
    r.replaceExisting = m_settings.force;
    r.video.fps = m_settings.fps;
    r.stillFrame = 0;  // a still's clip is its one frame
    return r;
}

Status ExportJob::start() {
    assert(!m_running && "ExportJob::start() called twice");
    Result<ExportSettings> resolved = resolveExportSettings(m_settings, m_history);
    if (!resolved) return resolved.status();
    m_settings = *resolved;
    m_running = true;
    const ExportRequest req = request();
    // Counters and SVG: a few milliseconds, here.
    if (m_settings.format == ExportFormat::csv || m_settings.format == ExportFormat::json ||
        m_settings.format == ExportFormat::svg) {
        ExportResult result;
        if (m_settings.format == ExportFormat::svg) {
            Result<SvgPage> page = viewSvgPage(m_history, m_settings);
            result = page ? exportSvg(*page, req) : failedWith(page.status());
        } else {
            result = exportCounters(countersRuns(m_history, m_settings), req);
        }
        QTimer::singleShot(0, this, [this, result] { finish(result); });
        return Status::ok();
    }
    Result<std::unique_ptr<ViewFrames>> frames = ViewFrames::create(m_history, m_settings);
    if (!frames) {
        m_running = false;
        return frames.status();
    }
    m_frames = std::move(*frames);
    m_forwarded = std::make_unique<ForwardedFrames>(*m_frames, this, &m_cancel);
    m_worker.reset(QThread::create([this, req] {
        ExportControl control(&m_cancel, [this](const ExportProgress& p) {
            QMetaObject::invokeMethod(
                this, [this, p] { emit progress(p); }, Qt::QueuedConnection);
        });
        control.start();
        const ExportResult result = exportFrames(*m_forwarded, req, control);
        QMetaObject::invokeMethod(
            this, [this, result] { finish(result); }, Qt::QueuedConnection);
    }));
    m_worker->start();
    return Status::ok();
}

void ExportJob::finish(const ExportResult& result) {
    if (m_worker) {
        m_worker->wait();
        m_worker.reset();
    }
    if (m_forwarded) m_forwarded->detach();
    m_running = false;
    emit finished(result);
}

}  // namespace kvscope::app
