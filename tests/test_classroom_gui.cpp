// The window as a class uses it (issue 11): the keyboard always reaches the run (Space steps even after
// the prompt box had the focus; Esc leaves the box), the app starts with a sample prompt that suits the
// model, the end of the context switches Step and Play off with the reason and explains it, race mode
// compares the runs at the same length and labels each run with its own state, a mode switch asks before
// it drops the history, and the small things a class notices (title, status bar, counters' rates).
// Needs OpenGL 3.3: CTest runs it under xvfb-run (Mesa's llvmpipe renders without a GPU).
#include <QAction>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QtTest>

#include "explanation_panel.h"
#include "export/export_command_line.h"
#include "export/export_dialog.h"
#include "export/view_frames.h"
#include "main_window.h"
#include "narration.h"
#include "pane_widget.h"
#include "support/fixtures.h"
#include "views/counters_renderer.h"
#include "views/plots_renderer.h"

using namespace kvscope;
using namespace kvscope::app;
using namespace kvscope::test;

namespace {

// Sends a key where the keyboard is now, as a user's key press goes: to the focus widget (through the
// shortcut map first, as QTest does), or to the window when nothing has the focus.
void pressKey(QWidget* window, Qt::Key key) {
    QWidget* target = QApplication::focusWidget() ? QApplication::focusWidget() : window;
    QTest::keyClick(target, key);
}

QString narration(MainWindow& w) {
    w.explanation()->refreshNow();
    return w.explanation()->currentHtml();
}

}  // namespace

class ClassroomGuiTest : public QObject {
    Q_OBJECT
    std::unique_ptr<MainWindow> m_window;

