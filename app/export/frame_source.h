// frame_source.h — who draws the frames of an export, as the encoders see it.
//
// The encoders (MP4, GIF, PNG frames) ask a FrameSource for frame 0, 1, … and never care who draws:
// the offscreen view renderer in the app, a synthetic pattern in the tests. A source must be
// deterministic — the same index gives the same pixels — because the GIF encoder may draw a frame twice
// (once to build the clip's palette, once to encode it) rather than hold a whole clip in memory.
#pragma once

#include <QImage>
#include <QSize>

#include "export/export_format.h"
#include "kvscope/status.h"

namespace kvscope::app {

class FrameSource {
  public:
    virtual ~FrameSource() = default;
    virtual int frameCount() const = 0;
    // Every frame has this size, in pixels.
    virtual QSize frameSize() const = 0;
    // Frame `index` (0 ≤ index < frameCount()): an opaque image of frameSize(), in any QImage format
    // (RGBA8888 or RGBX8888 avoid a conversion), or an error saying why it could not be drawn.
    virtual Result<QImage> renderFrame(int index) = 0;
};

}  // namespace kvscope::app

namespace kvscope::app {

// Whether `source` can be exported as `format` at `fps`: its frame size (validateFrameSize), the frame
// rate for animated formats (validateFps), and at least one frame.
Status checkClip(const FrameSource& source, ExportFormat format, int fps);

// source.renderFrame(index), checked: an error names the frame, and a frame of the wrong size is an error.
Result<QImage> renderCheckedFrame(FrameSource& source, int index);

}  // namespace kvscope::app
