// test_export_video — MP4 (H.264) and GIF written from a synthetic clip and read back with FFmpeg's own
// demuxers and decoders: frame count, size, timing, container details (faststart, profile, level, loop),
// frames that change where the content grew and nowhere else, and the colour of known cells.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "export/exporter.h"
#include "support/synthetic_frames.h"
#include "support/video_decode.h"

using namespace kvscope;
using namespace kvscope::app;
using kvscope::test::GrowingGridSource;

namespace {

// The centre of a cell, away from its edges: what chroma subsampling (2×2) and GIF dithering leave flat.
QRect cellCentre(const GrowingGridSource& source, int row, int col) {
    const QRect cell = source.cellRect(row, col);
    return QRect(cell.center() - QPoint(3, 3), QSize(7, 7));
}

// The whole band of rows [row] in a frame.
QRect rowBand(const GrowingGridSource& source, int row) {
    return source.cellRect(row, 0).united(source.cellRect(row, GrowingGridSource::kCols - 1));
}

ExportRequest request(ExportFormat format, const QString& path, int fps) {
    ExportRequest r;
    r.format = format;
    r.outPath = path;
    r.video.fps = fps;
    r.video.threads = 1;  // ctest runs two tests at once on two cores
    return r;
}

}  // namespace

class TestExportVideo : public QObject {
    Q_OBJECT
  private slots:
    void mp4RoundTrip();
    void gifRoundTrip();
    void gifKeepsFewColoursExactlyWithoutCache();
    void gifDithersSmoothRampsWithoutBanding();
};

void TestExportVideo::mp4RoundTrip() {
    QTemporaryDir dir;
    GrowingGridSource source(QSize(320, 240));
    ExportControl control;
    const QString path = dir.filePath(QStringLiteral("clip.mp4"));
    const ExportResult result = exportFrames(source, request(ExportFormat::mp4, path, 10), control);
    QVERIFY2(result.ok(), qPrintable(result.error));
    QCOMPARE(result.path, path);

    const test::DecodedVideo video = test::decodeVideo(path);
    QVERIFY2(video.error.isEmpty(), qPrintable(video.error));
    QCOMPARE(video.codec, QStringLiteral("h264"));
    QCOMPARE(int(video.frames.size()), 10);
    QCOMPARE(video.width, 320);
    QCOMPARE(video.height, 240);
    QCOMPARE(video.pixelFormat, QStringLiteral("yuv420p"));
    QCOMPARE(video.profile, 100);  // profile_idc 100: High
    QCOMPARE(video.level, 30);     // 320×240 at 10 fps: the smallest level we signal
    QCOMPARE(video.colorSpace, QStringLiteral("bt709"));
    QCOMPARE(video.colorRange, QStringLiteral("tv"));
    for (int i = 0; i < 10; ++i)
        QVERIFY2(std::abs(video.startSeconds[size_t(i)] - i / 10.0) < 1e-6,
                 qPrintable(QString::number(video.startSeconds[size_t(i)])));
    // +faststart: the index (moov) comes before the media (mdat), so players start at once.
    const std::vector<QString> boxes = test::mp4TopLevelBoxes(path);
    const auto moov = std::find(boxes.begin(), boxes.end(), QStringLiteral("moov"));
    const auto mdat = std::find(boxes.begin(), boxes.end(), QStringLiteral("mdat"));
    QVERIFY(moov != boxes.end() && mdat != boxes.end());
    QVERIFY2(moov < mdat, "moov after mdat: +faststart was not applied");

    // Known cells: decoded colour within 3 of the source per channel (mean over the cell's centre). The
    // centre is flat in every 2×2 chroma block, so subsampling adds nothing; what remains is the 8-bit
    // limited-range round trip (±1) and CRF 18's quantisation of a flat block (measured here: at most 1.04
    // in all). Decoding with the wrong matrix (BT.601 for 709) moves these colours by 10 or more.
    for (int row : {0, 3, 9})
        for (int col : {0, 7, 19}) {
            const QColor want = GrowingGridSource::colourAt(row, col);
            const test::MeanColour got = test::meanColour(video.frames[9], cellCentre(source, row, col));
            const double worst = std::max({std::abs(got.r - want.red()), std::abs(got.g - want.green()),
                                           std::abs(got.b - want.blue())});
            QVERIFY2(worst <= 3.0, qPrintable(QStringLiteral("cell (%1,%2): want %3 got (%4,%5,%6)")
                                                  .arg(row)
                                                  .arg(col)
                                                  .arg(want.name())
                                                  .arg(got.r)
                                                  .arg(got.g)
                                                  .arg(got.b)));
        }
    // Frame k adds row k: it differs from frame k-1 there (by the cell colours against the background),
    // and not above it (only coding noise).
    for (int k = 1; k < 10; ++k) {
        const double grown =
            test::difference(video.frames[size_t(k)], video.frames[size_t(k - 1)], rowBand(source, k)).mean;
        QVERIFY2(grown > 40.0,
                 qPrintable(QStringLiteral("frame %1: row %1 changed by %2 only").arg(k).arg(grown)));
        for (int row = 0; row < k; ++row) {
            const double same = test::difference(video.frames[size_t(k)], video.frames[size_t(k - 1)],
                                                 rowBand(source, row).adjusted(0, 4, 0, -4))
                                    .mean;
            QVERIFY2(same < 2.0,
                     qPrintable(
                         QStringLiteral("frame %1: unchanged row %2 moved by %3").arg(k).arg(row).arg(same)));
        }
    }
}

