// The KVScope window, driven as a user would, checked against the traces the engine produced: the KV
// view's textures hold the trace's K/V rows, the attention view's texture the trace's probabilities,
// the counters shown are the trace's counters, scrubbing back and stepping again gives the same tokens,
// lockstep reports a logit difference <= 1e-4 at every step, and bad input gets a clear dialog. Also the
// offscreen renderer (what export draws through) and shader errors naming the file and line.
// Needs OpenGL 3.3: CTest runs it under xvfb-run (Mesa's llvmpipe renders without a GPU).
#include <QLineEdit>
#include <QMessageBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "engine_worker.h"
#include "gl/offscreen_renderer.h"
#include "main_window.h"
#include "pane_widget.h"
#include "support/fixtures.h"
#include "views/attention_renderer.h"
#include "views/counters_renderer.h"
#include "views/gl_view.h"
#include "views/kv_cache_renderer.h"
#include "views/layout_renderer.h"

using namespace kvscope;
using namespace kvscope::app;
using namespace kvscope::test;

namespace {

constexpr int kPresses = 12;  // Step presses: the prefill and 11 decode steps

QString idsText(const std::vector<int32_t>& ids) {
    QStringList items;
    for (int32_t id : ids)
        items << QString::number(id);
    return items.join(QStringLiteral(", "));
}

// The K (or V) rows of one layer as the view's texture lays them out: [position][kv_head · head_dim].
std::vector<float> expectedKvRows(const TraceStore& store, Side side, int layer, bool key, int positions) {
    const ModelConfig& c = store.model().config();
    const int kvDim = c.kv_dim(), hd = c.head_dim;
    std::vector<float> rows(size_t(positions) * kvDim, NAN);
    for (int i = 0; i < store.stepCount(side); ++i) {
        const LayerKV& lk = store.trace(side, i)->kv[size_t(layer)];
        for (int h = 0; h < c.n_kv_heads; ++h)
            for (int r = 0; r < lk.n_rows && lk.row_begin + r < positions; ++r)
                for (int d = 0; d < hd; ++d)
                    rows[size_t(lk.row_begin + r) * kvDim + size_t(h) * hd + d] =
                        (key ? lk.k : lk.v)[(size_t(h) * lk.n_rows + r) * hd + d];
    }
    return rows;
}

int countErrorBoxesContaining(const QString& text) {
    int n = 0;
    for (QWidget* w : QApplication::topLevelWidgets())
        if (auto* box = qobject_cast<QMessageBox*>(w); box && box->isVisible() && box->text().contains(text))
            ++n;
    return n;
}

void closeErrorBoxes() {
    for (QWidget* w : QApplication::topLevelWidgets())
        if (auto* box = qobject_cast<QMessageBox*>(w)) box->close();
}

}  // namespace

class AppGuiTest : public QObject {
    Q_OBJECT
    std::unique_ptr<MainWindow> m_window;
    Reference m_ref;

