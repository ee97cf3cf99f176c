// test_export_offscreen_gl — the offscreen renderer export draws with (app/gl/offscreen_renderer.h), as
// plain OpenGL sees it: a 3.3 core context with no window, a framebuffer at any size (multisampled and
// resolved when asked) read back top row first and opaque, frames drawn on the GUI thread and encoded on
// a worker, and a clear "no OpenGL available" error where the platform has none. Runs under its own Xvfb.
#include <QGuiApplication>
#include <QOpenGLBuffer>
#include <QOpenGLExtraFunctions>
#include <QOpenGLShaderProgram>
#include <QOpenGLVertexArrayObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <cstdio>

#include "export/export_io.h"
#include "export/exporter.h"
#include "export/forwarded_frames.h"
#include "gl/offscreen_renderer.h"
#include "support/synthetic_frames.h"
#include "support/video_decode.h"

using namespace kvscope;
using namespace kvscope::app;

namespace {

// Clears to blue with alpha 0, paints the top-left quadrant red (a scissored clear, in GL's bottom-up
// coordinates: y from h/2 up), and draws a green triangle over the lower-right half, its hypotenuse the
// diagonal from the top-left corner to the bottom-right one.
void drawTestScene(OffscreenRenderer& target) {
    QOpenGLExtraFunctions* gl = target.context()->extraFunctions();
    const int w = target.size().width(), h = target.size().height();
    gl->glClearColor(0, 0, 1, 0);
    gl->glClear(GL_COLOR_BUFFER_BIT);
    gl->glEnable(GL_SCISSOR_TEST);
    gl->glScissor(0, h / 2, w / 2, h / 2);
    gl->glClearColor(1, 0, 0, 1);
    gl->glClear(GL_COLOR_BUFFER_BIT);
    gl->glDisable(GL_SCISSOR_TEST);

    QOpenGLShaderProgram program;
    QVERIFY(program.addShaderFromSourceCode(QOpenGLShader::Vertex,
                                            "#version 330 core\nlayout(location = 0) in vec2 p;\n"
                                            "void main() { gl_Position = vec4(p, 0.0, 1.0); }\n"));
    QVERIFY(program.addShaderFromSourceCode(QOpenGLShader::Fragment,
                                            "#version 330 core\nout vec4 colour;\n"
                                            "void main() { colour = vec4(0.0, 1.0, 0.0, 1.0); }\n"));
    QVERIFY2(program.link(), qPrintable(program.log()));
    QOpenGLVertexArrayObject vao;  // a core profile draws nothing without one
    QVERIFY(vao.create());
    vao.bind();
    const float triangle[] = {-1.f, 1.f, 1.f, -1.f, -1.f, -1.f};  // top-left, bottom-right, bottom-left
    QOpenGLBuffer buffer(QOpenGLBuffer::VertexBuffer);
    QVERIFY(buffer.create());
    buffer.bind();
    buffer.allocate(triangle, sizeof triangle);
    program.bind();
    gl->glEnableVertexAttribArray(0);
    gl->glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, nullptr);
    gl->glDrawArrays(GL_TRIANGLES, 0, 3);
    program.release();
    vao.release();
    QCOMPARE(gl->glGetError(), GLenum(GL_NO_ERROR));
}

// Pixels whose green is neither 0 nor 255: the blend of covered and uncovered samples along an edge.
int partlyCoveredPixels(const QImage& image) {
    int n = 0;
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x) {
            const int g = qGreen(image.pixel(x, y));
            n += g > 0 && g < 255;
        }
    return n;
}

// The synthetic growing grid (support/synthetic_frames.h), drawn with OpenGL into the offscreen target:
// a FrameSource as the app's view renderers will be, one frame = begin, draw, grab.
class GlGridSource : public FrameSource {
  public:
    GlGridSource(OffscreenRenderer& target) : m_target(target), m_layout(target.size()) {}
    int frameCount() const override { return test::GrowingGridSource::kRows; }
    QSize frameSize() const override { return m_target.size(); }
    Result<QImage> renderFrame(int index) override {
        KVSCOPE_TRY(m_target.begin());
        QOpenGLFunctions* gl = m_target.context()->functions();
        fill(gl, QRect(QPoint(0, 0), m_target.size()), test::GrowingGridSource::background());
        gl->glEnable(GL_SCISSOR_TEST);
        for (int r = 0; r <= index && r < test::GrowingGridSource::kRows; ++r)
            for (int c = 0; c < test::GrowingGridSource::kCols; ++c)
                fill(gl, m_layout.cellRect(r, c), test::GrowingGridSource::colourAt(r, c));
        gl->glDisable(GL_SCISSOR_TEST);
        return m_target.grab();
    }