void TestExportVideo::gifRoundTrip() {
    QTemporaryDir dir;
    GrowingGridSource source(QSize(320, 240));
    ExportControl control;
    const QString path = dir.filePath(QStringLiteral("clip.gif"));
    const ExportResult result = exportFrames(source, request(ExportFormat::gif, path, 10), control);
    QVERIFY2(result.ok(), qPrintable(result.error));
    QCOMPARE(source.renders(), 10);  // the clip fits the frame cache: drawn once, used by both passes

    const test::DecodedVideo video = test::decodeVideo(path);
    QVERIFY2(video.error.isEmpty(), qPrintable(video.error));
    QCOMPARE(video.codec, QStringLiteral("gif"));
    QCOMPARE(int(video.frames.size()), 10);
    QCOMPARE(video.width, 320);
    QCOMPARE(video.height, 240);
    for (double d : video.durations)
        QCOMPARE(d, 0.1);  // 10 fps: 10 hundredths each
    // Loops forever: a NETSCAPE2.0 application extension with loop count 0.
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    const qsizetype ext = bytes.indexOf("NETSCAPE2.0");
    QVERIFY2(ext > 0, "no NETSCAPE2.0 loop extension");
    QCOMPARE(bytes.mid(ext + 11, 5), QByteArray("\x03\x01\x00\x00\x00", 5));

    // 201 colours in the clip: the palette holds each exactly, and the Bayer offsets (at most ±4) never
    // reach a neighbour (11 or more away in some channel), so known cells decode exactly.
    for (int row : {0, 3, 9})
        for (int col : {0, 7, 19}) {
            const QColor want = GrowingGridSource::colourAt(row, col);
            const QRect centre = cellCentre(source, row, col);
            const QImage& frame = video.frames[9];
            for (int y = centre.top(); y <= centre.bottom(); ++y)
                for (int x = centre.left(); x <= centre.right(); ++x)
                    QCOMPARE(QColor(frame.pixel(x, y)).name(), want.name());
        }
    for (int k = 1; k < 10; ++k) {
        QVERIFY(
            test::difference(video.frames[size_t(k)], video.frames[size_t(k - 1)], rowBand(source, k)).mean >
            40.0);
        for (int row = 0; row < k; ++row)
            QCOMPARE(
                test::difference(video.frames[size_t(k)], video.frames[size_t(k - 1)], rowBand(source, row))
                    .largest,
                0);
    }
}

// With no frame cache the GIF encoder draws every frame twice (palette pass, mapping pass) and the result
// is the same: sources are deterministic.
void TestExportVideo::gifKeepsFewColoursExactlyWithoutCache() {
    QTemporaryDir dir;
    GrowingGridSource source(QSize(160, 120));
    ExportControl control;
    ExportRequest r = request(ExportFormat::gif, dir.filePath(QStringLiteral("nocache.gif")), 25);
    r.video.gifFrameCacheBytes = 0;
    const ExportResult result = exportFrames(source, r, control);
    QVERIFY2(result.ok(), qPrintable(result.error));
    QCOMPARE(source.renders(), 20);
    const test::DecodedVideo video = test::decodeVideo(r.outPath);
    QCOMPARE(int(video.frames.size()), 10);
    // 25 fps is 4 hundredths a frame.
    for (double d : video.durations)
        QCOMPARE(d, 0.04);
    const QRect centre = cellCentre(source, 5, 5);
    QCOMPARE(QColor(video.frames[9].pixel(centre.center())).name(), GrowingGridSource::colourAt(5, 5).name());
}

