#include "export/ffmpeg_helpers.h"

#include <cstring>
#include <mutex>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
}

namespace kvscope::app {

void quietFfmpegLogs() {
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_level(AV_LOG_ERROR); });
}

QString avErrorText(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, text, sizeof text);
    return QString::fromUtf8(text);
}

Status avFailure(const QString& what, int code) {
    return exportFailure(QStringLiteral("%1: %2").arg(what, avErrorText(code)));
}

Result<AvFramePtr> allocateVideoFrame(AVPixelFormat format, QSize size) {
    AvFramePtr frame(av_frame_alloc());
    if (!frame) return exportFailure(QStringLiteral("out of memory allocating a video frame"));
    frame->format = format;
    frame->width = size.width();
    frame->height = size.height();
    if (int rc = av_frame_get_buffer(frame.get(), 32); rc < 0)
        return avFailure(
            QStringLiteral("allocating a %1×%2 video frame").arg(size.width()).arg(size.height()), rc);
    return frame;
}

Status copyImageToRgbaFrame(const QImage& image, AVFrame* rgba) {
    assert(rgba->format == AV_PIX_FMT_RGBA && "copyImageToRgbaFrame writes AV_PIX_FMT_RGBA frames only");
    if (image.width() != rgba->width || image.height() != rgba->height)
        return exportFailure(QStringLiteral("a frame is %1×%2 pixels, the export is %3×%4")
                                 .arg(image.width())
                                 .arg(image.height())
                                 .arg(rgba->width)
                                 .arg(rgba->height));
    // RGBA8888 is byte-ordered R, G, B, A on every host: exactly FFmpeg's AV_PIX_FMT_RGBA.
    const QImage bytes =
        (image.format() == QImage::Format_RGBA8888 || image.format() == QImage::Format_RGBX8888)
            ? image
            : image.convertToFormat(QImage::Format_RGBX8888);
    if (int rc = av_frame_make_writable(rgba); rc < 0)
        return avFailure(QStringLiteral("reusing a frame"), rc);
    const size_t rowBytes = size_t(image.width()) * 4;
    for (int y = 0; y < image.height(); ++y)
        std::memcpy(rgba->data[0] + ptrdiff_t(y) * rgba->linesize[0], bytes.constScanLine(y), rowBytes);
    return Status::ok();
}

}  // namespace kvscope::app
