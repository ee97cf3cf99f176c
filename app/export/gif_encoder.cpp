// The GIF half of video_encoders.h: two passes through libavfilter (palettegen, then paletteuse).
#include <QList>
#include <cmath>

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/dict.h>
}

#include "export/export_format.h"
#include "export/ffmpeg_helpers.h"
#include "export/muxed_output.h"
#include "export/video_encoders.h"

namespace kvscope::app {
namespace {

// GIF counts time in 1/100 s; frame i starts at round(i · 100 / fps) hundredths, so 30 fps alternates
// delays of 3 and 4 hundredths and keeps the clip's total length right.
constexpr AVRational kGifTimeBase{1, 100};
int64_t gifPts(int frame, int fps) {
    return std::llround(double(frame) * 100.0 / fps);
}

struct FilterChain {
    AvFilterGraphPtr graph;
    AVFilterContext* frames = nullptr;   // buffer source of the clip's frames
    AVFilterContext* palette = nullptr;  // buffer source of the palette (pass 2 only)
    AVFilterContext* sink = nullptr;
};

Result<AVFilterContext*> addFilter(AVFilterGraph* graph, const char* filter, const char* name,
                                   const QString& args) {
    AVFilterContext* ctx = nullptr;
    const QByteArray a = args.toUtf8();
    if (int rc = avfilter_graph_create_filter(&ctx, avfilter_get_by_name(filter), name,
                                              a.isEmpty() ? nullptr : a.constData(), nullptr, graph);
        rc < 0)
        return avFailure(QStringLiteral("libavfilter: cannot make %1=%2").arg(QLatin1String(filter), args),
                         rc);
    return ctx;
}

QString bufferArgs(QSize size, int pixelFormat) {
    return QStringLiteral("video_size=%1x%2:pix_fmt=%3:time_base=%4/%5:pixel_aspect=1/1")
        .arg(size.width())
        .arg(size.height())
        .arg(pixelFormat)
        .arg(kGifTimeBase.num)
        .arg(kGifTimeBase.den);
}

Status link(AVFilterContext* from, int fromPad, AVFilterContext* to, int toPad) {
    if (int rc = avfilter_link(from, fromPad, to, toPad); rc < 0)
        return avFailure(QStringLiteral("libavfilter: cannot link %1 to %2")
                             .arg(QLatin1String(from->name), QLatin1String(to->name)),
                         rc);
    return Status::ok();
}

// frames [+ palette] → `filter` → sink. Pass 1 is frames → palettegen (which emits its one palette frame at
// the end of the stream); pass 2 is [frames][palette] → paletteuse (pal8 frames for the GIF encoder).
Result<FilterChain> makeChain(QSize size, const char* filter, const QString& args, const AVFrame* palette) {
    FilterChain c;
    c.graph.reset(avfilter_graph_alloc());
    if (!c.graph) return exportFailure(QStringLiteral("out of memory allocating a filter graph"));
    auto frames = addFilter(c.graph.get(), "buffer", "frames", bufferArgs(size, AV_PIX_FMT_RGBA));
    if (!frames) return frames.status();
    auto middle = addFilter(c.graph.get(), filter, filter, args);
    if (!middle) return middle.status();
    auto sink = addFilter(c.graph.get(), "buffersink", "out", QString());
    if (!sink) return sink.status();
    KVSCOPE_TRY(link(*frames, 0, *middle, 0));
    if (palette) {
        auto pal = addFilter(c.graph.get(), "buffer", "palette",
                             bufferArgs(QSize(palette->width, palette->height), palette->format));
        if (!pal) return pal.status();
        KVSCOPE_TRY(link(*pal, 0, *middle, 1));
        c.palette = *pal;
    }
    KVSCOPE_TRY(link(*middle, 0, *sink, 0));
    if (int rc = avfilter_graph_config(c.graph.get(), nullptr); rc < 0)
        return avFailure(
            QStringLiteral("libavfilter: the %1 graph does not configure").arg(QLatin1String(filter)), rc);
    c.frames = *frames;
    c.sink = *sink;
    return c;
}

Status push(AVFilterContext* source, AVFrame* frame) {
    if (int rc = av_buffersrc_add_frame_flags(source, frame, AV_BUFFERSRC_FLAG_KEEP_REF); rc < 0)
        return avFailure(QStringLiteral("libavfilter refused a frame"), rc);
    return Status::ok();
}

// The clip's frames, drawn once and kept while they fit the budget, else drawn again when asked.
class FrameCache {
  public:
    FrameCache(FrameSource& source, qint64 budgetBytes) : m_source(source), m_budget(budgetBytes) {}
    Result<QImage> frame(int i) {
        if (i < m_kept.size()) return m_kept[i];
        Result<QImage> image = renderCheckedFrame(m_source, i);
        if (image && i == m_kept.size() && m_used + image->sizeInBytes() <= m_budget) {
            m_used += image->sizeInBytes();
            m_kept.append(*image);
        }
        return image;
    }

