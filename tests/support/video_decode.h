// video_decode.h — reading an exported MP4 or GIF back with FFmpeg's demuxers and decoders, as a player
// would, to check what the encoders wrote. Frames come back as RGBA8888 QImages, converted with the
// colour matrix and range the stream signals (what a correct player does).
#pragma once

#include <QImage>
#include <QString>
#include <vector>

namespace kvscope::test {

struct DecodedVideo {
    QString error;      // empty when decoding worked
    QString codec;      // "h264", "gif"
    QString container;  // the demuxer: "mov,mp4,m4a,3gp,3g2,mj2", "gif"
    int width = 0, height = 0;
    QString pixelFormat;  // of the decoded frames: "yuv420p", "bgra", …
    int profile = -1, level = -1;
    QString colorSpace, colorRange;
    std::vector<QImage> frames;
    std::vector<double> startSeconds;  // presentation time of each frame
    std::vector<double> durations;     // per packet, seconds, in decode order
};

DecodedVideo decodeVideo(const QString& path);

// The top-level boxes of an MP4 file, in order ("ftyp", "moov", "mdat", …).
std::vector<QString> mp4TopLevelBoxes(const QString& path);

// Mean of each channel over a rectangle.
struct MeanColour {
    double r = 0, g = 0, b = 0;
};
MeanColour meanColour(const QImage& image, const QRect& rect);
// How two images differ in a rectangle, per channel: the largest difference and the mean one.
struct ImageDifference {
    int largest = 0;
    double mean = 0;
};
ImageDifference difference(const QImage& a, const QImage& b, const QRect& rect);

}  // namespace kvscope::test
