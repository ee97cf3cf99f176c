// The Conversations view on the embedded model, driven as a teacher would: four conversations sharing a
// system prompt run in both layouts; the paged map shares the prompt's blocks (reference count 4) and
// reuses its tokens three times, while reservation admits only what the budget holds at the limit; "how
// many fit" counts more conversations under paging; turn 2 of the chat runs fewer FLOPs with the cache.
// File ▸ Save cache and File ▸ Open cache: a cache saved from the window and opened again continues with
// the same tokens and probabilities as the run that never stopped; a refused file leaves the run as it was.
// With KVSCOPE_SCREENSHOT_DIR set it also saves the screen at 1920x1080 and 1280x720 in every theme.
// Needs OpenGL 3.3 for the window's other views: CTest runs it under Xvfb.
#include <QFile>
#include <QScreen>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "conversations/conversations_panel.h"
#include "export/export_dialog.h"
#include "export/view_frames.h"
#include "first_token_panel.h"
#include "kvscope/cache_file.h"
#include "main_window.h"
#include "support/fixtures.h"
#include "views/block_map_renderer.h"
#include "views/gl_view.h"

using namespace kvscope;
using namespace kvscope::app;

class ConversationsGuiTest : public QObject {
    Q_OBJECT
    std::unique_ptr<MainWindow> m_window;
    ConversationsPanel* m_panel = nullptr;

