// export_control.h — how a running export reports progress and learns it was cancelled.
//
// The GUI's Export dialog and `kvscope export` hand one to the exporter: the dialog sets the cancel flag
// from its Cancel button (the export runs on a worker thread) and shows progress with the time left; the
// CLI prints progress on stderr. Encoders check cancelled() once per frame and report after each frame.
#pragma once

#include <QElapsedTimer>
#include <QString>
#include <atomic>
#include <functional>

namespace kvscope::app {

struct ExportProgress {
    int done = 0;  // units of work finished (frames drawn and encoded; GIF counts each of its two passes)
    int total = 0;
    // The same in the clip's own terms, as the dialog states them ("60 frames"): frame `frame` of
    // `frames` in pass `pass` of `passes` (a GIF goes over its frames twice: palette, then encoding).
    int frame = 0, frames = 0;
    int pass = 1, passes = 1;
    double elapsedSeconds = 0.0;
    double remainingSeconds = -1.0;  // estimated from the pace so far; < 0 until a unit has finished
    QString stage;                   // "encoding", "building the GIF palette", …
};

class ExportControl {
  public:
    ExportControl() = default;
    ExportControl(const std::atomic<bool>* cancel, std::function<void(const ExportProgress&)> onProgress)
        : m_cancel(cancel), m_onProgress(std::move(onProgress)) {}

    bool cancelled() const { return m_cancel && m_cancel->load(std::memory_order_relaxed); }
    // Calls the progress callback (if any) with the time so far and a linear estimate of the time left.
    // Frame `frame` (1-based) of `frames` is done, in pass `pass` of `passes`.
    void report(int frame, int frames, const QString& stage, int pass = 1, int passes = 1) {
        if (!m_clock.isValid()) m_clock.start();
        if (!m_onProgress) return;
        ExportProgress p;
        p.frame = frame;
        p.frames = frames;
        p.pass = pass;
        p.passes = passes;
        const int done = (pass - 1) * frames + frame, total = passes * frames;
        p.done = done;
        p.total = total;
        p.elapsedSeconds = double(m_clock.nsecsElapsed()) * 1e-9;
        if (done > 0 && total >= done) p.remainingSeconds = p.elapsedSeconds / done * (total - done);
        p.stage = stage;
        m_onProgress(p);
    }
    // Starts the clock (report() also does, on first use).
    void start() { m_clock.start(); }

  private:
    const std::atomic<bool>* m_cancel = nullptr;
    std::function<void(const ExportProgress&)> m_onProgress;
    QElapsedTimer m_clock;
};

}  // namespace kvscope::app
