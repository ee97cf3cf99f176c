// muxed_output.h — one encoded video stream written into a container file by libavformat.
//
// The MP4 and GIF encoders share this: make the muxer (so the encoder knows whether the container wants
// global headers), open the encoder, add it as the only stream, write the header (with the muxer's
// options, e.g. movflags=+faststart), then send frames and drain packets, then finish (flush the
// encoder, write the trailer, close the file). Destroying it unfinished closes the file without a
// trailer; the caller's PendingOutput then removes it.
#pragma once

#include <QString>
#include <map>

extern "C" {
#include <libavformat/avformat.h>
}

#include "export/ffmpeg_helpers.h"

namespace kvscope::app {

class MuxedOutput {
  public:
    ~MuxedOutput();
    MuxedOutput(const MuxedOutput&) = delete;
    MuxedOutput& operator=(const MuxedOutput&) = delete;

    // A muxer for `muxerName` ("mp4", "gif") writing to `path` (opened at writeHeader()).
    static Result<std::unique_ptr<MuxedOutput>> create(const char* muxerName, const QString& path);
    // Set AV_CODEC_FLAG_GLOBAL_HEADER on the encoder before opening it when this is true (MP4).
    bool wantsGlobalHeader() const;

    // Adds the opened encoder as the stream and writes the container header. `options` are the muxer's
    // ("movflags" → "+faststart"); any the muxer does not know is an error, not silently dropped.
    Status writeHeader(AVCodecContext* encoder, const std::map<std::string, std::string>& options);
    // Sends one frame (its pts in the encoder's time base) lasting `duration` (same base), and writes
    // every packet the encoder has ready.
    Status encode(AVFrame* frame, int64_t duration);
    // Flushes the encoder, writes the trailer (for +faststart: moves the index to the front) and closes.
    Status finish();

  private:
    MuxedOutput() = default;
    Status drain();
    AVFormatContext* m_format = nullptr;
    AVCodecContext* m_encoder = nullptr;  // owned by the caller
    AVStream* m_stream = nullptr;
    AvPacketPtr m_packet;
    QString m_path;
    std::map<int64_t, int64_t> m_durations;  // pts → duration, for packets that come back reordered
    bool m_headerWritten = false;
    bool m_finished = false;
};

}  // namespace kvscope::app
