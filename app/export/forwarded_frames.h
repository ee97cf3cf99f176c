// forwarded_frames.h — frames drawn on one thread for an encoder running on another.
//
// Export draws on the GUI thread (Dear ImGui's current context is process-wide, so all ImGui drawing
// stays on the thread the views draw on) and encodes on a worker thread, so the window (or the progress
// line) stays live and encoding one frame overlaps drawing the next. The encoder calls renderFrame(i) on
// its thread; this asks the drawing thread's event loop for frame i, waits for it, and asks for frame
// i + 1 before returning i, so the drawing thread works on the next frame while the encoder encodes this
// one. Frames still come in the order asked for: the encoders see a plain, deterministic FrameSource.
//
// Cancel: a raised cancel flag, or detach() on the drawing thread (the job is going away), wakes a
// waiting encoder with an error at once; a frame request still queued then finds nothing to draw.
#pragma once

#include <QObject>
#include <QPointer>
#include <atomic>
#include <memory>

#include "export/frame_source.h"

namespace kvscope::app {

class ForwardedFrames : public FrameSource {
  public:
    // `source` is drawn on the thread of `owner`, which must run an event loop and outlive the export
    // or call detach() first.
    ForwardedFrames(FrameSource& source, QObject* owner, const std::atomic<bool>* cancel);
    ~ForwardedFrames() override;

    int frameCount() const override { return m_count; }
    QSize frameSize() const override { return m_size; }
    Result<QImage> renderFrame(int index) override;  // on the encoder's thread

    // On the owner's thread: no more drawing; a waiting encoder gets an error.
    void detach();

  private:
    struct Shared;
    void request(int index);
    std::shared_ptr<Shared> m_shared;
    QPointer<QObject> m_owner;
    const std::atomic<bool>* m_cancel;
    int m_count;
    QSize m_size;
};

}  // namespace kvscope::app
