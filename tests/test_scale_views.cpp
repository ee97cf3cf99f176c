// The Scale up, Roofline, Complexity and First token views without drawing: what they show comes from core's
// formulas and from the runs' own counters — the narration's numbers, the roofline points, the fitted slopes
// — and their choices survive the settings and the export command line.
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

#include "engine_worker.h"
#include "export/export_command_line.h"
#include "first_token_panel.h"
#include "kvscope/scale.h"
#include "scale_settings.h"
#include "support/engine_helpers.h"
#include "support/fixtures.h"
#include "views/complexity_renderer.h"
#include "views/first_token_renderer.h"
#include "views/roofline_renderer.h"
#include "views/scale_renderer.h"

using namespace kvscope;
using namespace kvscope::app;
using namespace kvscope::test;

namespace {

// Both runs of a fixture model in a store: a prefill of `prompt` tokens, then `steps` lockstep decodes.
void run(TraceStore& store, const std::shared_ptr<Engine>& engine, int prompt, int steps) {
    ModelInfo info;
    info.model = engine->model_ptr();
    info.displayName = QStringLiteral("tiny-llama-gqa");
    info.capacity = 256;
    store.setModel(info);
    auto cached = make_session(engine, SessionMode::cached, TraceOptions::off());
    auto uncached = make_session(engine, SessionMode::uncached, TraceOptions::off());
    std::vector<int32_t> tokens(static_cast<size_t>(prompt));
    for (int i = 0; i < prompt; ++i)
        tokens[size_t(i)] = int32_t(i % 40);
    auto a = cached->prefill(tokens);
    auto b = uncached->prefill(tokens);
    QVERIFY(a.is_ok() && b.is_ok());
    store.appendPair(StepPair{a.value(), b.value()});
    for (int i = 0; i < steps; ++i) {
        a = cached->decode(7);
        b = uncached->decode(7);
        QVERIFY(a.is_ok() && b.is_ok());
        store.appendPair(StepPair{a.value(), b.value()});
    }
}

}  // namespace