  private slots:
    void initTestCase() {
        MainWindow::Options options;
        options.useSettings = false;
        options.openDefaultModel = false;
        m_window = std::make_unique<MainWindow>(options);
        m_window->resize(1600, 1000);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get(), 60000));  // slow when the machine is loaded
        QSignalSpy ready(m_window.get(), &MainWindow::modelReady);
        m_window->openDefaultModel();
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 30000);
        m_panel = m_window->conversations();
        QVERIFY(m_panel);
        m_window->showConversations();
        m_panel->setStepDelayMs(0);
    }
    void cleanupTestCase() { m_window.reset(); }

    void fourConversationsShareTheSystemPrompt() {
        QSignalSpy shown(m_panel, &ConversationsPanel::snapshotShown);
        m_panel->runDemo();
        QTRY_VERIFY_WITH_TIMEOUT(m_panel->lastSnapshot() && m_panel->lastSnapshot()->finished, 60000);
        const ConversationsSnapshot& s = *m_panel->lastSnapshot();
        QCOMPARE(int(s.tokens.size()), 4);
        const MemoryMap& p = s.paged;
        // The system prompt's first block is one block referenced by all four conversations.
        QCOMPARE(p.blocks[size_t(p.sequences[0].blocks[0])].ref_count, 4);
        QVERIFY(s.prefixReused > 0);
        QCOMPARE(s.prefixReused % 3, 0);  // three conversations took the same prefix from the first
        // Reservation: 4 MiB at 512 tokens of 3 KiB holds two reservations of 1.5 MiB; the others wait.
        const uint64_t reservation = 512ull * p.bytes_per_token;
        QCOMPARE(s.reserved.bytes_allocated, (s.reserved.budget_bytes / reservation) * reservation);
        QCOMPARE(int(s.reserved.sequences.size()), int(s.reserved.budget_bytes / reservation));
        QVERIFY(s.paged.bytes_allocated < s.reserved.bytes_allocated);
        QVERIFY(s.paged.wasted_bytes() < s.reserved.wasted_bytes());
        // The reserved run computed the shared prefix itself, the paged one did not.
        QVERIFY(s.reservedCounters.flops() > 0);
        qInfo("%s", qPrintable(m_panel->statsText()));
    }

    // Export: the dialog takes a copy of the maps as drawn, and a still of the conversations view draws
    // every conversation's colour (the block maps, not the KV view); before a run it says what to press.
    void mapsExport() {
        QVERIFY(m_panel->blockMaps()->snapshot);
        if (m_window->store().empty()) {
            m_window->step();
            QTRY_VERIFY_WITH_TIMEOUT(!m_window->store().empty(), 30000);
        }
        ExportDialog dialog(m_window->store(), ThemeKind::light);
        m_window->prepareExportDialog(dialog);
        ExportSettings e = dialog.settings();
        QVERIFY(e.blockMaps && e.blockMaps->snapshot);
        QVERIFY(e.blockMaps.get() != m_panel->blockMaps().get());
        QCOMPARE(e.blockMaps->names.size(), 4);
        e.view = ExportView::conversations;
        e.format = ExportFormat::png;
        e.size = QSize(1280, 720);
        e.out = QStringLiteral("maps.png");
        const ExportHistory history = ExportHistory::of(m_window->store());
        Result<ExportSettings> resolved = resolveExportSettings(e, history);
        QVERIFY2(resolved, resolved ? "" : resolved.message().c_str());
        Result<std::unique_ptr<ViewFrames>> frames = ViewFrames::create(history, *resolved);
        QVERIFY2(frames, frames ? "" : frames.message().c_str());
        Result<QImage> still = (*frames)->renderFrame(0);
        QVERIFY2(still, still ? "" : still.message().c_str());
        const QImage image = still->convertToFormat(QImage::Format_RGB32);
        for (int i = 0; i < 4; ++i) {
            const QRgb colour = conversationColour(i).rgb();
            int n = 0;
            for (int y = 0; y < image.height(); ++y)
                for (int x = 0; x < image.width(); ++x)
                    n += (image.pixel(x, y) & 0xffffff) == (colour & 0xffffff);
            QVERIFY2(n > 100,
                     qPrintable(QStringLiteral("conversation %1: %2 pixels of its colour").arg(i).arg(n)));
        }
        e.blockMaps.reset();
        resolved = resolveExportSettings(e, history);
        QVERIFY(!resolved);
        QVERIFY2(QString::fromStdString(resolved.message()).contains(QStringLiteral("Run conversations")),
                 resolved.message().c_str());
    }

    void pagingHoldsMoreConversations() {
        m_panel->measureFit();
        QTRY_VERIFY_WITH_TIMEOUT(m_panel->lastFit().has_value(), 120000);
        const FitMeasurement& f = *m_panel->lastFit();
        qInfo("fit in the budget: reserved %d, paged %d", int(f.reserved.completed.size()),
              int(f.paged.completed.size()));
        QVERIFY(f.paged.completed.size() > f.reserved.completed.size());
    }

    void secondTurnUsesTheCache() {
        m_panel->measureTurn();
        QTRY_VERIFY_WITH_TIMEOUT(m_panel->lastTurn().has_value(), 60000);
        const SecondTurn& t = *m_panel->lastTurn();
        QVERIFY(t.flops_cached < t.flops_uncached);
        QVERIFY(t.max_logit_diff <= 1e-4f);
    }

    // File ▸ Save cache: the cached run, saved from the window, resumes like the uninterrupted run.
    void saveCacheFromTheWindow() {
        m_window->setPrompt(QStringLiteral("ROMEO:"));
        QSignalSpy finished(m_window.get(), &MainWindow::stepsFinished);
        m_window->stepRepeatedly(6);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() >= 1, 60000);
        QTemporaryDir dir;
        const QString file = dir.path() + QStringLiteral("/window.kvcache");
        QSignalSpy saved(m_window.get(), &MainWindow::cacheSaved);
        m_window->saveCacheTo(file);
        QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 1, 20000);
        QVERIFY2(saved.at(0).at(1).toString().isEmpty(), qPrintable(saved.at(0).at(1).toString()));
        const TraceStore& store = m_window->store();
        const StepTrace* last = store.trace(Side::cached, store.stepCount(Side::cached) - 1);
        // Resume it in a fresh session of the same model: its first token follows the window's last one.
        auto engine = Engine::create(store.model().model, make_cpu_backend(1));
        QVERIFY(engine.is_ok());
        SessionOptions so;
        so.trace = TraceOptions::off();
        auto session = Session::create(engine.value(), so);
        QVERIFY(session.is_ok());
        auto next = load_cache_file(*session.value(), file.toStdString());
        QVERIFY2(next.is_ok(), next.message().c_str());
        QCOMPARE(next.value(), last->chosen);
        QCOMPARE(session.value()->position(), last->pos_end);

        // The run that never stopped: 4 more steps in the window.
        QSignalSpy more(m_window.get(), &MainWindow::stepsFinished);
        m_window->stepRepeatedly(4);
        QTRY_VERIFY_WITH_TIMEOUT(more.count() >= 1, 60000);
        const int total = store.stepCount(Side::cached);
        std::vector<StepTracePtr> uninterrupted;
        for (int i = total - 4; i < total; ++i)
            uninterrupted.push_back(store.step(Side::cached, i).trace);

        // File ▸ Open cache: step 0 is the restored cache, computed by nothing; the right run computed it.
        QSignalSpy opened(m_window.get(), &MainWindow::cacheOpened);
        m_window->openCacheFrom(file);
        QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
        QVERIFY2(opened.at(0).at(1).toString().isEmpty(), qPrintable(opened.at(0).at(1).toString()));
        QTRY_COMPARE_WITH_TIMEOUT(store.stepCount(Side::cached), 1, 10000);
        const StepTrace* restored = store.trace(Side::cached, 0);
        QVERIFY(restored->restored);
        QCOMPARE(restored->pos_end, last->pos_end);
        QCOMPARE(restored->counters.flops(), uint64_t(0));
        QCOMPARE(restored->chosen, last->chosen);
        QVERIFY(!restored->kv.empty() && restored->kv[0].n_rows == last->pos_end);
        QVERIFY(store.trace(Side::uncached, 0)->counters.flops() > 0);
        QVERIFY(!m_window->prompt().isEmpty());

        // Continue: the same tokens and probabilities as the window's own continuation.
        QSignalSpy resumed(m_window.get(), &MainWindow::stepsFinished);
        m_window->stepRepeatedly(4);
        QTRY_VERIFY_WITH_TIMEOUT(resumed.count() >= 1, 60000);
        QCOMPARE(store.stepCount(Side::cached), 5);
        for (int i = 0; i < 4; ++i) {
            const StepTrace& a = *uninterrupted[size_t(i)];
            const StepTrace& b = *store.trace(Side::cached, i + 1);
            QCOMPARE(b.input_tokens, a.input_tokens);
            QCOMPARE(b.chosen, a.chosen);
            QVERIFY(std::fabs(b.chosen_prob - a.chosen_prob) <= 1e-6f);
        }
        // The uncached run recomputed the restored rows: they match what the file held.
        const TraceStore::Step& check = store.step(Side::uncached, 1);
        QVERIFY(check.recompute);
        qInfo("restored %d tokens; the uncached run's rebuilt rows differ by at most %g", restored->pos_end,
              double(check.recompute->maxAbs));
        QVERIFY(check.recompute->maxAbs <= 1e-4);

        // A corrupt file is refused with its reason, and the run in the window stays.
        const QString bad = dir.path() + QStringLiteral("/bad.kvcache");
        QFile in(file), out(bad);
        QVERIFY(in.open(QIODevice::ReadOnly) && out.open(QIODevice::WriteOnly));
        QByteArray bytes = in.readAll();
        bytes[int(bytes.size()) - 3] = char(bytes[int(bytes.size()) - 3] ^ 0x10);
        out.write(bytes);
        out.close();
        QSignalSpy refused(m_window.get(), &MainWindow::cacheOpened);
        m_window->openCacheFrom(bad);
        QTRY_COMPARE_WITH_TIMEOUT(refused.count(), 1, 30000);
        QVERIFY2(refused.at(0).at(1).toString().contains(QStringLiteral("corrupt tokens or K/V data")),
                 qPrintable(refused.at(0).at(1).toString()));
        QCOMPARE(store.stepCount(Side::cached), 5);
    }

    // View ▸ First token: the sweep runs on the loaded model, a row per prompt length, each prefill
    // longer than the one before in FLOPs, every time measured.
    void firstTokenViewMeasuresTheModel() {
        FirstTokenPanel* panel = m_window->firstToken();
        m_window->showFirstTokenView();
        QSignalSpy done(panel, &FirstTokenPanel::measured);
        panel->measure();
        QVERIFY(panel->measuring());
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 120000);
        QVERIFY2(done.at(0).at(0).toString().isEmpty(), qPrintable(done.at(0).at(0).toString()));
        const FirstTokenSweep& sweep = panel->sweep();
        QCOMPARE(sweep.lengths,
                 firstTokenLengths(m_window->store().model().capacity, kFirstTokenDecodeSteps));
        QCOMPARE(int(sweep.rows.size()), int(sweep.lengths.size()));
        for (size_t i = 0; i < sweep.rows.size(); ++i) {
            const PromptSweepRow& r = sweep.rows[i];
            QCOMPARE(r.prompt, sweep.lengths[i]);
            QVERIFY(r.ttft_seconds > 0 && r.decode_seconds > 0);
            QVERIFY(r.prefill.flops() > r.decode.flops());
            if (i > 0) QVERIFY(r.prefill.flops() > sweep.rows[i - 1].prefill.flops());
        }
        qInfo("%s", qPrintable(FirstTokenRenderer::narration(sweep).join(QLatin1Char(' '))));

        // Export: the dialog takes a copy of what the dock measured, and the view resolves to a still; with
        // nothing measured the export says what to do.
        ExportDialog dialog(m_window->store(), ThemeKind::light);
        m_window->prepareExportDialog(dialog);
        ExportSettings e = dialog.settings();
        QVERIFY(e.firstTokenSweep);
        QVERIFY(e.firstTokenSweep.get() != &sweep);
        QCOMPARE(e.firstTokenSweep->rows.size(), sweep.rows.size());
        QCOMPARE(e.firstTokenSweep->rows.back().ttft_seconds, sweep.rows.back().ttft_seconds);
        e.view = ExportView::firstToken;
        e.format = ExportFormat::png;
        e.out = QStringLiteral("first-token.png");
        const ExportHistory history = ExportHistory::of(m_window->store());
        Result<ExportSettings> resolved = resolveExportSettings(e, history);
        QVERIFY2(resolved, resolved ? "" : resolved.message().c_str());
        e.firstTokenSweep.reset();
        resolved = resolveExportSettings(e, history);
        QVERIFY(!resolved);
        QVERIFY2(QString::fromStdString(resolved.message()).contains(QStringLiteral("press Measure")),
                 resolved.message().c_str());
    }

    // A budget that holds the conversations only because they share the system prompt: the run without
    // sharing runs out of blocks, stops there, and the panel says so (no difference of FLOPs is shown).
    void withoutSharingTheyDoNotFit() {
        m_panel->setBudgetMiB(1.0);  // 21 blocks of 16 tokens × 3 KiB
        m_panel->runDemo();
        QTRY_VERIFY_WITH_TIMEOUT(m_panel->lastSnapshot() && m_panel->lastSnapshot()->finished, 60000);
        const ConversationsSnapshot& s = *m_panel->lastSnapshot();
        m_panel->setBudgetMiB(4.0);
        QCOMPARE(int(s.paged.sequences.size()), 4);
        QVERIFY2(s.unsharedFailed.contains(QStringLiteral("full")), qPrintable(s.unsharedFailed));
        QVERIFY2(m_panel->statsText().contains(QStringLiteral("did not fit in the budget")),
                 qPrintable(m_panel->statsText()));
        QVERIFY(!m_panel->statsText().contains(QStringLiteral("without sharing computed")));
    }

    void screenshots() {
        const QByteArray dir = qgetenv("KVSCOPE_SCREENSHOT_DIR");
        if (dir.isEmpty()) return;
        for (QSize size : {QSize(1920, 1080), QSize(1280, 720)})
            for (ThemeKind theme : {ThemeKind::dark, ThemeKind::light, ThemeKind::projector}) {
                m_window->setTheme(theme);
                m_window->showNormal();
                m_window->setGeometry(QRect(QPoint(0, 0), size));
                m_window->showConversations();
                QTest::qWait(1500);
                const QString file = QStringLiteral("%1/conversations-%2x%3-%4.png")
                                         .arg(QString::fromLocal8Bit(dir))
                                         .arg(size.width())
                                         .arg(size.height())
                                         .arg(themeKindName(theme));
                QVERIFY(QGuiApplication::primaryScreen()->grabWindow(0).save(file));
            }
    }
};

QTEST_MAIN(ConversationsGuiTest)
#include "test_conversations_gui.moc"
