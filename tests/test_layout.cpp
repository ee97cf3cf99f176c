// The window's layout in a classroom: at 1280×720 and 1920×1080, in every theme, normal and presenter
// mode, with the embedded 4-layer model, a 12-layer GPT-2-shaped model and a 30-layer model with 9 query /
// 3 KV heads (SmolLM2-135M's shape, narrower): no view may cut text ("…" or past its edge) or draw a part
// below its minimum readable size — measured by the views themselves (LayoutReport: the ImGui text
// extents against the rectangles they had) — and no label of the panes may be cut. Also what the views
// show at many layers and long contexts: every layer in the KV view's overview, the recomputed rows proven
// equal to the cached ones from the real traces, tooltips whole on the screen, attention that opens on an
// informative head with per-row scaling.
#include <QDockWidget>
#include <QLabel>
#include <QProcess>
#include <QScreen>
#include <QSignalSpy>
#include <QTabBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "kvscope/attention_stats.h"
#include "kvscope/default_model.h"
#include "main_window.h"
#include "pane_widget.h"
#include "presenter_widget.h"
#include "scale_panel.h"
#include "support/fixtures.h"
#include "views/floating_tip.h"
#include "views/gl_view.h"
#include "views/headline_renderer.h"
#include "views/heatmap_draw.h"
#include "views/kv_cache_renderer.h"

using namespace kvscope;
using namespace kvscope::app;

namespace {

QString ids(int n, int vocab) {
    QStringList items;
    for (int i = 0; i < n; ++i)
        items << QString::number((i * 37 + 11) % vocab);
    return items.join(QStringLiteral(", "));
}

QString describe(const GlView* v) {
    return QStringLiteral("%1 (%2)").arg(QString::fromLatin1(v->renderer()->name()), sideTitle(v->side()));
}

}  // namespace

class LayoutTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;

    void makeModel(const QString& name, const QStringList& args) {
        QProcess p;
        p.start(QStringLiteral(KVSCOPE_CLI),
                QStringList{QStringLiteral("make-model"), m_dir.filePath(name)} + args);
        QVERIFY2(p.waitForFinished(120000), "kvscope-cli make-model did not finish");
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    }

    void open(const QString& path, const QString& prompt, int presses) {
        if (m_window && m_window->presenterMode()) m_window->setPresenterMode(false);
        m_window->showNormal();
        QSignalSpy ready(m_window.get(), &MainWindow::modelReady);
        m_window->openModel(path);
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 60000);
        m_window->setPrompt(prompt);
        QSignalSpy done(m_window.get(), &MainWindow::stepsFinished);
        m_window->stepRepeatedly(presses);
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 120000);
        QCOMPARE(m_window->store().stepCount(Side::uncached), presses);
    }

    // Every visible view drawn now at the window's size; the faults they report, and cut pane labels.
    QStringList faults() {
        QStringList out;
        QTest::qWait(50);
        for (GlView* v : m_window->glViews()) {
            if (!v->isVisible() || v->width() <= 0) continue;
            v->renderNow();
            for (const LayoutReport::Cut& c : v->layoutReport().cuts)
                out << QStringLiteral("%1: text cut: \"%2\" needs %3 px, has %4")
                           .arg(describe(v), c.text)
                           .arg(double(c.needed), 0, 'f', 0)
                           .arg(double(c.available), 0, 'f', 0);
            for (const QString& s : v->layoutReport().tooSmall)
                out << QStringLiteral("%1: too small: %2").arg(describe(v), s);
        }
        if (!m_window->presenterMode())
            for (const QString& f : panesOutOfLine())
                out << f;
        for (const QString& f : kvRowsOutOfLine())
            out << f;
        // Dock tabs: a tab narrower than its title needs shows it elided.
        QTest::qWait(20);  // the queued fit of the dock titles
        for (QTabBar* bar : m_window->findChildren<QTabBar*>(QString(), Qt::FindDirectChildrenOnly)) {
            if (!bar->isVisible()) continue;  // (the window's hidden measuring bar among them)
            for (int i = 0; i < bar->count(); ++i) {
                const int needed = m_window->tabWidthNeeded(bar, bar->tabText(i));
                const QRect r = bar->tabRect(i);
                const int has = MainWindow::isVerticalTabBar(bar) ? r.height() : r.width();
                if (has < needed)
                    out << QStringLiteral("dock tab cut: \"%1\" needs %2 px, has %3")
                               .arg(bar->tabText(i))
                               .arg(needed)
                               .arg(has);
            }
        }
        QWidget* central = m_window->centralWidget();
        for (QLabel* label : central->findChildren<QLabel*>()) {
            if (!label->isVisible() || label->wordWrap() || label->text().isEmpty() ||
                Qt::mightBeRichText(label->text()))
                continue;
            const int needed = label->fontMetrics().horizontalAdvance(label->text());
            if (needed > label->contentsRect().width())
                out << QStringLiteral("label cut: \"%1\" needs %2 px, has %3")
                           .arg(label->text())
                           .arg(needed)
                           .arg(label->contentsRect().width());
        }
        return out;
    }

    // Both panes show the same rows side by side: each view starts at the same height in both.
    QStringList panesOutOfLine() {
        QStringList out;
        const QList<GlView*> left = m_window->pane(Side::cached)->views();
        const QList<GlView*> right = m_window->pane(Side::uncached)->views();
        for (int i = 0; i < int(left.size()); ++i) {
            if (!left[i]->isVisible() || !right[i]->isVisible()) continue;
            const int a = left[i]->mapToGlobal(QPoint(0, 0)).y(), b = right[i]->mapToGlobal(QPoint(0, 0)).y();
            if (a != b || left[i]->height() != right[i]->height())
                out << QStringLiteral("panes out of line: %1 at y %2 (%3 px tall) and %4 (%5 px)")
                           .arg(describe(left[i]))
                           .arg(a)
                           .arg(left[i]->height())
                           .arg(b)
                           .arg(right[i]->height());
        }
        return out;
    }

    // Inside the visible KV views (the panes', or presenter mode's page): both runs' rows start at the
    // same height on the screen.
    QStringList kvRowsOutOfLine() {
        std::array<double, kSideCount> top{-1, -1};
        const int layer = m_window->store().layer();
        for (GlView* v : m_window->glViews()) {
            auto* kv = dynamic_cast<KvCacheRenderer*>(v->renderer());
            if (!kv || !v->isVisible()) continue;
            const QRectF r = kv->headRect(layer, true, 0);  // framebuffer pixels
            if (r.isEmpty()) continue;
            top[size_t(sideIndex(v->side()))] =
                v->mapToGlobal(QPoint(0, 0)).y() + r.top() / v->devicePixelRatioF();
        }
        if (top[0] < 0 || top[1] < 0 || std::abs(top[0] - top[1]) <= 0.5) return {};
        return {QStringLiteral("KV rows out of line: layer %1 starts at y %2 and %3")
                    .arg(layer)
                    .arg(top[0])
                    .arg(top[1])};
    }

    // Every size, theme and mode for the model now loaded.
    void checkEveryLayout(const QString& model) {
        const QSize sizes[] = {QSize(1280, 720), QSize(1920, 1080)};
        QStringList failures;
        for (bool presenter : {false, true}) {
            m_window->setPresenterMode(presenter);
            for (const QSize& size : sizes) {
                m_window->showNormal();
                m_window->resize(size);
                for (ThemeKind theme : {ThemeKind::dark, ThemeKind::light, ThemeKind::projector}) {
                    m_window->setTheme(theme);
                    m_window->setFontScale(presenter || size.height() > 900 ? 1.0f : 0.85f);
                    const int pages = presenter ? PresenterWidget::pageCount : 1;
                    for (int page = 0; page < pages; ++page) {
                        if (presenter) m_window->presenter()->showPage(page);
                        for (const QString& f : faults())
                            failures << QStringLiteral("%1 · %2x%3 · %4%5 · %6")
                                            .arg(model)
                                            .arg(size.width())
                                            .arg(size.height())
                                            .arg(themeKindName(theme),
                                                 presenter
                                                     ? QStringLiteral(" · presenter page %1").arg(page + 1)
                                                     : QString(),
                                                 f);
                    }
                }
            }
        }
        m_window->setPresenterMode(false);
        failures.removeDuplicates();
        for (const QString& f : failures)
            qWarning("%s", qPrintable(f));
        QVERIFY2(failures.isEmpty(),
                 qPrintable(QStringLiteral("%1 layout faults (listed above), the first: %2")
                                .arg(failures.size())
                                .arg(failures.value(0))));
    }

  private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        makeModel(QStringLiteral("gpt2-12"),
                  {QStringLiteral("--arch"), QStringLiteral("gpt2"), QStringLiteral("--layers"),
                   QStringLiteral("12"), QStringLiteral("--heads"), QStringLiteral("12"),
                   QStringLiteral("--d-model"), QStringLiteral("96"), QStringLiteral("--vocab"),
                   QStringLiteral("320"), QStringLiteral("--context"), QStringLiteral("256")});
        makeModel(QStringLiteral("smol-30"),
                  {QStringLiteral("--layers"), QStringLiteral("30"), QStringLiteral("--heads"),
                   QStringLiteral("9"), QStringLiteral("--kv-heads"), QStringLiteral("3"),
                   QStringLiteral("--d-model"), QStringLiteral("144"), QStringLiteral("--vocab"),
                   QStringLiteral("320"), QStringLiteral("--context"), QStringLiteral("256")});
        MainWindow::Options options;
        options.openDefaultModel = false;
        options.useSettings = false;
        m_window = std::make_unique<MainWindow>(options);
        m_window->resize(1280, 720);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    }
    void cleanupTestCase() { m_window.reset(); }

    void embeddedModelFitsEveryLayout() {
        const std::string path = find_default_model("");
        QVERIFY2(!path.empty(), "the embedded model is missing");
        open(QString::fromStdString(path),
             QStringLiteral("ROMEO: But soft, what light through yonder window breaks?"), 12);
        checkEveryLayout(QStringLiteral("embedded"));
    }

    void panesLineUpWhenOneHeaderWraps() {
        m_window->setPresenterMode(false);
        m_window->showNormal();
        m_window->resize(1280, 720);
        PaneWidget* left = m_window->pane(Side::cached);
        PaneWidget* right = m_window->pane(Side::uncached);
        const QString leftNote = left->note(), rightNote = right->note();
        left->setNote(QString());
        right->setNote(QString());
        QTest::qWait(100);
        const int oneLine = right->headerHeight();
        QCOMPARE(left->headerHeight(), oneLine);
        right->setNote(
            QStringLiteral("a long note that cannot fit on one line of a pane at 1280 by 720, so it "
                           "wraps onto a second and a third line of the header"));
        QTest::qWait(100);
        QVERIFY2(right->headerHeight() > oneLine, "the note should have wrapped");
        QCOMPARE(left->headerHeight(), right->headerHeight());
        QVERIFY2(panesOutOfLine().isEmpty(), qPrintable(panesOutOfLine().join(QStringLiteral("; "))));
        right->setNote(QString());
        QTest::qWait(100);
        QCOMPARE(right->headerHeight(), oneLine);
        QCOMPARE(left->headerHeight(), oneLine);
        left->setNote(leftNote);
        right->setNote(rightNote);
    }

    void aScaleTabRaisedGetsTheRoomItNeeds() {
        // The Scale up tab in the band below the panes: raised (as a click on its tab does), the band grows
        // to 45% of the window and the table and the narration fit (no "too small"); Plots raised again gives
        // the band about its height back.
        m_window->setPresenterMode(false);
        m_window->showNormal();
        m_window->resize(1920, 1080);
        m_window->setTheme(ThemeKind::dark);
        m_window->setFontScale(1.0f);
        QTest::qWait(100);
        QDockWidget* plots = m_window->findChild<QDockWidget*>(QStringLiteral("plotsDock"));
        QDockWidget* scale = m_window->findChild<QDockWidget*>(QStringLiteral("scaleDock"));
        QVERIFY(plots && scale);
        plots->raise();
        QTest::qWait(100);
        const int band = plots->height();
        // A 1280x720 layout before closed it; at 1920x1080 it starts as a tab beside Plots.
        scale->show();
        m_window->tabifyDockWidget(plots, scale);
        plots->raise();
        QTest::qWait(100);
        scale->raise();
        QTRY_VERIFY2(scale->height() >= m_window->height() * 40 / 100,  // 45% asked, less the panes' minimum
                     qPrintable(QString::number(scale->height())));
        GlView* view = m_window->scalePanel()->view();
        view->renderNow();
        QVERIFY2(view->layoutReport().tooSmall.isEmpty(),
                 qPrintable(view->layoutReport().tooSmall.join("; ")));
        // (Long names are still shortened with an ellipsis at narrower widths: not checked here.)
        const int grown = scale->height();
        plots->raise();
        // Back to about the band's height (resizeDocks counts the tab bar its own way: within 60 px).
        QTRY_VERIFY2(
            plots->height() < grown - 150 && std::abs(plots->height() - band) <= 60,
            qPrintable(
                QStringLiteral("%1 px, was %2 before, %3 grown").arg(plots->height()).arg(band).arg(grown)));
        // Leave the layout as the next tests expect it: the band at its height, the Scale up tab closed.
        scale->hide();
        m_window->resizeDocks({plots}, {band}, Qt::Vertical);
        QTest::qWait(100);
    }

    void tooltipsShowWholeOnTheScreen() {
        // The token strip is a few lines tall; its tooltip (probability and the top-5) is taller.
        m_window->showNormal();
        m_window->resize(1280, 720);
        QTest::qWait(50);
        GlView* strip = m_window->pane(Side::uncached)->tokenStrip();
        GlView* kv = m_window->pane(Side::uncached)->kvCacheView();
        const QRect screen = m_window->screen()->availableGeometry();
        bool shown = false;
        for (GlView* view : {strip, kv}) {
            // Sweep the pointer over the view, right to left and top to bottom, until a tooltip shows.
            for (int i = 1; i <= 40 && !FloatingTip::instance()->isVisible(); ++i)
                for (int j = 1; j <= 12; ++j) {
                    view->hoverAt(QPointF(view->width() * (1.0 - 0.025 * i), view->height() * j / 13.0));
                    if (FloatingTip::instance()->isVisible()) break;
                }
            QVERIFY2(FloatingTip::instance()->isVisible(),
                     qPrintable(describe(view) + ": no tooltip showed"));
            FloatingTip* tip = FloatingTip::instance();
            QVERIFY2(screen.contains(tip->geometry()),
                     qPrintable(QStringLiteral("tooltip %1,%2 %3x%4 leaves the screen")
                                    .arg(tip->x())
                                    .arg(tip->y())
                                    .arg(tip->width())
                                    .arg(tip->height())));
            QVERIFY(tip->height() >= tip->heightForWidth(tip->width()) || !tip->wordWrap());
            QVERIFY(tip->width() >= tip->sizeHint().width() || tip->wordWrap());
            QVERIFY(tip->lines().size() >= 3);
            view->leaveHover();
            QVERIFY(!tip->isVisible());
            shown = true;
        }
        QVERIFY(shown);
    }

    void rebuiltRowsAreProvenEqualFromTheTraces() {
        const TraceStore& store = m_window->store();
        const int last = store.stepCount(Side::uncached) - 1;
        const TraceStore::Step& step = store.step(Side::uncached, last);
        const StepTrace& t = *step.trace;
        QVERIFY(step.recompute);
        QCOMPARE(step.recompute->rows, t.pos_begin);
        QCOMPARE(step.recompute->diff.n_rows, t.pos_begin);
        // Independently: the uncached trace recorded every row it rebuilt (a small model); the cached run's
        // history holds each row as the step that wrote it.
        const int hd = t.head_dim, kvh = t.n_kv_heads;
        float worst = 0;
        for (int l = 0; l < int(t.kv.size()); ++l) {
            const LayerKV& u = t.kv[size_t(l)];
            QCOMPARE(u.row_begin, 0);
            for (int r = 0; r < t.pos_begin; ++r) {
                float rowMax = 0;
                for (int i = 0; i < store.stepCount(Side::cached); ++i) {
                    const LayerKV& c = store.trace(Side::cached, i)->kv[size_t(l)];
                    if (r < c.row_begin || r >= c.row_begin + c.n_rows) continue;
                    for (int h = 0; h < kvh; ++h)
                        for (int d = 0; d < hd; ++d) {
                            const size_t ci = (size_t(h) * c.n_rows + size_t(r - c.row_begin)) * hd + d;
                            const size_t ui = (size_t(h) * u.n_rows + size_t(r)) * hd + d;
                            rowMax = std::max(rowMax, std::fabs(c.k[ci] - u.k[ui]));
                            rowMax = std::max(rowMax, std::fabs(c.v[ci] - u.v[ui]));
                        }
                }
                QCOMPARE(step.recompute->diff.at(l, r), rowMax);
                worst = std::max(worst, rowMax);
            }
        }
        QCOMPARE(step.recompute->maxAbs, worst);
        QVERIFY2(worst <= 1e-4f, qPrintable(QString::number(double(worst))));
        // The rows rebuilt so far are the run's own counter.
        QCOMPARE(store.rowsRebuiltUpTo(last), int64_t(t.cumulative.tokens_recomputed));
        // Older steps keep the summary only.
        if (last > 1) QVERIFY(store.step(Side::uncached, last - 1).recompute->diff.row_max.empty());
    }

    void headlineComparesBothRunsAtOneLength() {
        const TraceStore& store = m_window->store();
        const QStringList lines = HeadlineRenderer::lines(store);
        QCOMPARE(lines.size(), 3);
        const StepTrace* c = store.trace(Side::cached, store.stepFor(Side::cached));
        const StepTrace* u = store.trace(Side::uncached, store.stepFor(Side::uncached));
        QCOMPARE(c->pos_end, u->pos_end);
        QVERIFY(lines[1].contains(formatFlops(double(c->counters.flops()))));
        QVERIFY(lines[1].contains(formatFlops(double(u->counters.flops()))));
    }

    void attentionOpensOnAnInformativeHeadAndScalesRows() {
        TraceStore& store = m_window->store();
        const HeadScore best =
            informative_head(*store.trace(Side::cached, 0), store.model().config().n_heads);
        QCOMPARE(store.layer(), best.layer);
        QCOMPARE(store.head(), best.head);
        // Per-row scaling and the log scale put a row's largest weight at the top and 1e-4 of it at the
        // bottom.
        QCOMPARE(attentionColourPosition(0.01f, 0.01f, WeightScale::linear, true), 1.0f);
        QCOMPARE(attentionColourPosition(0.01f, 1.0f, WeightScale::linear, false), 0.01f);
        QVERIFY(std::fabs(attentionColourPosition(1e-6f, 0.01f, WeightScale::log, true) - 0.0f) < 1e-6f);
        QVERIFY(std::fabs(attentionColourPosition(1e-3f, 0.01f, WeightScale::log, true) - 0.75f) < 1e-5f);
        QVERIFY(std::fabs(attentionColourPosition(0.25f, 1.0f, WeightScale::sqrt, false) - 0.5f) < 1e-6f);
    }

    void twelveLayersFitEveryLayout() {
        open(m_dir.filePath(QStringLiteral("gpt2-12")), ids(20, 320), 10);
        checkEveryLayout(QStringLiteral("12 layers"));
    }

    void thirtyLayersShowEveryLayer() {
        open(m_dir.filePath(QStringLiteral("smol-30")), ids(20, 320), 10);
        m_window->showNormal();
        m_window->resize(1280, 720);
        GlView* kv = m_window->pane(Side::cached)->kvCacheView();
        kv->renderNow();
        auto* renderer = static_cast<KvCacheRenderer*>(kv->renderer());
        QCOMPARE(renderer->overviewLayers(), 30);
        // The selected layer in detail: every KV head's K and V drawn.
        for (int h = 0; h < 3; ++h)
            QVERIFY(!renderer->headRect(m_window->store().layer(), true, h).isEmpty());
        checkEveryLayout(QStringLiteral("30 layers"));
    }
};

QTEST_MAIN(LayoutTest)
#include "test_layout.moc"