class ScaleViewsTest : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        QString error;
        QVERIFY2(ScaleSettings::catalog(&error), qPrintable(error));
    }

    // Llama-3.1-70B at 128K in bf16 on an H100: 40 GiB of cache per conversation, and the 141 GB of
    // weights do not fit; in int4 they do, with 4 conversations beside them.
    void scaleNarrationSaysWhatCoreComputes() {
        TraceStore store;
        ScaleSettings s;
        QStringList lines = ScaleRenderer::narration(s, *ScaleSettings::catalog(), store);
        QVERIFY(!lines.isEmpty());
        const QString text = lines.join(QLatin1Char(' '));
        QVERIFY2(
            text.contains(QStringLiteral("320.0 KiB per token")) || text.contains(QStringLiteral("320 KiB")),
            qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("40.0 GiB")) || text.contains(QStringLiteral("40 GiB")),
                 qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("do not fit")), qPrintable(text));
        s.weights = s.kv = Precision::int4;
        lines = ScaleRenderer::narration(s, *ScaleSettings::catalog(), store);
        QVERIFY2(lines.join(QLatin1Char(' ')).contains(QStringLiteral("4 conversations")),
                 qPrintable(lines.join(QLatin1Char(' '))));
    }

    void loadedModelIsARow() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        TraceStore store;
        QCOMPARE(ScaleRenderer::rows(*ScaleSettings::catalog(), store).size(), size_t(15));
        run(store, engine, 4, 0);
        const auto rows = ScaleRenderer::rows(*ScaleSettings::catalog(), store);
        QCOMPARE(rows.size(), size_t(16));
        QVERIFY(rows.back().loaded);
        QCOMPARE(kv_bytes_per_token(rows.back(), Precision::f32),
                 double(engine->model().config.kv_bytes_per_token()));
    }

    // Every step is a point from its own counters; the prefill sits right of the decode steps, and the
    // uncached decode right of the cached one.
    void rooflinePointsFromTheCounters() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        TraceStore store;
        run(store, engine, 64, 4);
        const auto pts = RooflineRenderer::points(store);
        QCOMPARE(int(pts.size()), 2 * 5);
        double prefill = 0, cached = 0, uncached = 0;
        for (const auto& p : pts) {
            const StepTrace* t = store.trace(p.side, p.step);
            QVERIFY(t);
            QCOMPARE(p.point.flops, double(t->counters.flops()));
            if (p.phase == Phase::prefill && p.side == Side::cached) prefill = p.point.intensity();
            if (p.phase == Phase::decode && p.side == Side::cached) cached = p.point.intensity();
            if (p.phase == Phase::decode && p.side == Side::uncached) uncached = p.point.intensity();
        }
        QVERIFY(prefill > 10 * cached);
        QVERIFY(uncached > 10 * cached);
        MachinePeaks peaks;
        peaks.device = "test";
        peaks.peak_flops = 50e9;
        peaks.bandwidth = 10e9;
        store.selectLatest();
        const QString story = RooflineRenderer::narration(peaks, store).join(QLatin1Char(' '));
        QVERIFY2(story.contains(QStringLiteral("memory bounds it")), qPrintable(story));
    }

    void complexitySlopesFromTheRun() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        TraceStore store;
        run(store, engine, 1, 80);
        const ComplexityRenderer::Fit f = ComplexityRenderer::fit(store);
        QVERIFY(f.points >= 30);
        QVERIFY(std::abs(f.attentionPerToken[sideIndex(Side::cached)] - 1) < 0.05);
        QVERIFY(std::abs(f.attentionPerToken[sideIndex(Side::uncached)] - 2) < 0.1);
        QVERIFY(std::abs(f.attentionSoFar[sideIndex(Side::cached)] - 2) < 0.15);
        QVERIFY(std::abs(f.attentionSoFar[sideIndex(Side::uncached)] - 3) < 0.2);
        QCOMPARE(std::round(f.crossover),
                 std::round(attention_crossover_context(shape_of(engine->model(), "fixture"))));
    }

    // The First token view's prompt lengths: doubling from 16 while a prompt and its decode steps fit, then
    // the longest that fits.
    void firstTokenLengthsFit() {
        QCOMPARE(kvscope::app::firstTokenLengths(512, 8), (std::vector<int>{16, 32, 64, 128, 256, 504}));
        QCOMPARE(kvscope::app::firstTokenLengths(2048, 8),
                 (std::vector<int>{16, 32, 64, 128, 256, 512, 1024, 2040}));
        QCOMPARE(kvscope::app::firstTokenLengths(264, 8), (std::vector<int>{16, 32, 64, 128, 256}));
        QCOMPARE(kvscope::app::firstTokenLengths(20, 8), (std::vector<int>{12}));
        QVERIFY(kvscope::app::firstTokenLengths(8, 8).empty());
        QCOMPARE(kvscope::app::firstTokenLengths(100000, 8).back(), 2048);
    }

    // Its narration is the rows' numbers: the longest prompt's pause and stream, how much faster the
    // prefill goes per token, and the growth between the shortest and the longest prompt.
    void firstTokenNarrationFromTheRows() {
        FirstTokenSweep sweep;
        QVERIFY(FirstTokenRenderer::narration(sweep).isEmpty());
        PromptSweepRow a, b;
        a.prompt = 16;
        a.ttft_seconds = 0.002;
        a.decode_seconds = 0.0001;
        b.prompt = 256;
        b.ttft_seconds = 0.032;
        b.decode_seconds = 0.0002;
        sweep.rows = {a, b};
        QString text = FirstTokenRenderer::narration(sweep).join(QLatin1Char(' '));
        for (QChar thin : {QChar(0x2009), QChar(0x202F), QChar(0x00A0)})
            text.replace(thin, QLatin1Char(' '));  // numbers group digits with thin spaces
        for (const char* expected : {"A 256-token prompt: 32.0 ms before the first word, then a word every "
                                     "200 µs (5 000 words a second)",
                                     "The pause is 160.0× one word's time, not 256×", "8 000 tokens a second",
                                     "From 16 to 256 tokens (16× longer) the pause grew 16.0× (slope 1.00",
                                     "the time of a word after it changed 2.00×"})
            QVERIFY2(text.contains(QString::fromUtf8(expected)),
                     qPrintable(QString::fromUtf8(expected) + " not in: " + text));
    }

    void settingsRoundTrip() {
        QTemporaryDir dir;
        QSettings qs(dir.filePath(QStringLiteral("s.ini")), QSettings::IniFormat);
        ScaleSettings s;
        s.context = 1048576;
        s.kv = Precision::f8;
        s.conversations = 7;
        s.model = QStringLiteral("DeepSeek-V3");
        s.write(qs);
        ScaleSettings r;
        r.read(qs);
        QCOMPARE(r.context, 1048576.0);
        QCOMPARE(r.kv, Precision::f8);
        QCOMPARE(r.weights, Precision::bf16);
        QCOMPARE(r.conversations, 7);
        QCOMPARE(r.model, QStringLiteral("DeepSeek-V3"));
        MachinePeaks p;
        p.device = "cpu";
        p.peak_flops = 1e11;
        p.bandwidth = 3e10;
        p.ladder = {{1 << 20, 5e10}, {1 << 26, 3.5e10}};
        StoredPeaks::write(qs, p);
        MachinePeaks q;
        QVERIFY(StoredPeaks::read(qs, &q, "cpu"));
        QCOMPARE(q.peak_flops, 1e11);
        // Roofs measured for another backend (another thread count) are not these runs' roofs.
        MachinePeaks other;
        QVERIFY(!StoredPeaks::read(qs, &other, "CPU (Eigen, 2 threads)"));
        QVERIFY(!other.valid());
        QCOMPARE(StoredPeaks::runsDevice(), make_cpu_backend(lockstepThreads())->name());
        QCOMPARE(q.ladder.size(), size_t(2));
        QCOMPARE(q.ladder[1].bandwidth, 3.5e10);
    }

    void exportCommandLineTakesTheScaleChoices() {
        auto c = parseExportCommand(
            {QStringLiteral("kvscope-export"), QStringLiteral("--prompt"), QStringLiteral("x"),
             QStringLiteral("--steps"), QStringLiteral("2"), QStringLiteral("--view"),
             QStringLiteral("scale"), QStringLiteral("--context"), QStringLiteral("32K"),
             QStringLiteral("--precision"), QStringLiteral("int4"), QStringLiteral("--conversations"),
             QStringLiteral("4"), QStringLiteral("--out"), QStringLiteral("x.png")});
        QVERIFY2(c.is_ok(), c.message().c_str());
        QCOMPARE(c->settings.view, ExportView::scale);
        QCOMPARE(c->settings.scaleContext, QStringLiteral("32K"));
        QCOMPARE(c->settings.scaleWeights, QStringLiteral("int4"));
        QCOMPARE(c->settings.scaleKv, QStringLiteral("int4"));
        QCOMPARE(c->settings.scaleConversations, 4);
        auto bad = parseExportCommand({QStringLiteral("kvscope-export"), QStringLiteral("--prompt"),
                                       QStringLiteral("x"), QStringLiteral("--steps"), QStringLiteral("2"),
                                       QStringLiteral("--view"), QStringLiteral("scale"),
                                       QStringLiteral("--context"), QStringLiteral("2G"),
                                       QStringLiteral("--out"), QStringLiteral("x.png")});
        QVERIFY(!bad.is_ok());
        QVERIFY2(bad.message().find("--context 2G") != std::string::npos, bad.message().c_str());
    }
};

QTEST_MAIN(ScaleViewsTest)
#include "test_scale_views.moc"
