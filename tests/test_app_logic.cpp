// The app's logic without drawing: the prompt box's rules, the TraceStore's history (trimming the uncached
// run's recomputed rows, rewinding, the selection), the engine worker on its thread (lockstep against the
// fixture's greedy continuation, race to the end of the context, errors for bad models, prompts and
// devices), and the shader log annotation.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include "engine_worker.h"
#include "format.h"
#include "gl/shader_library.h"
#include "prompt_parser.h"
#include "support/engine_helpers.h"
#include "support/fixtures.h"
#include "token_text.h"
#include "trace_store.h"

using namespace kvscope;
using namespace kvscope::app;
using namespace kvscope::test;

namespace {

// Runs an EngineWorker on its own thread for the duration of a test.
struct WorkerThread {
    QThread thread;
    EngineWorker* worker = new EngineWorker;
    WorkerThread() {
        registerMetaTypes();
        worker->moveToThread(&thread);
        thread.start();
    }
    ~WorkerThread() {
        worker->interrupt();
        QMetaObject::invokeMethod(worker, &EngineWorker::shutdown, Qt::BlockingQueuedConnection);
        thread.quit();
        thread.wait();
        delete worker;
    }
    template <typename F>
    void call(F f) {
        QMetaObject::invokeMethod(worker, f, Qt::QueuedConnection);
    }
};

std::string gqa() {
    return model_fixture_path(QStringLiteral("tiny-llama-gqa"));
}

}  // namespace

