// video_encoders.h — a FrameSource's frames encoded as MP4 (H.264) or GIF through FFmpeg's libraries.
//
// MP4, for slides (PowerPoint, Keynote, Google Slides) and browsers:
//   libx264, High profile, yuv420p (the only chroma layout every one of those players decodes), BT.709
//   limited range signalled in the stream, CRF 18 with preset "medium" and tune "animation" (flat colour
//   areas and sharp edges: heatmap cells and text stay crisp without a big file), the smallest level
//   from 3.0 up that holds the size and frame rate (1920×1080 at 30 fps: 4.0) with the bit rate, buffer
//   and reference frames kept inside it, a keyframe every 2 seconds, and "+faststart" (the moov index
//   first) so players start before the whole file is read.
// GIF, looping forever:
//   pass 1 feeds every frame to libavfilter's palettegen (stats_mode=full: one palette of 256 colours
//   for the whole clip, weighted by how much each colour covers over all frames); pass 2 maps each frame
//   to it with paletteuse (dither=bayer, bayer_scale=3: an ordered 8×8 dither that breaks the banding a
//   colour map's smooth ramp would show in 256 colours, stays put between frames — error diffusion would
//   shimmer and defeat GIF's frame differencing — and adds at most ±4 per channel, so a clip of fewer than
//   256 colours keeps them exactly; diff_mode=rectangle re-dithers only what changed). On three 1024-shade
//   ramps in one frame its largest step between neighbouring 8-pixel tiles is 1.1 levels beyond the
//   source's, against 4.3 undithered, 2.0 with sierra2_4a, 2.7 with bayer_scale=1 (test_export_video). Frames
//   are kept in memory between the passes up to 512 MiB, beyond that drawn again (FrameSources are
//   deterministic).
// Both check the cancel flag before each frame; on cancel or error they return an error and leave the
// half-written file to the caller's PendingOutput, which removes it.
//
// FFmpeg lives in a module (libkvscope_video.so, video_module.h): linked into the program its libraries
// and theirs — 167 shared libraries — were mapped and relocated by every start of the app, about 0.1 s
// before main, for a feature used only when exporting. These two load it on first use (video_loader.cpp)
// and say so when it cannot be found or loaded.
#pragma once

#include <QString>

#include "export/export_control.h"
#include "export/frame_source.h"

namespace kvscope::app {

struct VideoOptions {
    int fps = 30;
    int crf = 18;  // MP4 only: x264's constant rate factor (lower: better and bigger; 18 ≈ visually lossless)
    int threads = 0;  // encoder threads; 0: FFmpeg decides from the cores
    qint64 gifFrameCacheBytes = qint64(512) << 20;
};

Status encodeMp4(FrameSource& source, const QString& path, const VideoOptions& options,
                 ExportControl& control);
Status encodeGif(FrameSource& source, const QString& path, const VideoOptions& options,
                 ExportControl& control);

}  // namespace kvscope::app