    void openWindow() {
        MainWindow::Options options;
        options.openDefaultModel = false;
        options.useSettings = false;
        m_window = std::make_unique<MainWindow>(options);
        m_window->resize(1280, 720);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get(), 30000));  // slow on a loaded machine
        // Xvfb has no window manager to activate the window: done by hand, as a click on it would.
        m_window->activateWindow();
        QApplication::setActiveWindow(m_window.get());
        QTRY_VERIFY_WITH_TIMEOUT(m_window->isActiveWindow(), 20000);
    }
    void openFixture(const QString& name) {
        QSignalSpy ready(m_window.get(), &MainWindow::modelReady);
        m_window->openModel(QString::fromStdString(model_fixture_path(name)));
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 20000);
    }
    // Waits until the store holds `steps` steps of both runs (and the worker is idle again).
    void waitForSteps(int steps) {
        QTRY_VERIFY_WITH_TIMEOUT(m_window->store().stepCount(Side::cached) == steps &&
                                     m_window->store().stepCount(Side::uncached) == steps,
                                 20000);
    }
    void playToTheEnd() {
        m_window->setSpeed(0);
        m_window->play();
        QTRY_VERIFY_WITH_TIMEOUT(m_window->playing(), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(!m_window->playing(), 120000);
    }

  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
    }
    void init() { openWindow(); }
    void cleanup() {
        for (QWidget* w : QApplication::topLevelWidgets())
            if (auto* box = qobject_cast<QMessageBox*>(w)) box->close();
        m_window.reset();
    }

    void startsReadyToStepWithTheKeyboardOnTheRun() {
        // Before any model: a sample prompt, and the keyboard is not in the prompt box.
        QVERIFY(!m_window->prompt().isEmpty());
        QVERIFY(!m_window->promptEdit()->hasFocus());
        // A model without a tokenizer takes token ids: the sample becomes ids the model has.
        openFixture(QStringLiteral("tiny-llama-gqa"));
        QVERIFY2(!m_window->prompt().contains(QLatin1Char('R')), qPrintable(m_window->prompt()));
        QVERIFY(!m_window->promptEdit()->hasFocus());
        pressKey(m_window.get(), Qt::Key_Space);  // the first Space runs the prompt
        waitForSteps(1);
        pressKey(m_window.get(), Qt::Key_Space);
        waitForSteps(2);
        QVERIFY(m_window->lastError().isEmpty());
    }

    void spaceStepsAfterThePromptHadTheFocus() {
        openFixture(QStringLiteral("tiny-llama-gqa"));
        m_window->setPrompt(QStringLiteral("1, 15, 27, 99"));
        QLineEdit* edit = m_window->promptEdit();
        // Editing: a click in the box, and Space is a space there.
        QTest::mouseClick(edit, Qt::LeftButton);
        QTRY_VERIFY(edit->hasFocus());
        edit->end(false);
        pressKey(m_window.get(), Qt::Key_Space);
        QCOMPARE(edit->text(), QStringLiteral("1, 15, 27, 99 "));
        QVERIFY(m_window->store().empty());
        // Enter runs the prompt and gives the keyboard back to the run.
        pressKey(m_window.get(), Qt::Key_Return);
        waitForSteps(1);
        QVERIFY(!edit->hasFocus());
        for (int i = 2; i <= 4; ++i) {
            pressKey(m_window.get(), Qt::Key_Space);
            waitForSteps(i);
        }
        QCOMPARE(edit->text(), QStringLiteral("1, 15, 27, 99 "));  // not one space more
        // Clicking Step (the toolbar button, which takes no focus) also leaves the box.
        QTest::mouseClick(edit, Qt::LeftButton);
        QTRY_VERIFY(edit->hasFocus());
        m_window->stepAction()->trigger();
        waitForSteps(5);
        QVERIFY(!edit->hasFocus());
        // Esc leaves the box; then the arrows and Home/End scrub, P plays.
        QTest::mouseClick(edit, Qt::LeftButton);
        QTRY_VERIFY(edit->hasFocus());
        pressKey(m_window.get(), Qt::Key_Escape);
        QVERIFY(!edit->hasFocus());
        QCOMPARE(m_window->store().selectedStep(), 4);
        pressKey(m_window.get(), Qt::Key_Left);
        QCOMPARE(m_window->store().selectedStep(), 3);
        pressKey(m_window.get(), Qt::Key_Home);
        QCOMPARE(m_window->store().selectedStep(), 0);
        pressKey(m_window.get(), Qt::Key_End);
        QCOMPARE(m_window->store().selectedStep(), 4);
        pressKey(m_window.get(), Qt::Key_P);
        QTRY_VERIFY_WITH_TIMEOUT(m_window->store().stepCount(Side::cached) > 5, 20000);
        pressKey(m_window.get(), Qt::Key_P);
        QTRY_VERIFY_WITH_TIMEOUT(!m_window->playing(), 10000);
        QCOMPARE(edit->text(), QStringLiteral("1, 15, 27, 99 "));
    }

    void aTextPromptBecomesTokenIdsForAModelWithoutATokenizer() {
        openFixture(QStringLiteral("tiny-gpt2"));
        m_window->setPrompt(QStringLiteral("Once upon a time"));  // the user's own text…
        openFixture(QStringLiteral("tiny-llama-gqa"));            // …then a model that cannot read it
        QVERIFY2(m_window->prompt() != QStringLiteral("Once upon a time"), qPrintable(m_window->prompt()));
        QSignalSpy errors(m_window.get(), &MainWindow::errorShown);
        m_window->step();
        waitForSteps(1);
        QCOMPARE(errors.count(), 0);
    }

    void theFullContextSwitchesStepAndPlayOffAndSaysWhy() {
        openFixture(QStringLiteral("tiny-gpt2"));
        const int capacity = m_window->store().model().capacity;
        QVERIFY(capacity > 8 && capacity <= 256);
        m_window->setPrompt(QStringLiteral("1, 2, 3, 4, 5, 6, 7, 8"));
        QSignalSpy filled(m_window.get(), &MainWindow::contextFilled);
        m_window->step();
        waitForSteps(1);
        QVERIFY(m_window->stepAction()->isEnabled());
        QVERIFY(m_window->playAction()->isEnabled());
        playToTheEnd();
        const int steps = capacity - 8 + 1;  // the prefill, then one step per position left
        waitForSteps(steps);
        QCOMPARE(m_window->store().trace(Side::cached, steps - 1)->pos_end, capacity);
        QVERIFY(m_window->contextFull());
        QVERIFY(!m_window->stepAction()->isEnabled());
        QVERIFY(!m_window->playAction()->isEnabled());
        QVERIFY2(m_window->stepAction()->toolTip().contains(QStringLiteral("context is full")),
                 qPrintable(m_window->stepAction()->toolTip()));
        QVERIFY2(m_window->statusBar()->currentMessage().contains(QStringLiteral("Context full")),
                 qPrintable(m_window->statusBar()->currentMessage()));
        QCOMPARE(filled.count(), 1);
        for (Side side : kSides)
            QVERIFY2(m_window->pane(side)->statusText().contains(QStringLiteral("context full")),
                     qPrintable(m_window->pane(side)->statusText()));
        const QString html = narration(*m_window);
        QVERIFY2(html.contains(QStringLiteral("The context is full")), qPrintable(html));
        for (const char* remedy : {"stop", "slide a window", "evict"})
            QVERIFY2(html.contains(QLatin1String(remedy)), remedy);
        // A Step asked for anyway (a script) does nothing and says why.
        m_window->step();
        QTest::qWait(300);
        QCOMPARE(m_window->store().stepCount(Side::cached), steps);
        // Looking back, Step continues from there: on again.
        m_window->store().selectStep(steps - 3);
        QVERIFY(!m_window->contextFull());
        QVERIFY(m_window->stepAction()->isEnabled());
        QVERIFY(!m_window->pane(Side::cached)->statusText().contains(QStringLiteral("context full")));
        m_window->store().selectLatest();
        QVERIFY(!m_window->stepAction()->isEnabled());
    }

    void moreStepsThanTheContextHoldsStopAndSaySo() {
        openFixture(QStringLiteral("tiny-gpt2"));
        const int capacity = m_window->store().model().capacity;
        m_window->setPrompt(QStringLiteral("1, 2, 3, 4, 5, 6, 7, 8"));
        QSignalSpy finished(m_window.get(), &MainWindow::stepsFinished);
        QSignalSpy filled(m_window.get(), &MainWindow::contextFilled);
        m_window->stepRepeatedly(capacity + 50);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
        const int done = finished.first().at(0).toInt();
        QCOMPARE(finished.first().at(1).toInt(), capacity + 50);
        QCOMPARE(done, capacity - 8 + 1);
        QCOMPARE(filled.count(), 1);
        QVERIFY(filled.first().at(0).toString().contains(QString::number(capacity)));
    }

    void aCacheVariantGoesOnPastTheContext() {
        // RoPE positions go on: a sinks + window cache (re-indexed) keeps going where the exact cache stops.
        openFixture(QStringLiteral("tiny-llama-gqa"));
        const int capacity = m_window->store().model().capacity;
        QVERIFY(capacity > 8 && capacity <= 256);
        m_window->setRightRun(QStringLiteral("sinks:S=4,W=28"), false);
        m_window->setPrompt(QStringLiteral("1, 2, 3, 4, 5, 6, 7, 8"));
        QSignalSpy finished(m_window.get(), &MainWindow::stepsFinished);
        QSignalSpy filled(m_window.get(), &MainWindow::contextFilled);
        const int exactSteps = capacity - 8 + 1;  // the prefill, then one step per position left
        m_window->stepRepeatedly(exactSteps + 40);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
        QCOMPARE(finished.first().at(0).toInt(), exactSteps + 40);
        const TraceStore& store = m_window->store();
        QCOMPARE(store.stepCount(Side::cached), exactSteps);
        QCOMPARE(store.stepCount(Side::uncached), exactSteps + 40);
        QCOMPARE(store.trace(Side::cached, exactSteps - 1)->pos_end, capacity);
        const StepTrace* past = store.trace(Side::uncached, exactSteps + 39);
        QCOMPARE(past->pos_end, capacity + 40);
        QCOMPARE(past->cache.rows, 32);  // S + W: the memory stays flat
        QVERIFY(past->cache.reindexed);
        QVERIFY(!past->quality.measured);  // no exact run to measure it against
        QVERIFY(!m_window->contextFull());
        QVERIFY(m_window->stepAction()->isEnabled());
        QCOMPARE(filled.count(), 0);
        QVERIFY2(m_window->pane(Side::cached)->statusText().contains(QStringLiteral("context full")),
                 qPrintable(m_window->pane(Side::cached)->statusText()));
        QVERIFY2(m_window->pane(Side::uncached)->statusText().contains(QStringLiteral("past the context")),
                 qPrintable(m_window->pane(Side::uncached)->statusText()));
        const QString html = narration(*m_window);
        QVERIFY2(html.contains(QStringLiteral("past the context")), qPrintable(html));
        QVERIFY2(html.contains(QStringLiteral("<b>40</b> tokens past")), qPrintable(html));
        QVERIFY2(html.contains(QStringLiteral("<b>32 rows</b>")), qPrintable(html));

        // GPT-2's learned positions end at its context: there the variant stops with the exact cache.
        openFixture(QStringLiteral("tiny-gpt2"));
        const int gpt2Capacity = m_window->store().model().capacity;
        m_window->setRightRun(QStringLiteral("window:W=16"), false);
        m_window->setPrompt(QStringLiteral("1, 2, 3, 4, 5, 6, 7, 8"));
        QSignalSpy finished2(m_window.get(), &MainWindow::stepsFinished);
        m_window->stepRepeatedly(gpt2Capacity + 10);
        QTRY_COMPARE_WITH_TIMEOUT(finished2.count(), 1, 120000);
        QCOMPARE(finished2.first().at(0).toInt(), gpt2Capacity - 8 + 1);
        QCOMPARE(m_window->store().stepCount(Side::uncached), gpt2Capacity - 8 + 1);
        QVERIFY(m_window->contextFull());
    }

    void raceLabelsEachRunAtTheSameLength() {
        openFixture(QStringLiteral("tiny-gpt2"));
        m_window->setPrompt(QStringLiteral("1, 2, 3, 4, 5, 6, 7, 8"));
        m_window->step();
        waitForSteps(1);
        playToTheEnd();  // lockstep: both runs' traces, step for step
        TraceStore& store = m_window->store();
        const int steps = store.stepCount(Side::cached);
        std::vector<TraceStore::Step> cached = store.steps(Side::cached),
                                      uncached = store.steps(Side::uncached);
        m_window->setMode(CompareMode::race);  // restarts the runs on the prompt
        QCOMPARE(m_window->runSettings().mode, CompareMode::race);
        waitForSteps(1);
        QTest::qWait(300);
        // A race paused with the cached run at the end of its context and the uncached run far behind.
        store.clear();
        const int behind = steps / 2;
        for (int i = 0; i < steps; ++i)
            store.append(Side::cached, cached[size_t(i)].trace);
        for (int i = 0; i < behind; ++i)
            store.append(Side::uncached, uncached[size_t(i)].trace);
        const StepTrace& u = *store.trace(Side::uncached, behind - 1);
        const StepTrace& sameLength = *store.trace(Side::cached, behind - 1);
        QCOMPARE(store.sameLengthStep(), behind - 1);
        QCOMPARE(sameLength.pos_end, u.pos_end);
        // Each pane describes its own run.
        QVERIFY(m_window->pane(Side::cached)->statusText().contains(QStringLiteral("context full")));
        QVERIFY2(!m_window->pane(Side::uncached)->statusText().contains(QStringLiteral("context")),
                 qPrintable(m_window->pane(Side::uncached)->statusText()));
        QVERIFY(!m_window->contextFull());  // the uncached run can still step
        QVERIFY(m_window->stepAction()->isEnabled());
        // The narration compares at the same length and quotes the uncached run's own bytes.
        const QString html = narration(*m_window);
        const double ratio = double(u.counters.flops()) / double(sameLength.counters.flops());
        const QString ratioText = ratio >= 10 ? QString::number(ratio, 'f', 0) + QStringLiteral("×")
                                              : QString::number(ratio, 'f', 1) + QStringLiteral("×");
        QVERIFY2(html.contains(QStringLiteral("the same length (%1 tokens)").arg(u.pos_end)),
                 qPrintable(html));
        QVERIFY2(html.contains(ratioText), qPrintable(ratioText + QStringLiteral(" in ") + html));
        const ModelConfig& c = store.model().config();
        const QString scratch = formatBytes(double(c.kv_bytes_per_token(4)) * u.pos_end);
        QVERIFY2(html.contains(QStringLiteral("builds <b>%1</b> of scratch").arg(scratch.toHtmlEscaped())),
                 qPrintable(html));
        // Only the cached run is full: the narration says which.
        QVERIFY(html.contains(QStringLiteral("The context is full")));
    }

    void aModeSwitchAsksBeforeDroppingSteps() {
        openFixture(QStringLiteral("tiny-llama-gqa"));
        m_window->setPrompt(QStringLiteral("1, 15, 27, 99"));
        m_window->stepRepeatedly(4);
        waitForSteps(4);
        // R: a question, and nothing dropped yet.
        pressKey(m_window.get(), Qt::Key_R);
        QTRY_VERIFY(m_window->restartQuestion() != nullptr);
        QVERIFY(m_window->restartQuestion()->text().contains(QStringLiteral("3 decode steps")));
        QCOMPARE(m_window->store().stepCount(Side::cached), 4);
        QCOMPARE(m_window->runSettings().mode, CompareMode::lockstep);
        // Keep them: lockstep and the four steps stay.
        QMessageBox* box = m_window->restartQuestion();
        for (QAbstractButton* b : box->buttons())
            if (box->buttonRole(b) == QMessageBox::RejectRole) b->click();
        QTRY_VERIFY(m_window->restartQuestion() == nullptr);
        QCOMPARE(m_window->runSettings().mode, CompareMode::lockstep);
        QCOMPARE(m_window->store().stepCount(Side::cached), 4);
        // Switch: race, restarted on the prompt.
        pressKey(m_window.get(), Qt::Key_R);
        QTRY_VERIFY(m_window->restartQuestion() != nullptr);
        box = m_window->restartQuestion();
        for (QAbstractButton* b : box->buttons())
            if (box->buttonRole(b) == QMessageBox::AcceptRole) b->click();
        QTRY_COMPARE_WITH_TIMEOUT(m_window->runSettings().mode, CompareMode::race, 10000);
        waitForSteps(1);
    }

    void aModelsLoaderNotesAreShown() {
        // Tensors the model does not use: the loader's note reaches the status bar and the model's tooltip.
        QTemporaryDir tmp;
        const std::string dir =
            copy_model_fixture(tmp.path().toStdString(), QStringLiteral("tiny-llama-gqa"));
        append_unused_tensors(dir);
        QSignalSpy ready(m_window.get(), &MainWindow::modelReady);
        m_window->openModel(QString::fromStdString(dir));
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 20000);
        const QString message = m_window->statusBar()->currentMessage();
        QVERIFY2(
            message.contains(QStringLiteral("note: ")) && message.contains(QStringLiteral("extra.scale")),
            qPrintable(message));
        auto* label = m_window->statusBar()->findChild<QLabel*>(QStringLiteral("modelLabel"));
        QVERIFY(label);
        QVERIFY2(
            label->toolTip().contains(QStringLiteral("2 tensors are in the file but not used by the model")),
            qPrintable(label->toolTip()));
        // A clean model has none.
        openFixture(QStringLiteral("tiny-llama-gqa"));
        QVERIFY2(!label->toolTip().contains(QStringLiteral("note:")), qPrintable(label->toolTip()));
    }

    void smallThingsAClassNotices() {
        openFixture(QStringLiteral("tiny-llama-gqa"));
        m_window->setPrompt(QStringLiteral("1, 15, 27, 99"));
        m_window->stepRepeatedly(3);
        waitForSteps(3);
        // Qt adds " — KVScope" to the title itself: the window's own title must not say it again.
        QVERIFY2(!m_window->windowTitle().contains(QStringLiteral("KVScope")),
                 qPrintable(m_window->windowTitle()));
        // The status bar's model description is shown whole at 1280×720.
        auto* label = m_window->statusBar()->findChild<QLabel*>(QStringLiteral("modelLabel"));
        QVERIFY(label);
        QVERIFY2(label->width() >= label->sizeHint().width(),
                 qPrintable(QStringLiteral("%1 px for %2 px of \"%3\"")
                                .arg(label->width())
                                .arg(label->sizeHint().width())
                                .arg(label->text())));
        // The uncached run's rate counts the tokens it processed, not only the one it generated.
        const StepTrace& t = *m_window->store().trace(Side::uncached, 2);
        const std::vector<CounterRow> rows = counterRows(t, 3);
        auto row = [&](const QString& name) {
            for (const CounterRow& r : rows)
                if (r.label == name) return r;
            return CounterRow{};
        };
        QCOMPARE(row(QStringLiteral("processed / s")).step,
                 double(t.counters.tokens_processed) / t.counters.wall_seconds);
        QCOMPARE(row(QStringLiteral("new tokens / s")).step, 1.0 / t.counters.wall_seconds);
        QVERIFY(t.counters.tokens_processed > 1);
        // No doubled full stops in what the app says.
        const QString html = narration(*m_window);
        QVERIFY(!html.contains(QStringLiteral("….")));
        // Wall time is noisy, FLOPs are exact: the narration says so.
        QVERIFY2(html.contains(QStringLiteral("FLOPs are counted exactly")), qPrintable(html));
    }

    void timeIsDrawnAsARunningMedianOverFaintPoints() {
        // One slow step (a spike) does not move the line, so it cannot rescale the chart either.
        std::vector<PlotsRenderer::Point> spike;
        for (int i = 0; i < 12; ++i)
            spike.push_back({double(i), i == 5 ? 100.0 : 1.0});
        for (const PlotsRenderer::Point& p :
             PlotsRenderer::runningMedian(spike, PlotsRenderer::kMedianWindow))
            QCOMPARE(p.y, 1.0);
        // A trend is followed, not lagged: a rising line stays on the points.
        std::vector<PlotsRenderer::Point> rising;
        for (int i = 0; i < 12; ++i)
            rising.push_back({double(i), double(i)});
        const auto median = PlotsRenderer::runningMedian(rising, PlotsRenderer::kMedianWindow);
        for (size_t i = 4; i + 4 < median.size(); ++i)
            QCOMPARE(median[i].y, rising[i].y);
        // On the real charts: each run's measured times are faint points under its median line.
        openFixture(QStringLiteral("tiny-llama-gqa"));
        m_window->setPrompt(QStringLiteral("1, 15, 27, 99"));
        m_window->stepRepeatedly(6);
        waitForSteps(6);
        const auto charts = PlotsRenderer::charts(m_window->store());
        const PlotsRenderer::Chart& time = charts[0];
        QVERIFY(time.logScaleOffered);
        int faint = 0, lines = 0, prefills = 0;
        for (const PlotsRenderer::Series& s : time.series) {
            if (s.prefill) {  // the prefill is its own marker (the pause before the first token)
                QCOMPARE(int(s.points.size()), 1);
                ++prefills;
                continue;
            }
            QCOMPARE(int(s.points.size()), 5);  // the decode steps
            (s.faint ? faint : lines) += 1;
        }
        QCOMPARE(faint, 2);
        QCOMPARE(lines, 2);
        QCOMPARE(prefills, 2);
    }

    void exportsForSlides() {
        openFixture(QStringLiteral("tiny-llama-gqa"));
        m_window->setPrompt(QStringLiteral("1, 15, 27, 99"));
        m_window->stepRepeatedly(3);
        waitForSteps(3);
        const TraceStore& store = m_window->store();
        // The caption that carries each step's narration quotes this step's own numbers.
        const QString caption = stepCaption(store);
        const StepTrace& u = *store.trace(Side::uncached, 2);
        QVERIFY2(caption.startsWith(QStringLiteral("Step 2: ")), qPrintable(caption));
        QVERIFY2(caption.contains(QStringLiteral("recomputed all %1 tokens (%2")
                                      .arg(u.pos_end)
                                      .arg(formatFlops(double(u.counters.flops())))),
                 qPrintable(caption));
        ExportSettings s;
        s.narrate = true;
        s.format = ExportFormat::png;
        s.size = QSize(1280, 720);
        Result<ExportSettings> resolved = resolveExportSettings(s, ExportHistory::of(store));
        QVERIFY2(resolved, resolved ? "" : resolved.message().c_str());
        auto frames = ViewFrames::create(ExportHistory::of(store), *resolved);
        QVERIFY2(frames, frames ? "" : frames.message().c_str());
        QVERIFY((*frames)->renderFrame(0).is_ok());
        // Text grows with the frame: a 720p export has the app's own type size, 1080p half as large again.
        QCOMPARE(exportPixelScale(s), 1.0f);
        s.size = QSize(1920, 1080);
        QCOMPARE(exportPixelScale(s), 1.5f);
        // `kvscope export --narrate` asks for the same caption.
        Result<ExportCommand> c =
            parseExportCommand({QStringLiteral("export"), QStringLiteral("--prompt"), QStringLiteral("1"),
                                QStringLiteral("--steps"), QStringLiteral("2"), QStringLiteral("--out"),
                                QStringLiteral("a.gif"), QStringLiteral("--narrate")});
        QVERIFY2(c, c ? "" : c.message().c_str());
        QVERIFY(c->settings.narrate);
        // A new export goes to the videos folder (or the last one used), not the bare home folder.
        QVERIFY(ExportDialog::defaultExportFolder() != QDir::homePath());
        // File ▸ Export takes the Scale up view's choices from the window, not the view's defaults.
        ScaleSettings& scale = m_window->scaleSettings();
        const ScaleSettings before = scale;
        scale.context = 1048576;
        scale.kv = Precision::int4;
        scale.conversations = 8;
        scale.model = QStringLiteral("Llama-3.1-8B");
        scale.accelerator = QStringLiteral("Groq LPU (one chip, on-chip SRAM)");
        ExportDialog dialog(store, ThemeKind::dark);
        m_window->prepareExportDialog(dialog);
        const ExportSettings e = dialog.settings();
        scale = before;
        QCOMPARE(e.scaleContext, QStringLiteral("1M"));
        QCOMPARE(e.scaleKv, QStringLiteral("int4"));
        QCOMPARE(e.scaleConversations, 8);
        QCOMPARE(e.scaleModel, QStringLiteral("Llama-3.1-8B"));
        QCOMPARE(e.scaleAccelerator, QStringLiteral("Groq LPU (one chip, on-chip SRAM)"));
        QCOMPARE(e.size, dialog.settings().size);  // the rest is the dialog's own
    }
};

QTEST_MAIN(ClassroomGuiTest)
#include "test_classroom_gui.moc"