  private:
    // Fills a rectangle given top-down (image coordinates) in GL's bottom-up framebuffer.
    void fill(QOpenGLFunctions* gl, const QRect& r, const QColor& colour) {
        gl->glScissor(r.left(), m_target.size().height() - 1 - r.bottom(), r.width(), r.height());
        gl->glClearColor(colour.redF(), colour.greenF(), colour.blueF(), 1.0f);
        gl->glClear(GL_COLOR_BUFFER_BIT);
    }
    OffscreenRenderer& m_target;
    test::GrowingGridSource m_layout;  // for its cell geometry and colours
};

}  // namespace

class TestExportOffscreenGl : public QObject {
    Q_OBJECT
  private slots:
    void drawsResolvesAndFlips();
    void withoutMultisamplingEdgesAreHard();
    void exportSizes();
    void exportsGlFramesFromAWorkerThread();
    void noOpenGlIsAClearError();
};

void TestExportOffscreenGl::drawsResolvesAndFlips() {
    OffscreenRenderer target;
    const Status created = target.create(QSize(96, 64), 4);
    QVERIFY2(created, created.message().c_str());
    qInfo("%s", qPrintable(target.description()));
    QVERIFY2(target.isCoreProfile(), qPrintable(target.description()));
    QVERIFY(target.samples() >= 2);
    drawTestScene(target);
    Result<QImage> grabbed = target.grab();
    QVERIFY2(grabbed, grabbed.message().c_str());
    const QImage& image = *grabbed;
    QCOMPARE(image.size(), QSize(96, 64));
    QCOMPARE(image.format(), QImage::Format_RGBX8888);
    // Top row first: the red quadrant is at the top left, the triangle at the bottom right.
    QCOMPARE(image.pixel(40, 3), qRgb(255, 0, 0));
    QCOMPARE(image.pixel(60, 3), qRgb(0, 0, 255));
    QCOMPARE(image.pixel(40, 60), qRgb(0, 255, 0));
    QCOMPARE(image.pixel(3, 60), qRgb(0, 255, 0));
    // Opaque although the clear colour had alpha 0.
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x)
            QCOMPARE(qAlpha(image.pixel(x, y)), 255);
    // The diagonal edge is antialiased: the multisampled framebuffer was resolved, not just copied.
    QVERIFY2(partlyCoveredPixels(image) >= 48, qPrintable(QString::number(partlyCoveredPixels(image))));
    // A second frame in the same target starts from what the renderer draws, not from the last frame.
    QVERIFY(target.begin());
    target.context()->functions()->glClearColor(1, 1, 1, 1);
    target.context()->functions()->glClear(GL_COLOR_BUFFER_BIT);
    QCOMPARE(target.grab()->pixel(40, 60), qRgb(255, 255, 255));
    target.end();
}

void TestExportOffscreenGl::withoutMultisamplingEdgesAreHard() {
    OffscreenRenderer target;
    QVERIFY(target.create(QSize(96, 64), 0));
    QCOMPARE(target.samples(), 0);
    drawTestScene(target);
    QCOMPARE(partlyCoveredPixels(*target.grab()), 0);
}

void TestExportOffscreenGl::exportSizes() {
    for (QSize size : {QSize(1920, 1080), QSize(1080, 1080), QSize(1, 1)}) {
        OffscreenRenderer target;
        const Status s = target.create(size);
        QVERIFY2(s, s.message().c_str());
        QCOMPARE(target.grab()->size(), size);
    }
    OffscreenRenderer tooBig;
    QCOMPARE(QString::fromStdString(tooBig.create(QSize(8193, 10)).message()),
             QStringLiteral("export size 8193×10: each side must be 1 to 8192 pixels"));
}

