// h264_level.h — the H.264 level a video of a given size and frame rate needs (ITU-T H.264 Table A-1).
//
// A level caps the frame size in 16×16 macroblocks (MaxFS), the macroblock rate (MaxMBPS), the decoded
// picture buffer (MaxDpbMbs) and the bit rate (MaxBR, MaxCPB). Players on slides — PowerPoint and Keynote
// through the operating system's decoder, Google Slides and browsers through theirs — check the level in
// the stream against what their hardware decoder supports, so the MP4 encoder signals the smallest level
// that holds the video (never less than 3.0) and keeps its bit rate, buffer and reference frames inside it.
#pragma once

#include <QSize>
#include <optional>

namespace kvscope::app {

struct H264Level {
    int idc = 0;              // level × 10: 30 is level 3.0, 41 is level 4.1
    long maxMbPerSecond = 0;  // MaxMBPS
    long maxFrameMbs = 0;     // MaxFS
    long maxDpbMbs = 0;       // MaxDpbMbs
    long maxKbps = 0;         // MaxBR for Baseline/Main, kbit/s (High profile allows 1.25×)
    long maxCpbKbits = 0;     // MaxCPB, kbit (High: 1.25×)

    // The limits for the High profile, whose bit rate and buffer are 1.25 × the table's (cpbBrVclFactor).
    long highMaxKbps() const { return maxKbps * 5 / 4; }
    long highMaxCpbKbits() const { return maxCpbKbits * 5 / 4; }
};

// The smallest level from 3.0 up whose frame size, macroblock rate and frame width/height (at most
// √(8·MaxFS) macroblocks) hold `size` at `fps`; nullopt when not even level 6.2 does.
std::optional<H264Level> chooseH264Level(QSize size, int fps);
// How many reference frames fit the level's picture buffer at this size (at most 16).
int maxReferenceFrames(const H264Level& level, QSize size);

}  // namespace kvscope::app
