// synthetic_frames.h — a clip whose every pixel the tests know: a grid of coloured cells that grows row
// by row (frame k shows rows 0…k), on a dark background. Used to check the encoders without the views.
//
// Cell (r, c) has colourAt(r, c): 10 rows × 20 columns = 200 colours, each at least 11 apart from its
// neighbours in one channel, plus the background: fewer than 256 colours in the clip, so a GIF palette
// computed for it can hold every colour exactly.
#pragma once

#include <QColor>
#include <QImage>
#include <QRect>
#include <atomic>

#include "export/frame_source.h"

namespace kvscope::test {

class GrowingGridSource : public app::FrameSource {
  public:
    static constexpr int kRows = 10, kCols = 20;
    explicit GrowingGridSource(QSize size = QSize(320, 240), int frames = kRows)
        : m_size(size), m_frames(frames) {}

    int frameCount() const override { return m_frames; }
    QSize frameSize() const override { return m_size; }
    Result<QImage> renderFrame(int index) override;

    static QColor background() { return QColor(24, 26, 32); }
    static QColor colourAt(int row, int col) {
        return QColor(20 + 23 * row, 20 + 11 * col, 230 - 17 * row + (col % 2) * 5);
    }
    // The pixels of cell (row, col) in this clip's frames.
    QRect cellRect(int row, int col) const;
    // Rows visible in frame `index`: 0 … min(index, kRows - 1).
    static bool rowVisible(int row, int index) { return row <= index; }

    int renders() const { return m_renders; }

  private:
    QSize m_size;
    int m_frames;
    int m_renders = 0;
};

// Wraps a source and raises a cancel flag when frame `at` is drawn (the export stops before the next).
class CancellingSource : public app::FrameSource {
  public:
    CancellingSource(app::FrameSource& inner, std::atomic<bool>& flag, int at)
        : m_inner(inner), m_flag(flag), m_at(at) {}
    int frameCount() const override { return m_inner.frameCount(); }
    QSize frameSize() const override { return m_inner.frameSize(); }
    Result<QImage> renderFrame(int index) override {
        if (index == m_at) m_flag = true;
        return m_inner.renderFrame(index);
    }

  private:
    app::FrameSource& m_inner;
    std::atomic<bool>& m_flag;
    int m_at;
};

// A source that fails at frame `at` (as a renderer losing its GL context would), or draws frames of
// the wrong size from then on.
class FailingSource : public app::FrameSource {
  public:
    enum class How { error, wrongSize };
    FailingSource(app::FrameSource& inner, int at, How how) : m_inner(inner), m_at(at), m_how(how) {}
    int frameCount() const override { return m_inner.frameCount(); }
    QSize frameSize() const override { return m_inner.frameSize(); }
    Result<QImage> renderFrame(int index) override {
        if (index < m_at) return m_inner.renderFrame(index);
        if (m_how == How::error) return Status::error("the renderer lost its OpenGL context");
        QImage small(frameSize() / 2, QImage::Format_RGBX8888);
        small.fill(Qt::white);
        return small;
    }

  private:
    app::FrameSource& m_inner;
    int m_at;
    How m_how;
};

}  // namespace kvscope::test
