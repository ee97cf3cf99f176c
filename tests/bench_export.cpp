// bench_export — how fast the export encodes: N frames at W×H drawn by a synthetic source that looks like
// the app's layout (two growing lower-triangular heatmaps in a smooth colour map, two K/V blocks gaining a
// row a step, labels), encoded as MP4 (or GIF). Prints the time to draw the frames alone and the time to
// draw and encode them; the difference is the encoder's. A benchmark, not a test: ctest does not run it.
//
//   build/tests/bench_export [--frames 64] [--size 1920x1080] [--format mp4|gif] [--threads 0] [--keep
//   out.mp4]
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QGuiApplication>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QPainter>
#include <QTemporaryDir>
#include <cmath>
#include <cstdio>

#include "export/exporter.h"
#include "gl/offscreen_renderer.h"

using namespace kvscope;
using namespace kvscope::app;

namespace {

QColor colourMap(double t) {  // a viridis-like ramp: dark blue → teal → yellow
    t = std::clamp(t, 0.0, 1.0);
    return QColor::fromRgbF(float(0.27 + 0.72 * t * t), float(0.0 + 0.9 * t),
                            float(0.33 + 0.25 * std::sin(3.1 * t)));
}

class LayoutLikeSource : public FrameSource {
  public:
    LayoutLikeSource(QSize size, int frames) : m_size(size), m_frames(frames) {}
    int frameCount() const override { return m_frames; }
    QSize frameSize() const override { return m_size; }
    Result<QImage> renderFrame(int index) override {
        QImage image(m_size, QImage::Format_RGBX8888);
        image.fill(QColor(250, 250, 247));
        QPainter p(&image);
        const int n = m_frames, rows = index + 1;
        const double half = m_size.width() / 2.0;
        for (int side = 0; side < 2; ++side) {
            const QRectF heat(side * half + 40, 120, half * 0.5, half * 0.5);
            const double cell = heat.width() / n;
            for (int r = 0; r < rows; ++r)
                for (int c = 0; c <= r; ++c) {
                    const double w = std::exp(-0.15 * (r - c)) * (0.5 + 0.5 * std::sin(0.7 * c + side));
                    p.fillRect(QRectF(heat.left() + c * cell, heat.top() + r * cell, cell, cell),
                               colourMap(w));
                }
            const QRectF kv(side * half + 60 + half * 0.5, 120, half * 0.35, half * 0.5);
            const double kvRow = kv.height() / n, kvCol = kv.width() / 32;
            for (int r = 0; r < (side == 0 ? rows : rows); ++r)
                for (int d = 0; d < 32; ++d)
                    p.fillRect(QRectF(kv.left() + d * kvCol, kv.top() + r * kvRow, kvCol, kvRow),
                               colourMap(0.5 + 0.5 * std::sin(0.37 * r * (d + 1) + side)));
            p.setPen(QColor(30, 30, 30));
            p.setFont(QFont(QStringLiteral("DejaVu Sans"), 18));
            p.drawText(QPointF(side * half + 40, 80),
                       side == 0 ? QStringLiteral("with KV cache, step %1").arg(index)
                                 : QStringLiteral("without KV cache, step %1").arg(index));
        }
        return image;
    }

  private:
    QSize m_size;
    int m_frames;
};

int benchReadback(QSize size, int frames, int samples) {
    OffscreenRenderer target;
    if (Status s = target.create(size, samples); !s) {
        std::fprintf(stderr, "bench_export: %s\n", s.message().c_str());
        return 1;
    }
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < frames; ++i) {
        (void)target.begin();
        target.context()->functions()->glClearColor(float(i) / frames, 0.5f, 0.2f, 1.0f);
        target.context()->functions()->glClear(GL_COLOR_BUFFER_BIT);
        if (Result<QImage> image = target.grab(); !image) {
            std::fprintf(stderr, "bench_export: %s\n", image.message().c_str());
            return 1;
        }
    }
    const double seconds = clock.nsecsElapsed() * 1e-9;
    std::printf("%d frames %dx%d: clear + resolve + readback %.2f s (%.1f ms a frame) on %s\n", frames,
                size.width(), size.height(), seconds, 1e3 * seconds / frames,
                qPrintable(target.description()));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    QGuiApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOption({QStringLiteral("frames"), QStringLiteral("frames to encode"), QStringLiteral("n"),
                      QStringLiteral("64")});
    parser.addOption(
        {QStringLiteral("size"), QStringLiteral("WxH"), QStringLiteral("size"), QStringLiteral("1920x1080")});
    parser.addOption({QStringLiteral("format"), QStringLiteral("mp4 or gif"), QStringLiteral("format"),
                      QStringLiteral("mp4")});
    parser.addOption({QStringLiteral("threads"), QStringLiteral("encoder threads (0: FFmpeg decides)"),
                      QStringLiteral("n"), QStringLiteral("0")});
    parser.addOption(
        {QStringLiteral("keep"), QStringLiteral("write the result here"), QStringLiteral("path")});
    parser.addOption({QStringLiteral("samples"), QStringLiteral("--gl-readback: samples per pixel"),
                      QStringLiteral("n"), QStringLiteral("4")});
    parser.addOption({QStringLiteral("gl-readback"),
                      QStringLiteral("time the offscreen renderer's clear + resolve + readback")});
    parser.process(app);
    const QStringList wh = parser.value(QStringLiteral("size")).split(QLatin1Char('x'));
    const QSize size(wh.value(0).toInt(), wh.value(1).toInt());
    const int frames = parser.value(QStringLiteral("frames")).toInt();
    if (parser.isSet(QStringLiteral("gl-readback")))
        return benchReadback(size, frames, parser.value(QStringLiteral("samples")).toInt());
    Result<ExportFormat> format = parseFormat(parser.value(QStringLiteral("format")));
    if (!format) {
        std::fprintf(stderr, "bench_export: %s\n", format.message().c_str());
        return 1;
    }
    LayoutLikeSource source(size, frames);

    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < frames; ++i)
        (void)source.renderFrame(i);
    const double drawSeconds = clock.nsecsElapsed() * 1e-9;

    QTemporaryDir dir;
    ExportRequest request;
    request.format = *format;
    request.outPath = parser.isSet(QStringLiteral("keep"))
                          ? parser.value(QStringLiteral("keep"))
                          : dir.filePath(QStringLiteral("bench.") + formatSuffix(*format));
    request.replaceExisting = true;
    request.video.fps = 30;
    request.video.threads = parser.value(QStringLiteral("threads")).toInt();
    ExportControl control;
    clock.restart();
    const ExportResult result = exportFrames(source, request, control);
    const double totalSeconds = clock.nsecsElapsed() * 1e-9;
    if (!result.ok()) {
        std::fprintf(stderr, "bench_export: %s\n", qPrintable(result.error));
        return 1;
    }
    std::printf(
        "%d frames %dx%d %s: draw only %.2f s, draw+encode %.2f s, encoder %.2f s (%.1f frames/s), %lld "
        "bytes\n",
        frames, size.width(), size.height(), qPrintable(formatName(*format)), drawSeconds, totalSeconds,
        totalSeconds - drawSeconds, frames / std::max(1e-9, totalSeconds - drawSeconds),
        (long long)result.bytes);
    return 0;
}
