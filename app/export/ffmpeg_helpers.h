// ffmpeg_helpers.h — owning FFmpeg's C objects and turning its error codes into messages.
//
// Private to app/export: the encoders (mp4_encoder.cpp, gif_encoder.cpp) and the muxer wrapper use these
// so every object is freed on every path (a failure or a cancel halfway through an export leaks nothing).
// Nothing here encodes: that is FFmpeg's job (libavcodec, libavformat, libavfilter, libswscale).
#pragma once

#include <QImage>
#include <QString>
#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include "export/export_io.h"
#include "kvscope/status.h"

namespace kvscope::app {

struct AvFrameFree {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct AvPacketFree {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct AvCodecContextFree {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct AvFilterGraphFree {
    void operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }
};
struct SwsContextFree {
    void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using AvFramePtr = std::unique_ptr<AVFrame, AvFrameFree>;
using AvPacketPtr = std::unique_ptr<AVPacket, AvPacketFree>;
using AvCodecContextPtr = std::unique_ptr<AVCodecContext, AvCodecContextFree>;
using AvFilterGraphPtr = std::unique_ptr<AVFilterGraph, AvFilterGraphFree>;
using SwsContextPtr = std::unique_ptr<SwsContext, SwsContextFree>;

// Keeps FFmpeg's log to errors: x264's statistics and palettegen's notes would otherwise fill the CLI's
// stderr (where progress goes). Process-wide (FFmpeg has one log level); export is its only user.
void quietFfmpegLogs();

// FFmpeg's text for an AVERROR code ("Invalid argument").
QString avErrorText(int code);
// "what: FFmpeg's text" as a Status error.
Status avFailure(const QString& what, int code);

// A frame of `format` and `size` with its buffers allocated (32-byte aligned rows), or an error.
Result<AvFramePtr> allocateVideoFrame(AVPixelFormat format, QSize size);

// Copies an opaque image (any QImage format; converted to RGBA8888 when needed) into an AV_PIX_FMT_RGBA
// frame of the same size. The frame's rows may be wider than the image's (FFmpeg pads them).
Status copyImageToRgbaFrame(const QImage& image, AVFrame* rgba);

}  // namespace kvscope::app
