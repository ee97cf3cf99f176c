// The MP4 (H.264) half of video_encoders.h: why each setting is what it is is written there.
#include <algorithm>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/dict.h>
}

#include "export/export_format.h"
#include "export/ffmpeg_helpers.h"
#include "export/h264_level.h"
#include "export/muxed_output.h"
#include "export/video_encoders.h"

namespace kvscope::app {
namespace {

// Opens libx264 for `size` at `fps` with the settings video_encoders.h describes.
Result<AvCodecContextPtr> openH264(QSize size, const VideoOptions& options, bool globalHeader) {
    const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
    if (!codec)
        return exportFailure(
            QStringLiteral("this FFmpeg has no libx264 encoder (Debian's libavcodec59 has it: "
                           "install libavcodec-extra or libavcodec59 from Debian)"));
    const std::optional<H264Level> level = chooseH264Level(size, options.fps);
    if (!level)
        return exportFailure(QStringLiteral("%1×%2 at %3 fps is more than H.264 level 6.2 allows")
                                 .arg(size.width())
                                 .arg(size.height())
                                 .arg(options.fps));
    AvCodecContextPtr enc(avcodec_alloc_context3(codec));
    if (!enc) return exportFailure(QStringLiteral("out of memory allocating the H.264 encoder"));
    enc->width = size.width();
    enc->height = size.height();
    enc->sample_aspect_ratio = AVRational{1, 1};
    enc->time_base = AVRational{1, options.fps};
    enc->framerate = AVRational{options.fps, 1};
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->color_range = AVCOL_RANGE_MPEG;
    enc->colorspace = AVCOL_SPC_BT709;
    enc->color_primaries = AVCOL_PRI_BT709;
    enc->color_trc = AVCOL_TRC_BT709;
    enc->gop_size = 2 * options.fps;
    enc->level = level->idc;
    // tune=animation doubles x264's reference frames; keep them to what the level's picture buffer holds.
    enc->refs = std::min(4, maxReferenceFrames(*level, size));
    enc->rc_max_rate = int64_t(level->highMaxKbps()) * 1000;
    enc->rc_buffer_size = int(std::min<long>(level->highMaxCpbKbits() * 1000, INT32_MAX));
    enc->thread_count = options.threads;
    if (globalHeader) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

    AVDictionary* dict = nullptr;
    // "fast": about 1.5x the speed of "medium" on these flat, slowly changing pictures, a few % larger.
    av_dict_set(&dict, "preset", "fast", 0);
    av_dict_set(&dict, "tune", "animation", 0);
    av_dict_set(&dict, "profile", "high", 0);
    av_dict_set_int(&dict, "crf", options.crf, 0);
    const int rc = avcodec_open2(enc.get(), codec, &dict);
    const bool leftover = av_dict_count(dict) > 0;
    av_dict_free(&dict);
    if (rc < 0) return avFailure(QStringLiteral("opening the H.264 encoder (libx264)"), rc);
    if (leftover)
        return exportFailure(QStringLiteral("libx264 ignored some of its options; this FFmpeg is too old"));
    return enc;
}

}  // namespace

Status encodeMp4(FrameSource& source, const QString& path, const VideoOptions& options,
                 ExportControl& control) {
    const QSize size = source.frameSize();
    KVSCOPE_TRY(checkClip(source, ExportFormat::mp4, options.fps));
    const int frames = source.frameCount();
    quietFfmpegLogs();
    control.start();

    Result<std::unique_ptr<MuxedOutput>> out = MuxedOutput::create("mp4", path);
    if (!out) return out.status();
    Result<AvCodecContextPtr> enc = openH264(size, options, (*out)->wantsGlobalHeader());
    if (!enc) return enc.status();
    KVSCOPE_TRY((*out)->writeHeader(enc->get(), {{"movflags", "+faststart"}}));

    // RGB → Y'CbCr with BT.709 coefficients into limited range, as the stream says (players use the
    // signalled matrix; a mismatch would shift the colour map's hues).
    SwsContextPtr sws(sws_getContext(size.width(), size.height(), AV_PIX_FMT_RGBA, size.width(),
                                     size.height(), AV_PIX_FMT_YUV420P, SWS_BILINEAR | SWS_ACCURATE_RND,
                                     nullptr, nullptr, nullptr));
    if (!sws) return exportFailure(QStringLiteral("libswscale cannot convert RGBA to yuv420p at this size"));
    const int* bt709 = sws_getCoefficients(SWS_CS_ITU709);
    sws_setColorspaceDetails(sws.get(), bt709, 1, bt709, 0, 0, 1 << 16, 1 << 16);

    Result<AvFramePtr> rgba = allocateVideoFrame(AV_PIX_FMT_RGBA, size);
    if (!rgba) return rgba.status();
    Result<AvFramePtr> yuv = allocateVideoFrame(AV_PIX_FMT_YUV420P, size);
    if (!yuv) return yuv.status();
    (*yuv)->color_range = AVCOL_RANGE_MPEG;
    (*yuv)->colorspace = AVCOL_SPC_BT709;
    (*yuv)->color_primaries = AVCOL_PRI_BT709;
    (*yuv)->color_trc = AVCOL_TRC_BT709;

    for (int i = 0; i < frames; ++i) {
        if (control.cancelled()) return cancelledStatus();
        Result<QImage> image = renderCheckedFrame(source, i);
        if (!image) return image.status();
        KVSCOPE_TRY(copyImageToRgbaFrame(*image, rgba->get()));
        // The encoder may still hold the previous frame's buffers: write into fresh ones if so.
        if (int rc = av_frame_make_writable(yuv->get()); rc < 0)
            return avFailure(QStringLiteral("reusing a frame"), rc);
        sws_scale(sws.get(), (*rgba)->data, (*rgba)->linesize, 0, size.height(), (*yuv)->data,
                  (*yuv)->linesize);
        (*yuv)->pts = i;
        KVSCOPE_TRY((*out)->encode(yuv->get(), 1));
        control.report(i + 1, frames, QStringLiteral("encoding H.264"));
    }
    return (*out)->finish();
}

}  // namespace kvscope::app
