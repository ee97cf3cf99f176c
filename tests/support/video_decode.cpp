#include "support/video_decode.h"

#include <QFile>
#include <QtEndian>
#include <cmath>
#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace kvscope::test {
namespace {

QString avText(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, text, sizeof text);
    return QString::fromUtf8(text);
}

int swsColourSpace(AVColorSpace space) {
    switch (space) {
        case AVCOL_SPC_BT709:
            return SWS_CS_ITU709;
        case AVCOL_SPC_BT470BG:
        case AVCOL_SPC_SMPTE170M:
            return SWS_CS_ITU601;
        default:
            return SWS_CS_DEFAULT;
    }
}

QImage toRgba(const AVFrame* frame) {
    const auto format = AVPixelFormat(frame->format);
    SwsContext* sws =
        sws_getContext(frame->width, frame->height, format, frame->width, frame->height, AV_PIX_FMT_RGBA,
                       SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr);
    if (!sws) return {};
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
    if (desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB) && !(desc->flags & AV_PIX_FMT_FLAG_PAL)) {
        const int* table = sws_getCoefficients(swsColourSpace(frame->colorspace));
        const int full = frame->color_range == AVCOL_RANGE_JPEG ? 1 : 0;
        sws_setColorspaceDetails(sws, table, full, table, 1, 0, 1 << 16, 1 << 16);
    }
    QImage image(frame->width, frame->height, QImage::Format_RGBA8888);
    uint8_t* dst[4] = {image.bits(), nullptr, nullptr, nullptr};
    int dstStride[4] = {int(image.bytesPerLine()), 0, 0, 0};
    sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, dstStride);
    sws_freeContext(sws);
    return image;
}

}  // namespace

DecodedVideo decodeVideo(const QString& path) {
    DecodedVideo out;
    AVFormatContext* format = nullptr;
    const QByteArray file = path.toUtf8();
    if (int rc = avformat_open_input(&format, file.constData(), nullptr, nullptr); rc < 0) {
        out.error = QStringLiteral("cannot open %1: %2").arg(path, avText(rc));
        return out;
    }
    std::unique_ptr<AVFormatContext, void (*)(AVFormatContext*)> formatGuard(
        format, [](AVFormatContext* f) { avformat_close_input(&f); });
    if (int rc = avformat_find_stream_info(format, nullptr); rc < 0) {
        out.error = QStringLiteral("no stream info: %1").arg(avText(rc));
        return out;
    }
    const int streamIndex = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (streamIndex < 0) {
        out.error = QStringLiteral("no video stream");
        return out;
    }
    AVStream* stream = format->streams[streamIndex];
    const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
    std::unique_ptr<AVCodecContext, void (*)(AVCodecContext*)> dec(
        avcodec_alloc_context3(codec), [](AVCodecContext* c) { avcodec_free_context(&c); });
    avcodec_parameters_to_context(dec.get(), stream->codecpar);
    if (int rc = avcodec_open2(dec.get(), codec, nullptr); rc < 0) {
        out.error = QStringLiteral("cannot open the decoder: %1").arg(avText(rc));
        return out;
    }
    out.codec = QString::fromLatin1(codec->name);
    out.container = QString::fromLatin1(format->iformat->name);
    out.width = stream->codecpar->width;
    out.height = stream->codecpar->height;
    out.profile = stream->codecpar->profile;
    out.level = stream->codecpar->level;
    out.colorSpace = QString::fromLatin1(av_color_space_name(stream->codecpar->color_space));
    out.colorRange = QString::fromLatin1(av_color_range_name(stream->codecpar->color_range));

    AVPacket* packet = av_packet_alloc();
    AVFrame* frame = av_frame_alloc();
    const double tb = av_q2d(stream->time_base);
    auto receive = [&]() {
        while (avcodec_receive_frame(dec.get(), frame) == 0) {
            out.pixelFormat = QString::fromLatin1(av_get_pix_fmt_name(AVPixelFormat(frame->format)));
            out.frames.push_back(toRgba(frame));
            out.startSeconds.push_back(frame->best_effort_timestamp * tb);
            av_frame_unref(frame);
        }
    };
    while (av_read_frame(format, packet) >= 0) {
        if (packet->stream_index == streamIndex) {
            out.durations.push_back(packet->duration * tb);
            avcodec_send_packet(dec.get(), packet);
            receive();
        }
        av_packet_unref(packet);
    }
    avcodec_send_packet(dec.get(), nullptr);
    receive();
    av_frame_free(&frame);
    av_packet_free(&packet);
    return out;
}

std::vector<QString> mp4TopLevelBoxes(const QString& path) {
    std::vector<QString> boxes;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return boxes;
    const QByteArray bytes = f.readAll();
    qint64 at = 0;
    while (at + 8 <= bytes.size()) {
        quint64 size = qFromBigEndian<quint32>(bytes.constData() + at);
        const QString type = QString::fromLatin1(bytes.mid(at + 4, 4));
        if (size == 1 && at + 16 <= bytes.size()) size = qFromBigEndian<quint64>(bytes.constData() + at + 8);
        if (size == 0) size = quint64(bytes.size() - at);  // to the end of the file
        boxes.push_back(type);
        if (size < 8) break;
        at += qint64(size);
    }
    return boxes;
}

MeanColour meanColour(const QImage& image, const QRect& rect) {
    const QImage rgba = image.convertToFormat(QImage::Format_RGBA8888);
    MeanColour m;
    double n = 0;
    for (int y = rect.top(); y <= rect.bottom(); ++y)
        for (int x = rect.left(); x <= rect.right(); ++x) {
            const uchar* p = rgba.constScanLine(y) + 4 * x;
            m.r += p[0];
            m.g += p[1];
            m.b += p[2];
            ++n;
        }
    m.r /= n;
    m.g /= n;
    m.b /= n;
    return m;
}

ImageDifference difference(const QImage& a, const QImage& b, const QRect& rect) {
    const QImage x = a.convertToFormat(QImage::Format_RGBA8888),
                 y = b.convertToFormat(QImage::Format_RGBA8888);
    ImageDifference d;
    for (int row = rect.top(); row <= rect.bottom(); ++row)
        for (int col = rect.left(); col <= rect.right(); ++col)
            for (int ch = 0; ch < 3; ++ch) {
                const int delta = std::abs(int(x.constScanLine(row)[4 * col + ch]) -
                                           int(y.constScanLine(row)[4 * col + ch]));
                d.largest = std::max(d.largest, delta);
                d.mean += delta;
            }
    d.mean /= 3.0 * rect.width() * rect.height();
    return d;
}

}  // namespace kvscope::test