namespace {
// One frame of three colour ramps, 1024 shades each, as the views put side by side: a sequential map
// (attention, dark blue → yellow), a diverging one (K/V values, blue → white → red) and a grey one (UI,
// text anti-aliasing). 3072 shades in all: the GIF palette has 256, so each ramp gets steps of several
// levels, which plain nearest-colour mapping shows as bands.
class RampSource : public FrameSource {
  public:
    int frameCount() const override { return 1; }
    QSize frameSize() const override { return QSize(1024, 96); }
    Result<QImage> renderFrame(int) override {
        QImage image(frameSize(), QImage::Format_RGBX8888);
        for (int y = 0; y < 96; ++y)
            for (int x = 0; x < 1024; ++x)
                image.setPixelColor(x, y, shade(y / 32, x / 1023.0));
        return image;
    }
    static QColor shade(int ramp, double t) {
        switch (ramp) {
            case 0:
                return QColor::fromRgbF(float(0.27 + 0.7 * t * t), float(0.9 * t),
                                        float(0.33 + 0.3 * std::sin(3.0 * t)));
            case 1:
                return t < 0.5 ? QColor::fromRgbF(float(0.2 + 1.6 * t * 0.8), float(0.3 + 1.4 * t),
                                                  float(0.8 + 0.4 * t))
                               : QColor::fromRgbF(1.0f, float(1.0 - 1.6 * (t - 0.5)),
                                                  float(1.0 - 1.8 * (t - 0.5)));
            default:
                return QColor::fromRgbF(float(t), float(t), float(t));
        }
    }
};

// Along one ramp (rows [top, top + 24)), 8-pixel-wide tiles: the mean error of the tiles' average colours,
// and the largest step between neighbouring tiles beyond the source's own step (a band edge).
struct Banding {
    double meanError = 0, worstExtraStep = 0;
};
Banding banding(const QImage& decoded, const QImage& reference, int top) {
    Banding b;
    double previous[2][3] = {};
    int n = 0;
    for (int x = 0; x < reference.width(); x += 8) {
        const QRect tile(x, top, 8, 24);
        const test::MeanColour g = test::meanColour(decoded, tile), w = test::meanColour(reference, tile);
        const double got[3] = {g.r, g.g, g.b}, want[3] = {w.r, w.g, w.b};
        for (int c = 0; c < 3; ++c) {
            b.meanError += std::abs(got[c] - want[c]);
            ++n;
            if (x > 0)
                b.worstExtraStep = std::max(b.worstExtraStep,
                                            std::abs((got[c] - previous[0][c]) - (want[c] - previous[1][c])));
            previous[0][c] = got[c];
            previous[1][c] = want[c];
        }
    }
    b.meanError /= n;
    return b;
}
}  // namespace

// More shades than a GIF palette holds: the ordered dither turns each palette step into a fine pattern
// whose average follows the ramp, so neighbouring 8-pixel tiles never jump by more than 1.5 levels beyond
// the source's own change. Measured here: 1.1 with dither=bayer:bayer_scale=3; plain nearest-colour
// mapping (dither=none) jumps by 4.3 (visible bands), error diffusion (sierra2_4a) by 2.0, a coarser
// Bayer pattern (bayer_scale=1) by 2.7.
void TestExportVideo::gifDithersSmoothRampsWithoutBanding() {
    QTemporaryDir dir;
    RampSource source;
    ExportControl control;
    const QString path = dir.filePath(QStringLiteral("ramp.gif"));
    const ExportResult result = exportFrames(source, request(ExportFormat::gif, path, 10), control);
    QVERIFY2(result.ok(), qPrintable(result.error));
    const test::DecodedVideo video = test::decodeVideo(path);
    QCOMPARE(int(video.frames.size()), 1);
    const QImage reference = *source.renderFrame(0);
    for (int ramp = 0; ramp < 3; ++ramp) {
        const Banding b = banding(video.frames[0], reference, ramp * 32 + 4);
        QVERIFY2(b.worstExtraStep <= 1.5 && b.meanError <= 1.0,
                 qPrintable(QStringLiteral("ramp %1: steps of %2 between neighbouring tiles, mean error %3")
                                .arg(ramp)
                                .arg(b.worstExtraStep)
                                .arg(b.meanError)));
    }
}

QTEST_MAIN(TestExportVideo)
#include "test_export_video.moc"