class AppLogicTest : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
    }

    // ---- the prompt box ---------------------------------------------------------------------------------
    void promptWithoutTokenizer_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("ids");    // expected, comma-separated; empty when an error is expected
        QTest::addColumn<QString>("error");  // a phrase the error must contain
        QTest::newRow("commas") << "1, 15, 27"
                                << "1,15,27"
                                << "";
        QTest::newRow("spaces and hashes") << "#1 #15\t#27"
                                           << "1,15,27"
                                           << "";
        QTest::newRow("empty") << "   "
                               << ""
                               << "empty";
        QTest::newRow("words") << "1, two, 3"
                               << ""
                               << "Item 2 (\"two\") is not a number";
        QTest::newRow("outside vocabulary") << "1, 320"
                                            << ""
                                            << "outside this model's vocabulary of 320";
        QTest::newRow("negative") << "-4"
                                  << ""
                                  << "outside this model's vocabulary";
        QTest::newRow("longer than the context") << "1,2,3,4,5,6,7,8"
                                                 << ""
                                                 << "at most 8 tokens";
    }
    void promptWithoutTokenizer() {
        QFETCH(QString, text);
        QFETCH(QString, ids);
        QFETCH(QString, error);
        PromptRules rules;
        rules.vocabSize = 320;
        rules.capacity = 8;
        auto parsed = parsePrompt(text, rules);
        if (!error.isEmpty()) {
            QVERIFY(!parsed.is_ok());
            QVERIFY2(QString::fromStdString(parsed.message()).contains(error), parsed.message().c_str());
            return;
        }
        QVERIFY2(parsed.is_ok(), parsed.message().c_str());
        QStringList got;
        for (int32_t id : parsed.value())
            got << QString::number(id);
        QCOMPARE(got.join(QLatin1Char(',')), ids);
    }

    void tokensWithoutTokenizerShowTheirIds() {
        QCOMPARE(tokenLabel(nullptr, 42), QStringLiteral("#42"));
        QCOMPARE(tokenQuoted(nullptr, 7), QStringLiteral("#7"));
    }

    void numbersReadLikeOnAProjector() {
        QCOMPARE(formatBytes(512), QStringLiteral("512 B"));
        QCOMPARE(formatBytes(1536), QStringLiteral("1.50 KiB"));
        QCOMPARE(formatBytes(3.5 * 1024 * 1024), QStringLiteral("3.50 MiB"));
        QCOMPARE(formatFlops(812), QStringLiteral("812 FLOP"));
        QCOMPARE(formatFlops(4.32e6), QStringLiteral("4.32 MFLOP"));
        QCOMPARE(formatSeconds(85e-6), QStringLiteral("85.0 µs"));
        QCOMPARE(formatSeconds(0.0042), QStringLiteral("4.20 ms"));
        QCOMPARE(formatCount(1234567), QStringLiteral("1\u2009234\u2009567"));
    }

    // ---- the history budget -------------------------------------------------------------------------------
    void historyLimitKeepsBothRunsUnderTheBudget() {
        ModelConfig c;
        c.n_layers = 12, c.n_heads = 12, c.n_kv_heads = 4, c.head_dim = 64;
        const uint64_t budget = 256ull << 20;
        const int t = historyTokenLimit(c, budget);
        // Both runs: every attention row (query i over i+1 keys, every layer and head, compact: half
        // precision) and every K/V row.
        auto bytes = [&](uint64_t n) {
            const uint64_t attention = uint64_t(c.n_layers) * c.n_heads * n * (n + 1) / 2 * 2;  // half
            const uint64_t kv = 2ull * c.n_layers * c.n_kv_heads * c.head_dim * n * 4;
            return 2 * (attention + kv);
        };
        QVERIFY2(bytes(uint64_t(t)) <= budget + budget / 100, qPrintable(QString::number(t)));
        QVERIFY(bytes(uint64_t(t) * 11 / 10) > budget);
    }

    // ---- the TraceStore
    // -------------------------------------------------------------------------------------
    void storeKeepsOnlyTheNewRowsOfSupersededUncachedSteps() {
        std::string error;
        auto engine = make_cpu_engine(gqa(), error);
        QVERIFY2(engine, error.c_str());
        TraceOptions all;
        all.kv = RowSelection::computed_rows;
        auto uncached = make_session(engine, SessionMode::uncached, all);
        auto ref = load_reference(gqa());
        QVERIFY(ref.is_ok());
        TraceStore store;
        ModelInfo info;
        info.model = engine->model_ptr();
        info.capacity = 256;
        store.setModel(info);
        auto t0 = uncached->prefill(ref->input_ids);
        QVERIFY(t0.is_ok());
        store.append(Side::uncached, t0.value());
        auto t1 = uncached->decode(t0.value()->chosen);
        QVERIFY(t1.is_ok());
        store.append(Side::uncached, t1.value());
        // The newest step keeps every recomputed row; the prefill (superseded) keeps its own rows only.
        const StepTrace& latest = *store.trace(Side::uncached, 1);
        QCOMPARE(latest.kv[0].row_begin, 0);
        QCOMPARE(latest.kv[0].n_rows, 21);
        const StepTrace& first = *store.trace(Side::uncached, 0);
        QCOMPARE(first.kv[0].row_begin, 0);
        QCOMPARE(first.kv[0].n_rows, 20);  // the prefill fed positions 0..19: all its rows are its own
        auto t2 = uncached->decode(t1.value()->chosen);
        QVERIFY(t2.is_ok());
        store.append(Side::uncached, t2.value());
        const StepTrace& trimmed = *store.trace(Side::uncached, 1);
        QCOMPARE(trimmed.kv[0].row_begin, 20);
        QCOMPARE(trimmed.kv[0].n_rows, 1);
        // The kept row is the one the step computed for its own position, value for value.
        const int hd = t1.value()->head_dim, kvh = t1.value()->n_kv_heads;
        for (int l = 0; l < t1.value()->n_layers; ++l)
            for (int h = 0; h < kvh; ++h)
                for (int d = 0; d < hd; ++d) {
                    const LayerKV& full = t1.value()->kv[size_t(l)];
                    QCOMPARE(trimmed.kv[size_t(l)].k[size_t(h) * hd + d],
                             full.k[(size_t(h) * full.n_rows + 20) * hd + d]);
                    QCOMPARE(trimmed.kv[size_t(l)].v[size_t(h) * hd + d],
                             full.v[(size_t(h) * full.n_rows + 20) * hd + d]);
                }
        // Tokens, the step that chose each, rewinding, the selection.
        QCOMPARE(int(store.tokensUpTo(Side::uncached, 2).size()), 22);
        QCOMPARE(store.stepThatChose(Side::uncached, 5), -1);
        QCOMPARE(store.stepThatChose(Side::uncached, 21), 1);
        QCOMPARE(store.selectedStep(), 2);
        store.selectStep(0);
        QVERIFY(!store.followsLatest());
        store.selectStep(99);
        QCOMPARE(store.selectedStep(), 2);
        QVERIFY(store.followsLatest());
        store.truncate(1);
        QCOMPARE(store.stepCount(Side::uncached), 1);
        QCOMPARE(store.selectedStep(), 0);
    }

    // ---- the engine worker
    // ------------------------------------------------------------------------------------
    void lockstepFollowsTheReferenceContinuation() {
        auto ref = load_reference(gqa());
        QVERIFY(ref.is_ok());
        WorkerThread w;
        QSignalSpy loaded(w.worker, &EngineWorker::modelLoaded);
        QSignalSpy stepped(w.worker, &EngineWorker::stepped);
        QSignalSpy failed(w.worker, &EngineWorker::stepFailed);
        const quint64 e = w.worker->epoch();
        const QString path = QString::fromStdString(gqa());
        w.call([&] { w.worker->loadModel(path, e); });
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 20000);
        const std::vector<int32_t> prompt = ref->input_ids;
        w.call([&, prompt] { w.worker->prefill(prompt, e); });
        const int n = int(ref->generated.size());
        for (int i = 1; i < n; ++i)
            w.call([&] { w.worker->step(-1, e); });
        QTRY_COMPARE_WITH_TIMEOUT(stepped.count(), n, 30000);
        QCOMPARE(failed.count(), 0);
        for (int i = 0; i < n; ++i) {
            const StepPair pair = stepped.at(i).at(0).value<StepPair>();
            w.worker->acknowledge();
            QCOMPARE(pair.cached->chosen, ref->generated[size_t(i)]);
            QCOMPARE(pair.uncached->input_tokens, pair.cached->input_tokens);  // fed the cached run's token
            QVERIFY2(
                std::isfinite(pair.maxLogitDiff) && pair.maxLogitDiff <= 1e-4,
                qPrintable(QStringLiteral("step %1: max |logit diff| %2").arg(i).arg(pair.maxLogitDiff)));
            // The uncached run recorded every row it recomputed; the cached run only the new ones.
            QCOMPARE(pair.uncached->kv[0].row_begin, 0);
            QCOMPARE(pair.uncached->kv[0].n_rows, pair.uncached->pos_end);
            QCOMPARE(pair.cached->kv[0].row_begin, pair.cached->pos_begin);
        }
        // Rewind: keep 3 steps and step again: the same token as the first time.
        QSignalSpy again(w.worker, &EngineWorker::stepped);
        w.call([&] { w.worker->step(3, e); });
        QTRY_COMPARE_WITH_TIMEOUT(again.count(), 1, 10000);
        const StepPair redo = again.at(0).at(0).value<StepPair>();
        w.worker->acknowledge();
        QCOMPARE(redo.cached->step, 3);
        QCOMPARE(redo.cached->chosen, ref->generated[3]);
    }

    // The right pane runs a cache variant: a cached run fed the exact run's tokens, measured against it at
    // every step; an evicting variant steps back by replaying its tokens (its evicted rows are gone).
    void variantRunIsMeasuredInLockstepAndRewinds() {
        auto ref = load_reference(gqa());
        QVERIFY(ref.is_ok());
        WorkerThread w;
        QSignalSpy loaded(w.worker, &EngineWorker::modelLoaded);
        QSignalSpy stepped(w.worker, &EngineWorker::stepped);
        QSignalSpy failed(w.worker, &EngineWorker::stepFailed);
        QSignalSpy applied(w.worker, &EngineWorker::settingsApplied);
        const quint64 e = w.worker->epoch();
        const QString path = QString::fromStdString(gqa());
        w.call([&] { w.worker->loadModel(path, e); });
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 20000);
        RunSettings rs;
        rs.rightRun = QStringLiteral("sinks:S=2,W=6");
        w.call([&, rs] { w.worker->applySettings(rs, e); });
        QTRY_COMPARE_WITH_TIMEOUT(applied.count(), 1, 10000);
        const std::vector<int32_t> prompt = ref->input_ids;  // 20 tokens: more than the 8 the cache keeps
        w.call([&, prompt] { w.worker->prefill(prompt, e); });
        for (int i = 0; i < 5; ++i)
            w.call([&] { w.worker->step(-1, e); });
        QTRY_COMPARE_WITH_TIMEOUT(stepped.count(), 6, 30000);
        QCOMPARE(failed.count(), 0);
        std::vector<int32_t> chosen;
        for (int i = 0; i < 6; ++i) {
            const StepPair pair = stepped.at(i).at(0).value<StepPair>();
            w.worker->acknowledge();
            QCOMPARE(pair.uncached->mode, SessionMode::cached);
            QCOMPARE(pair.uncached->input_tokens, pair.cached->input_tokens);
            QVERIFY(pair.uncached->quality.measured);
            QCOMPARE(pair.uncached->quality.steps, int64_t(i + 1));
            QCOMPARE(pair.uncached->cache.rows, 8);
            QCOMPARE(pair.uncached->cache.sinks, 2);
            QVERIFY(!pair.uncached->cache.holds(0, 0, 2) && pair.uncached->cache.holds(0, 0, 1));
            chosen.push_back(pair.uncached->chosen);
        }
        // Rewind to step 3 and step again: the variant replays its tokens and reaches the same choice.
        QSignalSpy again(w.worker, &EngineWorker::stepped);
        w.call([&] { w.worker->step(3, e); });
        QTRY_COMPARE_WITH_TIMEOUT(again.count(), 1, 10000);
        const StepPair redo = again.at(0).at(0).value<StepPair>();
        w.worker->acknowledge();
        QCOMPARE(failed.count(), 0);
        QCOMPARE(redo.uncached->pos_end, stepped.at(3).at(0).value<StepPair>().uncached->pos_end);
        QCOMPARE(redo.uncached->chosen, chosen[3]);
    }

    void raceRunsBothToTheEndOfTheContext() {
        auto ref = load_reference(gqa());
        QVERIFY(ref.is_ok());
        WorkerThread w;
        QSignalSpy loaded(w.worker, &EngineWorker::modelLoaded);
        QSignalSpy prefilled(w.worker, &EngineWorker::stepped);
        // The race lanes emit from their own threads, and QSignalSpy records on the emitting thread: the
        // steps are collected through a queued connection instead, on this thread.
        std::vector<std::pair<Side, StepTracePtr>> raced;
        QObject receiver;
        connect(
            w.worker, &EngineWorker::raceStepped, &receiver,
            [&raced](Side side, const StepTracePtr& t, quint64) { raced.emplace_back(side, t); },
            Qt::QueuedConnection);
        QSignalSpy playing(w.worker, &EngineWorker::playingChanged);
        const quint64 e = w.worker->epoch();
        const QString path = QString::fromStdString(gqa());
        RunSettings settings;
        settings.mode = CompareMode::race;
        settings.tokensPerSecond = 0;
        w.call([&, settings] { w.worker->applySettings(settings, e); });
        w.call([&] { w.worker->loadModel(path, e); });
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 20000);
        const std::vector<int32_t> prompt = ref->input_ids;
        w.call([&, prompt] { w.worker->prefill(prompt, e); });
        QTRY_COMPARE_WITH_TIMEOUT(prefilled.count(), 1, 10000);
        w.worker->acknowledge();
        w.call([&] { w.worker->play(-1, e); });
        // Both runs reach the context (256) on their own; the GUI side acknowledges as it consumes.
        std::array<std::vector<int32_t>, 2> chosen;
        std::array<int, 2> lastPos{0, 0};
        QElapsedTimer timer;
        timer.start();
        int seen = 0;
        while ((lastPos[0] < 256 || lastPos[1] < 256) && timer.elapsed() < 120000) {
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
            for (; seen < int(raced.size()); ++seen) {
                const Side side = raced[size_t(seen)].first;
                const StepTracePtr t = raced[size_t(seen)].second;
                w.worker->acknowledge();
                chosen[size_t(sideIndex(side))].push_back(t->input_tokens.front());
                lastPos[size_t(sideIndex(side))] = t->pos_end;
            }
        }
        QCOMPARE(lastPos[0], 256);
        QCOMPARE(lastPos[1], 256);
        // Greedy: each run, sampling for itself, still produced the reference continuation.
        QCOMPARE(chosen[0], chosen[1]);
        for (size_t i = 0; i + 1 < ref->generated.size(); ++i)
            QCOMPARE(chosen[0][i], ref->generated[i]);
        QTRY_VERIFY_WITH_TIMEOUT(!playing.isEmpty() && !playing.last().at(0).toBool(), 10000);
    }

    void badInputGetsClearMessages() {
        WorkerThread w;
        QSignalSpy loaded(w.worker, &EngineWorker::modelLoaded);
        QSignalSpy loadFailed(w.worker, &EngineWorker::loadFailed);
        QSignalSpy failed(w.worker, &EngineWorker::stepFailed);
        QSignalSpy rejected(w.worker, &EngineWorker::settingsRejected);
        QSignalSpy stepped(w.worker, &EngineWorker::stepped);
        const quint64 e = w.worker->epoch();
        // A step before any model.
        w.call([&] { w.worker->step(-1, e); });
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
        QVERIFY(failed.last().at(0).toString().contains(QStringLiteral("No model is loaded")));
        const QString good = QString::fromStdString(gqa());
        w.call([&] { w.worker->loadModel(good, e); });
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 20000);
        // A file that is not a model: the loader's own message, and the model stays.
        QTemporaryDir dir;
        const QString bad = dir.filePath(QStringLiteral("broken.gguf"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("GGUF\x03\x00\x00\x00 not really");
        f.close();
        w.call([&] { w.worker->loadModel(bad, e); });
        QTRY_COMPARE_WITH_TIMEOUT(loadFailed.count(), 1, 10000);
        const QString expected = QString::fromStdString(load_model(bad.toStdString()).message());
        QCOMPARE(loadFailed.last().at(1).toString(), expected);
        QCOMPARE(loaded.count(), 1);
        // Empty and over-long prompts.
        w.call([&] { w.worker->prefill({}, e); });
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 2, 5000);
        QVERIFY(failed.last().at(0).toString().contains(QStringLiteral("empty")));
        w.call([&] { w.worker->prefill(std::vector<int32_t>(300, 1), e); });
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 3, 5000);
        QVERIFY(failed.last().at(0).toString().contains(QStringLiteral("300 tokens long")));
        // CUDA: refused with the reason when this build or machine has none, accepted otherwise.
        RunSettings cuda;
        cuda.device = DeviceKind::cuda;
        w.call([&, cuda] { w.worker->applySettings(cuda, e); });
        if (!cuda_compiled() || !cuda_available()) {
            QTRY_COMPARE_WITH_TIMEOUT(rejected.count(), 1, 5000);
            QVERIFY(rejected.last().at(0).toString().contains(QStringLiteral("CUDA")));
            QCOMPARE(rejected.last().at(1).value<RunSettings>().device, DeviceKind::cpu);
        }
        // The old model still runs.
        w.call([&] { w.worker->prefill({1, 2, 3}, e); });
        QTRY_COMPARE_WITH_TIMEOUT(stepped.count(), 1, 10000);
        w.worker->acknowledge();
    }

    void staleRequestsAreDropped() {
        WorkerThread w;
        QSignalSpy loaded(w.worker, &EngineWorker::modelLoaded);
        QSignalSpy stepped(w.worker, &EngineWorker::stepped);
        const quint64 e = w.worker->epoch();
        const QString good = QString::fromStdString(gqa());
        w.call([&] { w.worker->loadModel(good, e); });
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 20000);
        // Requests made before an interrupt never run; those after it do.
        const quint64 newer = w.worker->interrupt();
        w.call([&] { w.worker->prefill({1, 2, 3}, e); });
        w.call([&] { w.worker->prefill({4, 5}, newer); });
        QTRY_COMPARE_WITH_TIMEOUT(stepped.count(), 1, 10000);
        QTest::qWait(200);
        QCOMPARE(stepped.count(), 1);
        QCOMPARE(stepped.at(0).at(0).value<StepPair>().cached->input_tokens, (std::vector<int32_t>{4, 5}));
        w.worker->acknowledge();
        // Settings are state, not a request: sent just before a newer request, they still apply (a lesson
        // switches the right pane to int4 and presses Step at once), and that request runs on them.
        RunSettings int4;
        int4.rightRun = QStringLiteral("int4");
        const quint64 before = w.worker->epoch();
        const quint64 after = w.worker->interrupt();
        w.call([&, int4] { w.worker->applySettings(int4, before); });
        w.call([&] { w.worker->prefill({4, 5}, after); });
        QTRY_COMPARE_WITH_TIMEOUT(stepped.count(), 2, 10000);
        const StepPair pair = stepped.at(1).at(0).value<StepPair>();
        QVERIFY(pair.uncached);
        QCOMPARE(pair.uncached->mode, SessionMode::cached);
        QCOMPARE(pair.uncached->cache.element, std::string("int4"));
        w.worker->acknowledge();
    }

    // ---- shader messages
    // ---------------------------------------------------------------------------------------
    void shaderLogsNameFileAndLine() {
        QCOMPARE(ShaderLibrary::annotateLog(QStringLiteral("kv_rows.frag"),
                                            QStringLiteral("0:42(7): error: `foo' undeclared\n")),
                 QStringLiteral("shaders/kv_rows.frag:42: error: `foo' undeclared"));
        QCOMPARE(ShaderLibrary::annotateLog(QStringLiteral("heatmap.vert"),
                                            QStringLiteral("0(12) : error C1008: undefined variable \"x\"")),
                 QStringLiteral("shaders/heatmap.vert:12: error C1008: undefined variable \"x\""));
    }
};

QTEST_MAIN(AppLogicTest)
#include "test_app_logic.moc"
