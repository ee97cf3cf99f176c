// png_export.h — frames as PNG files through Qt's image writer (lossless: a PNG is the frame, exactly).
//
// writePngFrames fills a folder with frame_0000.png, frame_0001.png, … (at least four digits, more
// when the clip has more frames) — the order a slide tool or `ffmpeg -i frame_%04d.png` expects.
// writePngStill writes one frame. Both write into paths a PendingOutput provides.
#pragma once

#include <QString>

#include "export/export_control.h"
#include "export/frame_source.h"

namespace kvscope::app {

QString pngFrameName(int index, int frameCount);
Status writePngFrames(FrameSource& source, const QString& folder, ExportControl& control);
Status writePngStill(FrameSource& source, int frame, const QString& path);
Status writePng(const QImage& image, const QString& path);

}  // namespace kvscope::app