  private:
    FrameSource& m_source;
    qint64 m_budget;
    qint64 m_used = 0;
    QList<QImage> m_kept;  // frames 0 … m_kept.size()-1
};

}  // namespace

Status encodeGif(FrameSource& source, const QString& path, const VideoOptions& options,
                 ExportControl& control) {
    const QSize size = source.frameSize();
    KVSCOPE_TRY(checkClip(source, ExportFormat::gif, options.fps));
    const int frames = source.frameCount();
    quietFfmpegLogs();
    control.start();
    FrameCache cache(source, options.gifFrameCacheBytes);
    Result<AvFramePtr> rgba = allocateVideoFrame(AV_PIX_FMT_RGBA, size);
    if (!rgba) return rgba.status();
    AvFramePtr filtered(av_frame_alloc());
    if (!filtered) return exportFailure(QStringLiteral("out of memory allocating a frame"));

    // Feeds frame i of the clip to a chain's frame source.
    auto feed = [&](FilterChain& chain, int i) -> Status {
        Result<QImage> image = cache.frame(i);
        if (!image) return image.status();
        KVSCOPE_TRY(copyImageToRgbaFrame(*image, rgba->get()));
        (*rgba)->pts = gifPts(i, options.fps);
        return push(chain.frames, rgba->get());
    };

    // ---- pass 1: one palette for the whole clip ----
    Result<FilterChain> paletteChain = makeChain(
        size, "palettegen", QStringLiteral("max_colors=256:reserve_transparent=0:stats_mode=full"), nullptr);
    if (!paletteChain) return paletteChain.status();
    for (int i = 0; i < frames; ++i) {
        if (control.cancelled()) return cancelledStatus();
        KVSCOPE_TRY(feed(*paletteChain, i));
        control.report(i + 1, frames, QStringLiteral("building the GIF palette"), 1, 2);
    }
    KVSCOPE_TRY(push(paletteChain->frames, nullptr));  // end of stream: palettegen emits the palette now
    AvFramePtr palette(av_frame_alloc());
    if (!palette) return exportFailure(QStringLiteral("out of memory allocating a frame"));
    if (int rc = av_buffersink_get_frame(paletteChain->sink, palette.get()); rc < 0)
        return avFailure(QStringLiteral("palettegen produced no palette"), rc);
    palette->pts = 0;

    // ---- pass 2: map every frame to it and encode ----
    Result<FilterChain> mapChain = makeChain(
        size, "paletteuse", QStringLiteral("dither=bayer:bayer_scale=3:diff_mode=rectangle"), palette.get());
    if (!mapChain) return mapChain.status();
    KVSCOPE_TRY(push(mapChain->palette, palette.get()));
    KVSCOPE_TRY(push(mapChain->palette, nullptr));

    const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_GIF);
    if (!codec) return exportFailure(QStringLiteral("this FFmpeg has no GIF encoder"));
    Result<std::unique_ptr<MuxedOutput>> out = MuxedOutput::create("gif", path);
    if (!out) return out.status();
    AvCodecContextPtr enc(avcodec_alloc_context3(codec));
    if (!enc) return exportFailure(QStringLiteral("out of memory allocating the GIF encoder"));
    enc->width = size.width();
    enc->height = size.height();
    enc->pix_fmt = AV_PIX_FMT_PAL8;
    enc->time_base = kGifTimeBase;
    enc->framerate = AVRational{options.fps, 1};
    enc->sample_aspect_ratio = AVRational{1, 1};
    if ((*out)->wantsGlobalHeader()) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (int rc = avcodec_open2(enc.get(), codec, nullptr); rc < 0)
        return avFailure(QStringLiteral("opening the GIF encoder"), rc);
    KVSCOPE_TRY((*out)->writeHeader(enc.get(), {{"loop", "0"}}));  // 0: loop forever (NETSCAPE2.0 block)

    // Encodes what paletteuse has ready; each frame lasts until the next one starts.
    auto drain = [&]() -> Status {
        for (;;) {
            const int rc = av_buffersink_get_frame(mapChain->sink, filtered.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::ok();
            if (rc < 0) return avFailure(QStringLiteral("paletteuse failed"), rc);
            const int index = int(std::lround(double(filtered->pts) * options.fps / 100.0));
            const int64_t duration = gifPts(index + 1, options.fps) - filtered->pts;
            Status s = (*out)->encode(filtered.get(), duration);
            av_frame_unref(filtered.get());
            KVSCOPE_TRY(s);
        }
    };
    for (int i = 0; i < frames; ++i) {
        if (control.cancelled()) return cancelledStatus();
        KVSCOPE_TRY(feed(*mapChain, i));
        KVSCOPE_TRY(drain());
        control.report(i + 1, frames, QStringLiteral("encoding GIF"), 2, 2);
    }
    KVSCOPE_TRY(push(mapChain->frames, nullptr));
    KVSCOPE_TRY(drain());
    return (*out)->finish();
}

}  // namespace kvscope::app
