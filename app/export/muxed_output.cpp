#include "export/muxed_output.h"

extern "C" {
#include <libavutil/dict.h>
}

namespace kvscope::app {

MuxedOutput::~MuxedOutput() {
    if (!m_format) return;
    if (m_format->pb) avio_closep(&m_format->pb);
    avformat_free_context(m_format);
}

Result<std::unique_ptr<MuxedOutput>> MuxedOutput::create(const char* muxerName, const QString& path) {
    std::unique_ptr<MuxedOutput> out(new MuxedOutput);
    out->m_path = path;
    const QByteArray file = path.toUtf8();
    if (int rc = avformat_alloc_output_context2(&out->m_format, nullptr, muxerName, file.constData()); rc < 0)
        return avFailure(QStringLiteral("FFmpeg has no '%1' muxer").arg(QLatin1String(muxerName)), rc);
    out->m_packet.reset(av_packet_alloc());
    if (!out->m_packet) return exportFailure(QStringLiteral("out of memory allocating a packet"));
    return out;
}

bool MuxedOutput::wantsGlobalHeader() const {
    return m_format->oformat->flags & AVFMT_GLOBALHEADER;
}

Status MuxedOutput::writeHeader(AVCodecContext* encoder, const std::map<std::string, std::string>& options) {
    m_encoder = encoder;
    m_stream = avformat_new_stream(m_format, nullptr);
    if (!m_stream) return exportFailure(QStringLiteral("out of memory adding a video stream"));
    m_stream->time_base = encoder->time_base;
    m_stream->avg_frame_rate = encoder->framerate;
    if (int rc = avcodec_parameters_from_context(m_stream->codecpar, encoder); rc < 0)
        return avFailure(QStringLiteral("copying the encoder's parameters to the stream"), rc);
    const QByteArray file = m_path.toUtf8();
    if (int rc = avio_open(&m_format->pb, file.constData(), AVIO_FLAG_WRITE); rc < 0)
        return avFailure(QStringLiteral("cannot open '%1' for writing").arg(m_path), rc);

    AVDictionary* dict = nullptr;
    for (const auto& [key, value] : options)
        av_dict_set(&dict, key.c_str(), value.c_str(), 0);
    const int rc = avformat_write_header(m_format, &dict);
    QStringList unknown;
    for (const AVDictionaryEntry* e = nullptr; (e = av_dict_get(dict, "", e, AV_DICT_IGNORE_SUFFIX));)
        unknown << QString::fromUtf8(e->key);
    av_dict_free(&dict);
    if (rc < 0) return avFailure(QStringLiteral("writing the header of '%1'").arg(m_path), rc);
    m_headerWritten = true;
    if (!unknown.isEmpty())
        return exportFailure(
            QStringLiteral("the %1 muxer does not know the option(s) %2")
                .arg(QLatin1String(m_format->oformat->name), unknown.join(QStringLiteral(", "))));
    return Status::ok();
}

Status MuxedOutput::encode(AVFrame* frame, int64_t duration) {
    assert(m_headerWritten && !m_finished && "MuxedOutput::encode() between writeHeader() and finish() only");
    m_durations[frame->pts] = duration;
    if (int rc = avcodec_send_frame(m_encoder, frame); rc < 0)
        return avFailure(
            QStringLiteral("the %1 encoder refused a frame").arg(QLatin1String(m_encoder->codec->name)), rc);
    return drain();
}

Status MuxedOutput::drain() {
    for (;;) {
        const int rc = avcodec_receive_packet(m_encoder, m_packet.get());
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::ok();
        if (rc < 0)
            return avFailure(
                QStringLiteral("the %1 encoder failed").arg(QLatin1String(m_encoder->codec->name)), rc);
        if (auto it = m_durations.find(m_packet->pts); it != m_durations.end()) {
            m_packet->duration = it->second;
            m_durations.erase(it);
        }
        av_packet_rescale_ts(m_packet.get(), m_encoder->time_base, m_stream->time_base);
        m_packet->stream_index = m_stream->index;
        // av_interleaved_write_frame takes the packet's reference (and leaves it blank) in every case.
        if (int w = av_interleaved_write_frame(m_format, m_packet.get()); w < 0)
            return avFailure(QStringLiteral("writing '%1'").arg(m_path), w);
    }
}

Status MuxedOutput::finish() {
    assert(m_headerWritten && !m_finished && "MuxedOutput::finish() once, after writeHeader()");
    if (int rc = avcodec_send_frame(m_encoder, nullptr); rc < 0)
        return avFailure(QStringLiteral("flushing the %1 encoder").arg(QLatin1String(m_encoder->codec->name)),
                         rc);
    KVSCOPE_TRY(drain());
    if (int rc = av_write_trailer(m_format); rc < 0)
        return avFailure(QStringLiteral("finishing '%1'").arg(m_path), rc);
    m_finished = true;
    if (int rc = avio_closep(&m_format->pb); rc < 0)
        return avFailure(QStringLiteral("closing '%1'").arg(m_path), rc);
    return Status::ok();
}

}  // namespace kvscope::app