    // Press Step `presses` times and wait for every answer.
    void pressStep(int presses) {
        QSignalSpy arrived(m_window.get(), &MainWindow::stepArrived);
        for (int i = 0; i < presses; ++i) {
            const int before = arrived.count();
            m_window->step();
            QTRY_VERIFY_WITH_TIMEOUT(arrived.count() > before, 20000);
        }
    }
    // Draws every view now (textures follow the store when a view paints).
    void paintAll() {
        for (GlView* v : m_window->glViews())
            v->renderNow();
    }

  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
        auto ref = load_reference(model_fixture_path(QStringLiteral("tiny-llama-gqa")));
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        m_ref = ref.value();
        MainWindow::Options options;
        options.openDefaultModel = false;
        options.useSettings = false;
        m_window = std::make_unique<MainWindow>(options);
        m_window->resize(1600, 1000);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        for (GlView* v : m_window->glViews())
            QVERIFY2(v->glError().isEmpty(), qPrintable(v->glError()));
        QSignalSpy ready(m_window.get(), &MainWindow::modelReady);
        m_window->openModel(QString::fromStdString(model_fixture_path(QStringLiteral("tiny-llama-gqa"))));
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 20000);
        m_window->setPrompt(idsText(m_ref.input_ids));
        pressStep(kPresses);
        QCOMPARE(m_window->store().stepCount(Side::cached), kPresses);
        QCOMPARE(m_window->store().stepCount(Side::uncached), kPresses);
        paintAll();
    }
    void cleanupTestCase() { m_window.reset(); }

    void tokensFollowTheReference() {
        const TraceStore& store = m_window->store();
        for (int i = 0; i < kPresses; ++i)
            QCOMPARE(store.trace(Side::cached, i)->chosen, m_ref.generated[size_t(i)]);
    }

    void kvTexturesHoldTheTracesRows() {
        const TraceStore& store = m_window->store();
        const ModelConfig& c = store.model().config();
        for (Side side : kSides) {
            GlView* view = m_window->pane(side)->kvCacheView();
            auto* kv = dynamic_cast<KvCacheRenderer*>(view->renderer());
            QVERIFY(kv);
            QCOMPARE(kv->uploadedSteps(), kPresses);
            const int positions = store.trace(side, kPresses - 1)->pos_end;
            for (int layer = 0; layer < c.n_layers; ++layer)
                for (bool key : {true, false}) {
                    std::vector<float> texture;
                    view->withContext(
                        [&](GlResources& gl) { texture = kv->textureRows(gl, layer, key, 0, positions); });
                    const std::vector<float> expected = expectedKvRows(store, side, layer, key, positions);
                    QCOMPARE(texture.size(), expected.size());
                    for (size_t i = 0; i < expected.size(); ++i)
                        if (texture[i] != expected[i])
                            QFAIL(qPrintable(
                                QStringLiteral("%1, layer %2 %3: texel %4 is %5, the trace says %6")
                                    .arg(sideTitle(side))
                                    .arg(layer)
                                    .arg(key ? "K" : "V")
                                    .arg(i)
                                    .arg(double(texture[i]))
                                    .arg(double(expected[i]))));
                }
        }
        // The cache after the prompt is the reference's (Hugging Face's) cache, to float rounding.
        const int T = int(m_ref.input_ids.size());
        const int hd = c.head_dim;
        for (int layer = 0; layer < c.n_layers; ++layer) {
            const std::vector<float> k = expectedKvRows(store, Side::cached, layer, true, T);
            const FloatArray& refK = m_ref.cache_key[size_t(layer)];
            for (int h = 0; h < c.n_kv_heads; ++h)
                for (int t = 0; t < T; ++t)
                    for (int d = 0; d < hd; ++d)
                        QVERIFY(std::fabs(k[size_t(t) * c.kv_dim() + size_t(h) * hd + d] -
                                          refK.values[(size_t(h) * T + t) * hd + d]) < 1e-4f);
        }
    }

    void attentionTextureHoldsTheTracesProbabilities() {
        TraceStore& store = m_window->store();
        const ModelConfig& c = store.model().config();
        for (int layer = 0; layer < c.n_layers; ++layer) {
            store.selectLayer(layer);
            paintAll();
            for (Side side : kSides) {
                GlView* view = m_window->pane(side)->attentionView();
                auto* att = dynamic_cast<AttentionRenderer*>(view->renderer());
                QVERIFY(att);
                QCOMPARE(att->uploadedLayer(), layer);
                const int n = store.trace(side, kPresses - 1)->pos_end;
                for (int head = 0; head < c.n_heads; ++head) {
                    std::vector<float> texture;
                    view->withContext([&](GlResources& gl) { texture = att->textureRows(gl, head, n); });
                    QCOMPARE(int(texture.size()), n * n);
                    for (int q = 0; q < n; ++q)
                        for (int k = 0; k <= q; ++k) {
                            float w = -1;
                            QVERIFY(AttentionRenderer::weightAt(store, side, kPresses - 1, layer, head, q, k,
                                                                &w));
                            QCOMPARE(texture[size_t(q) * n + k], w);  // what hover shows is what is drawn
                        }
                    // The prompt rows are the reference's attention (Hugging Face, eager) to the history's
                    // half precision (relative 2⁻¹¹) plus the engine's float rounding.
                    const FloatArray& ref = m_ref.attention[size_t(layer)];
                    const int T = int(m_ref.input_ids.size());
                    for (int q = 0; q < T; ++q)
                        for (int k = 0; k <= q; ++k) {
                            const float want = ref.values[(size_t(head) * T + q) * T + k];
                            QVERIFY(std::fabs(texture[size_t(q) * n + k] - want) <=
                                    std::fabs(want) / 2048.0f + 1e-5f);
                        }
                }
            }
        }
        store.selectLayer(0);
    }

    void countersShownAreTheTracesCounters() {
        const TraceStore& store = m_window->store();
        for (Side side : kSides)
            for (int i = 0; i < kPresses; ++i) {
                const StepTrace& t = *store.trace(side, i);
                const std::vector<CounterRow> rows = counterRows(t, i + 1);
                auto row = [&](const QString& label) {
                    for (const CounterRow& r : rows)
                        if (r.label == label) return r;
                    return CounterRow{};
                };
                QCOMPARE(row(QStringLiteral("FLOPs")).step, double(t.counters.flops()));
                QCOMPARE(row(QStringLiteral("FLOPs")).total, double(t.cumulative.flops()));
                QCOMPARE(row(QStringLiteral("wall time")).step, t.counters.wall_seconds);
                QCOMPARE(row(QStringLiteral("weights read")).step, double(t.counters.total().weight_bytes));
                QCOMPARE(row(QStringLiteral("KV read")).total, double(t.cumulative.total().kv_read));
                QCOMPARE(row(QStringLiteral("KV written")).step, double(t.counters.total().kv_written));
                QCOMPARE(row(QStringLiteral("KV resident")).step, double(t.counters.kv_bytes_resident));
                QCOMPARE(row(QStringLiteral("recomputed tokens")).step, double(t.counters.tokens_recomputed));
                QCOMPARE(row(QStringLiteral("tokens processed")).total,
                         double(t.cumulative.tokens_processed));
                QCOMPARE(row(QStringLiteral("new tokens / s")).step, 1.0 / t.counters.wall_seconds);
                QCOMPARE(row(QStringLiteral("processed / s")).step,
                         double(t.counters.tokens_processed) / t.counters.wall_seconds);
            }
        // The lesson in numbers: at the last step the uncached run recomputed every earlier token.
        const StepTrace& last = *store.trace(Side::uncached, kPresses - 1);
        QCOMPARE(int(last.counters.tokens_recomputed), last.pos_end - 1);
        QCOMPARE(int(store.trace(Side::cached, kPresses - 1)->counters.tokens_recomputed), 0);
    }

    void lockstepLogitDifferenceIsTiny() {
        const TraceStore& store = m_window->store();
        for (int i = 0; i < kPresses; ++i) {
            const double diff = store.step(Side::cached, i).maxLogitDiff;
            QVERIFY2(std::isfinite(diff) && diff <= 1e-4,
                     qPrintable(QStringLiteral("step %1: %2").arg(i).arg(diff)));
            QCOMPARE(store.step(Side::uncached, i).maxLogitDiff, diff);
        }
    }

    void scrubbingBackAndSteppingAgainReproducesTheTokens() {
        TraceStore& store = m_window->store();
        const std::vector<int32_t> before = store.tokensUpTo(Side::cached, kPresses - 1);
        const int32_t nextBefore = store.trace(Side::cached, kPresses - 1)->chosen;
        // ← five times (the timeline's Step back), then Step until we are back at the end.
        m_window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
        for (int i = 0; i < 5; ++i)
            QTest::keyClick(m_window.get(), Qt::Key_Left);
        QCOMPARE(store.selectedStep(), kPresses - 6);
        QVERIFY(!store.followsLatest());
        paintAll();  // the views draw the earlier step from the history
        pressStep(5);
        QCOMPARE(store.stepCount(Side::cached), kPresses);
        QVERIFY(store.followsLatest());
        QCOMPARE(store.tokensUpTo(Side::cached, kPresses - 1), before);
        QCOMPARE(store.tokensUpTo(Side::uncached, kPresses - 1), before);
        QCOMPARE(store.trace(Side::cached, kPresses - 1)->chosen, nextBefore);
        paintAll();
        auto* kv = dynamic_cast<KvCacheRenderer*>(m_window->pane(Side::cached)->kvCacheView()->renderer());
        QCOMPARE(kv->uploadedSteps(), kPresses);
    }

    void offscreenLayoutDrawsWithoutAWindow() {
        OffscreenRenderer offscreen;
        const Status created = offscreen.create(QSize(1280, 720));
        QVERIFY2(created, created.message().c_str());
        LayoutRenderer layout;
        OffscreenOptions o;
        o.theme = ThemeKind::light;
        const Result<QImage> image = offscreen.render(layout, m_window->store(), o);
        QVERIFY2(image, image.message().c_str());
        QCOMPARE(image->size(), QSize(1280, 720));
        // Not blank: the heatmaps and text put many colours on it.
        QSet<QRgb> colours;
        for (int y = 0; y < image->height(); y += 7)
            for (int x = 0; x < image->width(); x += 7)
                colours.insert(image->pixel(x, y));
        QVERIFY2(colours.size() > 200, qPrintable(QString::number(colours.size())));
        // Its textures hold the same rows as the window's.
        const int positions = m_window->store().trace(Side::cached, kPresses - 1)->pos_end;
        std::vector<float> texture;
        offscreen.withContext([&](GlResources& gl) {
            texture = layout.kvCache(Side::cached).textureRows(gl, 1, false, 0, positions);
        });
        QCOMPARE(texture, expectedKvRows(m_window->store(), Side::cached, 1, false, positions));
        // Same store, same options: the same picture.
        QCOMPARE(*offscreen.render(layout, m_window->store(), o), *image);
        offscreen.release(layout);
    }

    void shaderErrorsNameFileAndLine() {
        OffscreenRenderer offscreen;
        QVERIFY(offscreen.create(QSize(64, 64)));
        offscreen.withContext([](GlResources& gl) {
            ShaderLibrary library(&gl.gl());
            const QByteArray vert = "#version 330 core\nvoid main() { gl_Position = vec4(0.0); }\n";
            const QByteArray frag =
                "#version 330 core\nout vec4 c;\nvoid main() {\n    c = vec4(1.0);\n    c += "
                "undefinedThing;\n}\n";
            QVERIFY(!library.programFromSources(QStringLiteral("ok.vert"), vert,
                                                QStringLiteral("broken.frag"), frag));
            QVERIFY2(library.error().startsWith(QStringLiteral("shaders/broken.frag:5:")),
                     qPrintable(library.error()));
            QVERIFY(library.program(QStringLiteral("heatmap.vert"), QStringLiteral("kv_rows.frag")));
            QVERIFY(library.program(QStringLiteral("heatmap.vert"), QStringLiteral("attention.frag")));
            QVERIFY(!library.program(QStringLiteral("heatmap.vert"), QStringLiteral("missing.frag")));
            QVERIFY(library.error().contains(QStringLiteral("shaders/missing.frag: not found")));
            library.release();
        });
    }

    // ---- bad input: a dialog that says what is wrong, and nothing lost
    // ---------------------------------------
    void aModelThatFailsToLoadKeepsTheCurrentOne() {
        QTemporaryDir dir;
        const QString bad = dir.filePath(QStringLiteral("not-a-model.bin"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(64, 'x'));
        f.close();
        const QString loaderMessage = QString::fromStdString(load_model(bad.toStdString()).message());
        QSignalSpy errors(m_window.get(), &MainWindow::errorShown);
        m_window->openModel(bad);
        QTRY_COMPARE_WITH_TIMEOUT(errors.count(), 1, 10000);
        QVERIFY2(errors.last().at(0).toString().contains(loaderMessage),
                 qPrintable(errors.last().at(0).toString()));
        QCOMPARE(countErrorBoxesContaining(loaderMessage), 1);
        QVERIFY(m_window->store().model().path.endsWith(QStringLiteral("tiny-llama-gqa")));
        closeErrorBoxes();
        // The current model still steps. (Loading interrupted the run: Step starts it again.)
        const int before = m_window->store().stepCount(Side::cached);
        pressStep(1);
        QVERIFY(m_window->store().stepCount(Side::cached) >= 1);
        (void)before;
    }

    void badPromptsAreExplained_data() {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<QString>("message");
        QTest::newRow("empty") << ""
                               << "The prompt is empty";
        QTest::newRow("text for a model without a tokenizer") << "hello there"
                                                              << "has no tokenizer";
        QStringList many;
        for (int i = 0; i < 300; ++i)
            many << QStringLiteral("1");
        QTest::newRow("longer than the context") << many.join(',') << "300 tokens long";
    }
    void badPromptsAreExplained() {
        QFETCH(QString, prompt);
        QFETCH(QString, message);
        m_window->reset();
        m_window->setPrompt(prompt);
        QSignalSpy errors(m_window.get(), &MainWindow::errorShown);
        m_window->step();
        QTRY_COMPARE_WITH_TIMEOUT(errors.count(), 1, 5000);
        QVERIFY2(errors.last().at(0).toString().contains(message),
                 qPrintable(errors.last().at(0).toString()));
        QCOMPARE(countErrorBoxesContaining(message), 1);
        QVERIFY(m_window->store().empty());
        closeErrorBoxes();
    }

    void cudaUnavailableIsExplained() {
        if (cuda_compiled() && cuda_available()) {
            m_window->setDevice(DeviceKind::cuda);
            QTRY_COMPARE_WITH_TIMEOUT(m_window->runSettings().device, DeviceKind::cuda, 10000);
            m_window->setDevice(DeviceKind::cpu);
            return;
        }
        QSignalSpy errors(m_window.get(), &MainWindow::errorShown);
        m_window->setDevice(DeviceKind::cuda);
        QTRY_COMPARE_WITH_TIMEOUT(errors.count(), 1, 5000);
        QVERIFY(errors.last().at(0).toString().contains(QStringLiteral("CUDA")));
        QTRY_COMPARE_WITH_TIMEOUT(m_window->runSettings().device, DeviceKind::cpu, 5000);
        closeErrorBoxes();
        // Still running on the CPU.
        m_window->setPrompt(QStringLiteral("1, 2, 3"));
        pressStep(2);
        QCOMPARE(m_window->store().stepCount(Side::cached), 2);
    }
};

QTEST_MAIN(AppGuiTest)
#include "test_app_gui.moc"
