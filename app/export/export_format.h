// export_format.h — what an export can write, and the limits every format checks before any work starts.
//
//   mp4         H.264 video (High profile, yuv420p, +faststart) for slides and browsers
//   gif         looping GIF with one palette computed for the whole clip
//   png-frames  a folder of numbered PNG files, one per frame
//   png         one PNG (one frame)
//   svg         one step's heatmaps as vector cells and text
//   csv, json   the counters of every step, per op class
// Sizes are 1…8192 pixels a side; H.264 also needs even sides (refused, not rounded: see
// validateFrameSize) and a size some H.264 level allows. GIF frame delays are counted in 1/100 s, and
// browsers slow any delay under 2/100 s down to 1/10 s, so a GIF plays at most 50 frames a second.
#pragma once

#include <QSize>
#include <QString>
#include <QStringList>
#include <optional>

#include "kvscope/status.h"

namespace kvscope::app {

enum class ExportFormat { mp4, gif, pngFrames, png, svg, csv, json };

QString formatName(ExportFormat format);                          // "mp4", "png-frames", …
std::optional<ExportFormat> formatFromName(const QString& name);  // case-insensitive
QStringList formatNames();
Result<ExportFormat> parseFormat(const QString& name);  // an error that lists the known names
// The file suffix a format writes ("mp4"); empty for png-frames (a folder).
QString formatSuffix(ExportFormat format);
bool writesFolder(ExportFormat format);
bool isAnimation(ExportFormat format);  // mp4, gif, png-frames: frames over time

constexpr int kMaxExportSide = 8192;
constexpr int kMaxGifFps = 50;
constexpr int kMaxVideoFps = 120;

// Checks a frame size for a format: 1…8192 a side; for mp4 even sides and an H.264 level that holds it.
Status validateFrameSize(ExportFormat format, QSize size);
// Checks frames per second for an animated format: 1…120 (mp4), 1…50 (gif).
Status validateFps(ExportFormat format, int fps);

}  // namespace kvscope::app