// The path every export takes: frames drawn with OpenGL on the GUI thread (where Dear ImGui's one
// context lives), encoded and written on a worker thread that asks for them through ForwardedFrames while
// the GUI thread's event loop runs. The MP4 and the PNG frames read back show the GL-drawn grid: frame
// count, size, and a known cell's colour (exact in the PNGs; within 3 in the MP4, as in
// test_export_video). Also: a cancel while the worker waits for a frame, and the drawing side going away.
void TestExportOffscreenGl::exportsGlFramesFromAWorkerThread() {
    OffscreenRenderer target;
    QVERIFY(target.create(QSize(320, 240)));
    GlGridSource source(target);
    QTemporaryDir dir;
    QObject owner;  // frames are drawn in its thread's event loop: this one
    std::atomic<bool> cancel{false};
    ForwardedFrames forwarded(source, &owner, &cancel);
    ExportResult mp4, png;
    std::atomic<bool> done{false};
    std::unique_ptr<QThread> worker(QThread::create([&] {
        ExportControl control(&cancel, {});
        ExportRequest r;
        r.format = ExportFormat::mp4;
        r.outPath = dir.filePath(QStringLiteral("gl.mp4"));
        r.video.fps = 10;
        r.video.threads = 1;
        mp4 = exportFrames(forwarded, r, control);
        r.format = ExportFormat::pngFrames;
        r.outPath = dir.filePath(QStringLiteral("frames"));
        png = exportFrames(forwarded, r, control);
        done = true;
    }));
    worker->start();
    QTRY_VERIFY_WITH_TIMEOUT(done.load(), 120000);  // QTRY runs this thread's event loop: it draws
    QVERIFY(worker->wait(10000));
    QVERIFY2(mp4.ok(), qPrintable(mp4.error));
    QVERIFY2(png.ok(), qPrintable(png.error));

    const test::GrowingGridSource layout(QSize(320, 240));
    const QRect cell = layout.cellRect(6, 11);
    const QColor want = test::GrowingGridSource::colourAt(6, 11);
    const QImage frame9(dir.filePath(QStringLiteral("frames/frame_0009.png")));
    QCOMPARE(frame9.size(), QSize(320, 240));
    QCOMPARE(QColor(frame9.pixel(cell.center())), want);
    QCOMPARE(QColor(QImage(dir.filePath(QStringLiteral("frames/frame_0005.png"))).pixel(cell.center())),
             test::GrowingGridSource::background());

    const test::DecodedVideo video = test::decodeVideo(dir.filePath(QStringLiteral("gl.mp4")));
    QVERIFY2(video.error.isEmpty(), qPrintable(video.error));
    QCOMPARE(int(video.frames.size()), 10);
    QCOMPARE(QSize(video.width, video.height), QSize(320, 240));
    const test::MeanColour got =
        test::meanColour(video.frames[9], QRect(cell.center() - QPoint(3, 3), QSize(7, 7)));
    QVERIFY(std::abs(got.r - want.red()) <= 3 && std::abs(got.g - want.green()) <= 3 &&
            std::abs(got.b - want.blue()) <= 3);

    // No event loop runs here while the worker waits: a cancel must still wake it, and a detached
    // drawing side answers with an error rather than leaving it waiting.
    {
        std::atomic<bool> stop{false};
        ForwardedFrames waiting(source, &owner, &stop);
        Result<QImage> got1 = exportFailure(QStringLiteral("not asked"));
        std::unique_ptr<QThread> t(QThread::create([&] { got1 = waiting.renderFrame(0); }));
        t->start();
        QThread::msleep(100);
        stop = true;
        QVERIFY(t->wait(5000));
        QVERIFY(!got1);
        QVERIFY2(QString::fromStdString(got1.message()).contains(QStringLiteral("cancelled")),
                 got1.message().c_str());
    }
    {
        ForwardedFrames detached(source, &owner, nullptr);
        Result<QImage> got2 = exportFailure(QStringLiteral("not asked"));
        std::unique_ptr<QThread> t(QThread::create([&] { got2 = detached.renderFrame(1); }));
        t->start();
        QThread::msleep(100);
        detached.detach();
        QVERIFY(t->wait(5000));
        QCOMPARE(QString::fromStdString(got2.message()), QStringLiteral("the export was stopped"));
    }
}

// Qt's "minimal" platform makes no OpenGL contexts: run this test binary there as a child.
void TestExportOffscreenGl::noOpenGlIsAClearError() {
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("minimal"));
    child.setProcessEnvironment(env);
    child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--create-target")});
    QVERIFY(child.waitForFinished(60000));
    const QString err = QString::fromUtf8(child.readAllStandardError());
    QCOMPARE(child.exitCode(), 3);
    QVERIFY2(err.contains(QStringLiteral(
                 "no OpenGL available: cannot create an OpenGL 3.3 context (Qt platform 'minimal')")),
             qPrintable(err));
}

int main(int argc, char** argv) {
    QGuiApplication app(argc, argv);
    if (argc > 1 && qstrcmp(argv[1], "--create-target") == 0) {
        OffscreenRenderer target;
        const Status s = target.create(QSize(64, 64));
        std::fprintf(stderr, "%s\n", s.message().c_str());
        return s ? 0 : 3;
    }
    TestExportOffscreenGl test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "test_export_offscreen_gl.moc"
