// export_job.h — one export from a run's history, as the Export dialog and `kvscope export` both run it.
//
// start() checks the settings against the history (nothing is drawn or written when they are wrong),
// then: counters (csv, json) and an SVG are written at once; frames (mp4, gif, png-frames, png) are drawn
// on this thread (the GUI thread: ViewFrames) and encoded on a worker thread (ForwardedFrames), so the
// event loop keeps running: the dialog stays live and shows progress(). finished() comes exactly once
// after a successful start(), with the outcome: written, cancelled or failed. cancel() stops at the next
// frame and leaves neither the target nor a temporary (exporter.h, PendingOutput). This thread's event
// loop must run until finished().
#pragma once

#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>

#include "export/exporter.h"
#include "export/view_frames.h"

namespace kvscope::app {

class ForwardedFrames;

class ExportJob : public QObject {
    Q_OBJECT
  public:
    ExportJob(ExportHistory history, const ExportSettings& settings, QObject* parent = nullptr);
    ~ExportJob() override;  // cancels and waits for the worker if it still runs

    // Starts the export; an error (and no finished()) when the settings do not fit the history.
    Status start();
    void cancel() { m_cancel.store(true); }
    bool running() const { return m_running; }
    // The settings as resolved against the history (after start()).
    const ExportSettings& settings() const { return m_settings; }
    int frameCount() const;
    int framesDrawn() const;  // frames the renderers drew (the others repeated a finished frame)

  signals:
    void progress(const kvscope::app::ExportProgress& progress);
    void finished(const kvscope::app::ExportResult& result);

  private:
    void finish(const ExportResult& result);
    ExportRequest request() const;

    ExportHistory m_history;
    ExportSettings m_settings;
    std::unique_ptr<ViewFrames> m_frames;
    std::unique_ptr<ForwardedFrames> m_forwarded;
    std::unique_ptr<QThread> m_worker;
    std::atomic<bool> m_cancel{false};
    bool m_running = false;
};

}  // namespace kvscope::app
