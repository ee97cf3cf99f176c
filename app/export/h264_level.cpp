#include "export/h264_level.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace kvscope::app {
namespace {

// ITU-T H.264 (08/2021) Table A-1, levels 3.0 to 6.2 (smaller levels are too small for any slide video).
//   idc  MaxMBPS    MaxFS   MaxDpbMbs  MaxBR   MaxCPB
constexpr std::array<H264Level, 12> kLevels{{
    {30, 40500, 1620, 8100, 10000, 10000},
    {31, 108000, 3600, 18000, 14000, 14000},
    {32, 216000, 5120, 20480, 20000, 20000},
    {40, 245760, 8192, 32768, 20000, 25000},
    {41, 245760, 8192, 32768, 50000, 62500},
    {42, 522240, 8704, 34816, 50000, 62500},
    {50, 589824, 22080, 110400, 135000, 135000},
    {51, 983040, 36864, 184320, 240000, 240000},
    {52, 2073600, 36864, 184320, 240000, 240000},
    {60, 4177920, 139264, 696320, 240000, 240000},
    {61, 8355840, 139264, 696320, 480000, 480000},
    {62, 16711680, 139264, 696320, 800000, 800000},
}};

long macroblocks(int pixels) {
    return (pixels + 15) / 16;
}

}  // namespace

std::optional<H264Level> chooseH264Level(QSize size, int fps) {
    const long mbWide = macroblocks(size.width()), mbHigh = macroblocks(size.height());
    const long frameMbs = mbWide * mbHigh;
    for (const H264Level& level : kLevels) {
        // A.3.1: PicWidthInMbs and FrameHeightInMbs are each at most Sqrt(MaxFS * 8).
        const long maxSide = long(std::sqrt(double(level.maxFrameMbs) * 8.0));
        if (frameMbs <= level.maxFrameMbs && mbWide <= maxSide && mbHigh <= maxSide &&
            frameMbs * fps <= level.maxMbPerSecond)
            return level;
    }
    return std::nullopt;
}

int maxReferenceFrames(const H264Level& level, QSize size) {
    const long frameMbs = macroblocks(size.width()) * macroblocks(size.height());
    return int(std::clamp<long>(level.maxDpbMbs / frameMbs, 1, 16));
}

}  // namespace kvscope::app
