#include "export/forwarded_frames.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "export/export_io.h"
#include "export/video_encoders.h"

namespace kvscope::app {

// What both threads touch, under the mutex. The drawing thread's queued calls hold it by shared_ptr, so
// it outlives whichever side goes first.
struct ForwardedFrames::Shared {
    std::mutex mutex;
    std::condition_variable ready;
    FrameSource* source = nullptr;  // null once detached; only the owner's thread reads it to draw
    std::map<int, Result<QImage>> done;
    std::map<int, bool> pending;  // asked for, not yet drawn
};

ForwardedFrames::ForwardedFrames(FrameSource& source, QObject* owner, const std::atomic<bool>* cancel)
    : m_shared(std::make_shared<Shared>()),
      m_owner(owner),
      m_cancel(cancel),
      m_count(source.frameCount()),
      m_size(source.frameSize()) {
    m_shared->source = &source;
}

ForwardedFrames::~ForwardedFrames() = default;

void ForwardedFrames::detach() {
    std::lock_guard lock(m_shared->mutex);
    m_shared->source = nullptr;
    m_shared->ready.notify_all();
}

void ForwardedFrames::request(int index) {
    {
        std::lock_guard lock(m_shared->mutex);
        if (m_shared->pending.count(index) || m_shared->done.count(index)) return;
        m_shared->pending[index] = true;
    }
    std::shared_ptr<Shared> shared = m_shared;
    const bool queued =
        m_owner && QMetaObject::invokeMethod(
                       m_owner.data(),
                       [shared, index] {
                           // On the owner's thread, where the source lives.
                           FrameSource* source;
                           {
                               std::lock_guard lock(shared->mutex);
                               source = shared->source;
                           }
                           Result<QImage> frame =
                               source
                                   ? source->renderFrame(index)
                                   : Result<QImage>(exportFailure(QStringLiteral("the export was stopped")));
                           std::lock_guard lock(shared->mutex);
                           shared->pending.erase(index);
                           shared->done.emplace(index, std::move(frame));
                           shared->ready.notify_all();
                       },
                       Qt::QueuedConnection);
    if (!queued) {
        std::lock_guard lock(m_shared->mutex);
        m_shared->pending.erase(index);
        m_shared->done.emplace(index, exportFailure(QStringLiteral("the drawing thread is gone")));
    }
}

Result<QImage> ForwardedFrames::renderFrame(int index) {
    request(index);
    std::unique_lock lock(m_shared->mutex);
    while (!m_shared->done.count(index)) {
        if (m_cancel && m_cancel->load()) return cancelledStatus();
        if (!m_shared->source) return exportFailure(QStringLiteral("the export was stopped"));
        // Short waits: the cancel flag is an atomic nobody notifies the condition for.
        m_shared->ready.wait_for(lock, std::chrono::milliseconds(50));
    }
    Result<QImage> frame = std::move(m_shared->done.at(index));
    m_shared->done.clear();  // frames are asked for in order: nothing older is wanted again
    lock.unlock();
    if (frame && index + 1 < m_count) request(index + 1);  // drawn while this one is encoded
    return frame;
}

}  // namespace kvscope::app
