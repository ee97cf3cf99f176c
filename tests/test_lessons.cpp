// The guided lessons (app/lessons, assets/lessons): the shipped chapters and glossary load; a chapter with
// an unknown live number, glossary link, action or view is refused with its file named; and every chapter
// runs end to end in the window, driven through the lesson panel (each page's action done with the panel's
// "Do it for me", which makes the requests the toolbar makes), with every live number filled in and equal
// to the value read here, independently, from the trace it names.
// Needs OpenGL 3.3 (the window's views): CTest runs it under Xvfb.
#include <QDockWidget>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "app_paths.h"
#include "conversations/conversations_panel.h"
#include "format.h"
#include "kvscope/scale.h"
#include "lessons/glossary_dialog.h"
#include "lessons/lesson_book.h"
#include "lessons/lesson_pack.h"
#include "lessons/lesson_panel.h"
#include "lessons/lesson_text.h"
#include "main_window.h"
#include "support/video_decode.h"
#include "token_text.h"

using namespace kvscope;
using namespace kvscope::app;

namespace {

// ---- the oracle: each live number read straight from the traces, written here without the app's table --
struct Expected {
    double number = NAN;
    QString text;
};

QString ratioText(double r) {
    return r >= 10 ? QString::number(r, 'f', 0) + QStringLiteral("×")
                   : QString::number(r, 'f', 1) + QStringLiteral("×");
}
QString intensityText(double r) {
    return QString::number(r, 'f', r >= 10 ? 0 : 1) + QStringLiteral(" FLOP/B");
}

std::optional<Expected> oracle(const TraceStore& store, const QString& name,
                               const ConversationsPanel* conv = nullptr) {
    auto count0 = [](double v) { return Expected{v, formatCount(uint64_t(std::llround(v)))}; };
    // The Conversations view's numbers: its last finished run and its last second turn, as it keeps them.
    if (name.startsWith(QLatin1String("conv.")) && conv && conv->lastSnapshot() &&
        conv->lastSnapshot()->finished) {
        const ConversationsSnapshot& sn = *conv->lastSnapshot();
        auto b = [](double v) { return Expected{v, formatBytes(v)}; };
        const QString f = name.mid(5);
        if (f == "count") return count0(double(sn.tokens.size()));
        if (f == "budget") return b(double(sn.paged.budget_bytes));
        if (f == "block_tokens") return count0(sn.paged.block_size);
        if (f == "reservation_tokens") return count0(sn.reserved.sequences.at(0).reserved_tokens);
        if (f == "paged_held") return count0(double(sn.paged.sequences.size()));
        if (f == "reserved_held") return count0(double(sn.reserved.sequences.size()));
        if (f == "paged_allocated") return b(double(sn.paged.bytes_allocated));
        if (f == "reserved_allocated") return b(double(sn.reserved.bytes_allocated));
        if (f == "paged_wasted") return b(double(sn.paged.bytes_allocated - sn.paged.bytes_holding_tokens));
        if (f == "reserved_wasted")
            return b(double(sn.reserved.bytes_allocated - sn.reserved.bytes_holding_tokens));
        if (f == "prefix_reused") return count0(sn.prefixReused);
        if (f == "sharing_saved_flops") {
            const double v = double(sn.unsharedCounters.flops()) - double(sn.pagedCounters.flops());
            return Expected{v, formatFlops(v)};
        }
        return std::nullopt;
    }
    // Published models: the catalog's shapes (read with the core's loader), the formulas written out here.
    if (name.startsWith(QLatin1String("scale."))) {
        const Result<ReferenceCatalog> catalog = load_reference_catalog(
            find_reference_catalog(QCoreApplication::applicationDirPath().toStdString()));
        if (!catalog) return std::nullopt;
        auto shape = [&](const char* n) -> const ModelShape* {
            for (const ModelShape& m : catalog->models)
                if (m.name == n) return &m;
            return nullptr;
        };
        const ModelShape *llama2 = shape("Llama-2-7B"), *llama3 = shape("Llama-3.1-8B"),
                         *llama70 = shape("Llama-3.1-70B"), *deepseek = shape("DeepSeek-V3");
        if (!llama2 || !llama3 || !llama70 || !deepseek) return std::nullopt;
        // K and V, per layer and KV head, head_dim numbers of 2 bytes; MLA: one latent of rank + rope dims.
        auto gqa = [](const ModelShape& m) { return 2.0 * m.layers * m.n_kv_heads * m.head_dim * 2.0; };
        auto b = [](double v) { return Expected{v, formatBytes(v)}; };
        const QString f = name.mid(6);
        if (f == "llama2_7b_kv") return b(gqa(*llama2));
        if (f == "llama3_8b_kv") return b(gqa(*llama3));
        if (f == "llama3_8b_conv") return b(gqa(*llama3) * llama3->context);
        if (f == "llama3_8b_weights") return b(llama3->params * 2.0);
        if (f == "llama3_70b_kv") return b(gqa(*llama70));
        if (f == "llama3_70b_conv") return b(gqa(*llama70) * llama70->context);
        if (f == "llama3_70b_weights") return b(llama70->params * 2.0);
        if (f == "deepseek_v3_kv")
            return b(double(deepseek->kv_lora_rank + deepseek->qk_rope_head_dim) * deepseek->layers * 2.0);
        if (f == "gqa_saving") {
            const double r = gqa(*llama2) / gqa(*llama3);
            return Expected{r, ratioText(r)};
        }
        return std::nullopt;
    }
    if (name.startsWith(QLatin1String("turn.")) && conv && conv->lastTurn()) {
        const SecondTurn& t = *conv->lastTurn();
        const QString f = name.mid(5);
        if (f == "history_tokens") return count0(t.history_tokens);
        if (f == "new_tokens") return count0(t.turn2_tokens);
        if (f == "ttft_cached") return Expected{t.ttft_cached_seconds, formatSeconds(t.ttft_cached_seconds)};
        if (f == "ttft_uncached")
            return Expected{t.ttft_uncached_seconds, formatSeconds(t.ttft_uncached_seconds)};
        if (f == "speedup") {
            const double r = t.ttft_uncached_seconds / t.ttft_cached_seconds;
            return Expected{r, ratioText(r)};
        }
        if (f == "flops_cached") return Expected{double(t.flops_cached), formatFlops(double(t.flops_cached))};
        if (f == "flops_uncached")
            return Expected{double(t.flops_uncached), formatFlops(double(t.flops_uncached))};
        return std::nullopt;
    }
    const int s = store.stepFor(Side::cached);
    const StepTrace& c = *store.trace(Side::cached, s);
    const StepTrace* u = store.trace(Side::uncached, store.stepFor(Side::uncached));
    const StepTrace& p = *store.trace(Side::cached, 0);
    const Tokenizer* tok = store.model().tokenizer.get();
    auto count = [](double v) { return Expected{v, formatCount(uint64_t(std::llround(v)))}; };
    auto flops = [](double v) { return Expected{v, formatFlops(v)}; };
    auto bytes = [](double v) { return Expected{v, formatBytes(v)}; };
    auto secs = [](double v) { return Expected{v, formatSeconds(v)}; };
    auto ratio = [](double v) { return Expected{v, ratioText(v)}; };
    auto inten = [](double v) { return Expected{v, intensityText(v)}; };
    const double perToken = double(c.counters.total().kv_written) / (c.pos_end - c.pos_begin);
    const double perValue = perToken / (2.0 * c.n_layers * c.n_kv_heads * c.head_dim);
    const double readAll = double(c.counters.total().weight_bytes + c.counters.total().kv_read);
    const double prefillRead = double(p.counters.total().weight_bytes + p.counters.total().kv_read);

    if (name == "model.layers") return count(c.n_layers);
    if (name == "model.heads") return count(c.n_heads);
    if (name == "model.kv_heads") return count(c.n_kv_heads);
    if (name == "model.head_dim") return count(c.head_dim);
    if (name == "model.group") return count(c.n_heads / c.n_kv_heads);
    if (name == "model.context") return count(c.capacity);
    if (name == "model.vocab") return count(c.vocab_size);
    if (name == "prompt.tokens") return count(p.pos_end);
    if (name == "step.index") return count(s);
    if (name == "step.length") return count(c.pos_end);
    if (name == "step.position") return count(c.pos_begin);
    if (name == "step.fed") return Expected{NAN, tokenQuoted(tok, c.input_tokens.at(0))};
    if (name == "step.next") return Expected{NAN, tokenQuoted(tok, c.chosen)};
    if (name == "step.next_prob")
        return Expected{c.chosen_prob, QString::number(100.0 * c.chosen_prob, 'f', 0) + "%"};
    if (name == "step.logit_diff") {
        const double d = store.step(Side::cached, s).maxLogitDiff;
        return Expected{d, QString::number(d, 'g', 2)};
    }
    for (const char* run : {"cached.", "uncached."}) {
        if (!name.startsWith(QLatin1String(run))) continue;
        const StepTrace& t = run[0] == 'c' ? c : *u;
        const QString f = name.mid(qsizetype(strlen(run)));
        const OpCounters all = t.counters.total();
        if (f == "flops_step") return flops(double(t.counters.flops()));
        if (f == "flops_total") return flops(double(t.cumulative.flops()));
        if (f == "attention_flops_step") return flops(double(t.counters[OpClass::attention].flops));
        if (f == "time_step") return secs(t.counters.wall_seconds);
        if (f == "time_total") return secs(t.cumulative.wall_seconds);
        if (f == "tokens_step") return count(double(t.counters.tokens_processed));
        if (f == "recomputed_step") return count(double(t.counters.tokens_recomputed));
        if (f == "recomputed_total") return count(double(t.cumulative.tokens_recomputed));
        if (f == "kv_bytes") return bytes(double(t.counters.kv_bytes_resident));
        if (f == "kv_peak") return bytes(double(t.counters.kv_bytes_peak));
        if (f == "kv_written_step") return bytes(double(all.kv_written));
        if (f == "kv_read_step") return bytes(double(all.kv_read));
        if (f == "weights_read_step") return bytes(double(all.weight_bytes));
        if (f == "bytes_read_step") return bytes(double(all.weight_bytes + all.kv_read));
        if (f == "intensity_step") return inten(double(all.flops) / double(all.weight_bytes + all.kv_read));
    }
    if (name == "ratio.flops_step") return ratio(double(u->counters.flops()) / double(c.counters.flops()));
    if (name == "ratio.flops_total")
        return ratio(double(u->cumulative.flops()) / double(c.cumulative.flops()));
    if (name == "ratio.time_step") return ratio(u->counters.wall_seconds / c.counters.wall_seconds);
    if (name == "ratio.time_total") return ratio(u->cumulative.wall_seconds / c.cumulative.wall_seconds);
    if (name == "prefill.tokens") return count(p.pos_end - p.pos_begin);
    if (name == "prefill.flops") return flops(double(p.counters.flops()));
    if (name == "prefill.time") return secs(p.counters.wall_seconds);
    if (name == "prefill.time_per_token") return secs(p.counters.wall_seconds / (p.pos_end - p.pos_begin));
    if (name == "prefill.intensity") return inten(double(p.counters.flops()) / prefillRead);
    if (name == "prefill.weights_read") return bytes(double(p.counters.total().weight_bytes));
    if (name == "decode.time_per_token") {
        double sum = 0;
        for (int i = 1; i <= s; ++i)
            sum += store.trace(Side::cached, i)->counters.wall_seconds;
        return secs(sum / s);
    }
    if (name == "decode.intensity") return inten(double(c.counters.flops()) / readAll);
    if (name == "ratio.intensity")
        return ratio((double(p.counters.flops()) / prefillRead) / (double(c.counters.flops()) / readAll));
    if (name == "kv.bytes_per_token") return bytes(perToken);
    if (name == "kv.bytes_per_value") return count(perValue);
    if (name == "kv.rows_per_token") return count(2.0 * c.n_layers * c.n_kv_heads);
    if (name == "kv.mha_bytes_per_token") return bytes(perValue * 2.0 * c.n_layers * c.n_heads * c.head_dim);
    if (name == "kv.weights_bytes") return bytes(double(c.counters.total().weight_bytes));
    if (name == "kv.tokens_to_match_weights")
        return count(double(c.counters.total().weight_bytes) / perToken);
    if (name.startsWith(QLatin1String("variant."))) {
        // The right pane's run, a cache variant: its own trace at the selected step.
        if (!u || u->mode != SessionMode::cached || u->cache.policy == "exact") return std::nullopt;
        const Quality& q = u->quality;
        auto tiny = [](double v) { return Expected{v, QString::number(v, 'g', 2)}; };
        const QString f = name.mid(8);
        if (f == "bytes_per_value") return tiny(u->cache.bytes_per_value);
        if (f == "kv_bytes") return bytes(double(u->counters.kv_bytes_resident));
        if (f == "kv_bytes_full") return bytes(double(u->counters.kv_bytes_full));
        if (f == "saved") {
            const double v = 1.0 - double(u->counters.kv_bytes_resident) / double(u->counters.kv_bytes_full);
            return Expected{v, QString::number(100.0 * v, 'f', 0) + "%"};
        }
        if (f == "rows") return count(u->cache.rows);
        if (f == "tokens_evicted")
            return count(double(u->cumulative.kv_rows_evicted) / double(u->n_layers * u->n_kv_heads));
        if (f == "kl") return tiny(q.kl);
        if (f == "kl_mean") return tiny(q.kl_sum / double(q.steps));
        if (f == "top1_agreements") return count(double(q.top1_agreements));
        if (f == "steps_compared") return count(double(q.steps));
        if (f == "max_logit_diff") return tiny(q.max_abs_logit_diff_so_far);
    }
    return std::nullopt;
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Pages of a PDF: its /Type /Page objects (not the /Pages tree).
int pdfPageCount(const QByteArray& pdf) {
    int n = 0;
    for (qsizetype at = pdf.indexOf("/Type /Page"); at >= 0; at = pdf.indexOf("/Type /Page", at + 1))
        if (pdf.mid(at + 11, 1) != "s") ++n;
    return n;
}

void writeFile(const QString& path, const QByteArray& text) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

}  // namespace

class LessonsTest : public QObject {
    Q_OBJECT
    std::unique_ptr<MainWindow> m_window;

    // Checks what the panel shows now: no markup left, every number it filled equal to the oracle's.
    void checkShown(const LessonPanel& panel, const QString& where, bool allMeasured) {
        const QString plain = panel.currentPlainText();
        QVERIFY2(!plain.contains(QLatin1Char('{')) && !plain.contains(QStringLiteral("[[")),
                 qPrintable(where + ": markup shown raw: " + plain));
        if (allMeasured)
            QVERIFY2(panel.notMeasuredYet().isEmpty(),
                     qPrintable(where + ": not measured: " + panel.notMeasuredYet().join(", ")));
        for (const LessonValue& v : panel.shownValues()) {
            const std::optional<Expected> e = oracle(m_window->store(), v.name, m_window->conversations());
            QVERIFY2(e, qPrintable(where + ": the test has no oracle for {" + v.name + "}"));
            if (!std::isnan(e->number))
                QVERIFY2(
                    v.number == e->number || std::fabs(v.number - e->number) <= 1e-12 * std::fabs(e->number),
                    qPrintable(QStringLiteral("%1: {%2} = %3, the trace says %4 (%5)")
                                   .arg(where, v.name)
                                   .arg(v.number, 0, 'g', 17)
                                   .arg(e->number, 0, 'g', 17)
                                   .arg(v.source)));
            QVERIFY2(v.text == e->text, qPrintable(QStringLiteral("%1: {%2} shown as '%3', expected '%4'")
                                                       .arg(where, v.name, v.text, e->text)));
            QVERIFY2(panel.currentHtml().contains(v.text.toHtmlEscaped()),
                     qPrintable(where + ": " + v.text + " is not in the page"));
        }
    }

  private slots:
    void initTestCase() {
        MainWindow::Options options;
        options.openDefaultModel = false;
        options.useSettings = false;
        m_window = std::make_unique<MainWindow>(options);
        m_window->resize(1600, 1000);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        QSignalSpy ready(m_window.get(), &MainWindow::modelReady);
        const QString model = defaultModelPath();
        QVERIFY2(!model.isEmpty(), "the embedded model was not found");
        m_window->openModel(model);
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 30000);
        m_window->conversations()->setStepDelayMs(0);  // chapter 10 runs the conversations flat out
    }
    void cleanupTestCase() { m_window.reset(); }

    void shippedLessonsLoad() {
        Result<LessonBook> book = loadLessonBook();
        QVERIFY2(book, book.message().c_str());
        QVERIFY(book->chapters.size() >= 8);
        QVERIFY(book->glossary.size() >= 30);
        // The words the brief asks the glossary for.
        for (const char* term :
             {"token",    "prefill",      "decode",   "K",         "V",       "Q",
              "FLOP",     "KiB",          "MiB",      "GQA",       "MLA",     "head",
              "layer",    "logit",        "KV cache", "attention", "context", "perplexity",
              "KL",       "quantization", "eviction", "page",      "block",   "prefix caching",
              "roofline", "bandwidth"})
            QVERIFY2(book->term(QLatin1String(term)), term);
        for (const LessonChapter& c : book->chapters) {
            QVERIFY2(!c.pages.isEmpty(), qPrintable(c.file));
            for (const LessonPage& p : c.pages)
                QVERIFY2(!p.caption.isEmpty(), qPrintable(c.file));
        }
    }

    void badChaptersAreRefused_data() {
        QTest::addColumn<QByteArray>("chapter");
        QTest::addColumn<QString>("error");
        const QByteArray page = R"("caption": "c", "highlight": "kv-cache")";
        auto chapter = [&](const QByteArray& pageBody) {
            return R"({"title": "t", "prompt": "p", "question": "q", "answer": "a", "pages": [{)" + pageBody +
                   "}]}";
        };
        QTest::newRow("unknown number") << chapter(R"("text": "{cached.flops_stepp}", )" + page)
                                        << "unknown live number {cached.flops_stepp}";
        QTest::newRow("misspelt number")
            << chapter(R"("text": "{Cached flops}", )" + page) << "unknown live number {Cached flops}";
        QTest::newRow("unknown term") << chapter(R"("text": "a [[flux capacitor]]", )" + page)
                                      << "[[flux capacitor]] is not in the glossary";
        QTest::newRow("unknown action")
            << chapter(R"("text": "x", "action": "jump", )" + page) << "unknown action \"jump\"";
        QTest::newRow("unknown view") << chapter(R"("text": "x", "caption": "c", "highlight": "kv-cash")")
                                      << "unknown view \"kv-cash\"";
        QTest::newRow("no step") << chapter(R"("text": "x", )" + page) << "no page asks for a step";
        QTest::newRow("too many steps")
            << chapter(R"("text": "x", "action": {"do": "step", "times": 500}, )" + page)
            << "the pages ask for 500 steps";
        QTest::newRow("switch after the run started") << chapter(R"("text": "x", "action": "step", )" + page +
                                                                 R"(}, {"text": "y", "action": {"do": )"
                                                                 R"("right-run", "run": "int4"}, )" +
                                                                 page)
                                                      << "\"right-run\" must come before the first step";
        QTest::newRow("unknown cache variant")
            << chapter(R"("text": "x", "action": {"do": "right-run", "run": "int3"}, )" + page)
            << "\"run\": ";
        QTest::newRow("no caption") << chapter(R"("text": "x")") << "\"caption\" is missing";
        QTest::newRow("not json") << QByteArray("{\"title\": ") << "not valid JSON";
    }
    void badChaptersAreRefused() {
        QFETCH(QByteArray, chapter);
        QFETCH(QString, error);
        QTemporaryDir dir;
        writeFile(dir.filePath("index.json"),
                  R"({"chapters": ["01-bad.json"], "glossary": "glossary.json"})");
        writeFile(dir.filePath("glossary.json"),
                  R"({"terms": [{"term": "token", "definition": "a piece"}]})");
        writeFile(dir.filePath("01-bad.json"), chapter);
        Result<LessonBook> book = loadLessonBook(dir.path());
        QVERIFY(!book);
        const QString message = QString::fromStdString(book.message());
        QVERIFY2(message.contains("01-bad.json") && message.contains(error), qPrintable(message));
    }

    void textMarkup() {
        TraceStore empty;
        Result<FilledText> f =
            fillLessonText("a [[KV cache|cache]] and **bold**", &empty, LessonTextFormat::html);
        QVERIFY2(f, f.message().c_str());
        QCOMPARE(f->text,
                 QStringLiteral("<p>a <a href=\"glossary:KV%20cache\">cache</a> and <b>bold</b></p>"));
        Result<FilledText> plain =
            fillLessonText("a [[KV cache|cache]] and **bold**", &empty, LessonTextFormat::plain);
        QCOMPARE(plain->text, QStringLiteral("a cache and bold"));
        // Nothing has run: a number is not measured yet, and is never made up.
        Result<FilledText> none = fillLessonText("{cached.flops_step}", &empty, LessonTextFormat::plain);
        QVERIFY(!none);
        QStringList notYet;
        Result<FilledText> later =
            fillLessonText("x {cached.flops_step}", &empty, LessonTextFormat::plain, &notYet);
        QVERIFY(later);
        QCOMPARE(later->text, QStringLiteral("x …"));
        QCOMPARE(notYet, QStringList{"cached.flops_step"});
    }

    void everyValueHasAnOracle() {
        // After a prefill and one decode step every value is measured: each must match the oracle.
        LessonPanel* panel = m_window->lessons();
        panel->startChapter(0);
        m_window->stepRepeatedly(2);
        QTRY_COMPARE_WITH_TIMEOUT(m_window->store().stepCount(Side::uncached), 2, 30000);
        for (const LessonValueInfo& info : lessonValueNames()) {
            if (QLatin1String(info.name).startsWith(QLatin1String("conv.")) ||
                QLatin1String(info.name).startsWith(QLatin1String("turn.")))
                continue;  // the Conversations view's: checked when chapter 10 runs it
            if (QLatin1String(info.name).startsWith(QLatin1String("variant."))) {
                // Without a cache on the right there is no variant: said, never made up.
                Result<LessonValue> none = lessonValue(m_window->store(), QLatin1String(info.name));
                QVERIFY2(!none && none.message().find("without a cache") != std::string::npos, info.name);
                continue;
            }
            Result<LessonValue> v = lessonValue(m_window->store(), QLatin1String(info.name));
            QVERIFY2(v, v.message().c_str());
            const std::optional<Expected> e = oracle(m_window->store(), v->name);
            QVERIFY2(e, qPrintable("no oracle for {" + v->name + "}"));
            QVERIFY2(e->text == v->text, qPrintable(v->name + ": " + v->text + " vs " + e->text));
        }
    }

    void everyVariantValueHasAnOracle() {
        // With a cache variant that quantizes and one that evicts on the right: every variant.* value
        // measured, equal to the oracle's reading of the right run's trace.
        for (const char* spec : {"int4", "h2o:B=16,R=8"}) {
            LessonPanel* panel = m_window->lessons();
            panel->startChapter(0);
            // Longer than the eviction budget, so that tokens are dropped.
            m_window->setPrompt("ROMEO: But soft, what light through yonder window breaks? It is the east.");
            m_window->setRightRun(QLatin1String(spec), false);
            m_window->stepRepeatedly(3);
            QTRY_COMPARE_WITH_TIMEOUT(m_window->store().stepCount(Side::uncached), 3, 30000);
            for (const LessonValueInfo& info : lessonValueNames()) {
                if (!QLatin1String(info.name).startsWith(QLatin1String("variant."))) continue;
                Result<LessonValue> v = lessonValue(m_window->store(), QLatin1String(info.name));
                QVERIFY2(v, (std::string(spec) + ": " + v.message()).c_str());
                const std::optional<Expected> e = oracle(m_window->store(), v->name);
                QVERIFY2(e, qPrintable("no oracle for {" + v->name + "}"));
                QVERIFY2(e->text == v->text, qPrintable(QLatin1String(spec) + ": " + v->name + ": " +
                                                        v->text + " vs " + e->text));
            }
            if (QLatin1String(spec).startsWith(QLatin1String("h2o"))) {
                // It holds its budget and has dropped the rest.
                QCOMPARE(lessonValue(m_window->store(), "variant.rows")->number, 16.0);
                QVERIFY(lessonValue(m_window->store(), "variant.tokens_evicted")->number > 0);
            }
        }
        m_window->setRightRun(QString(), false);
    }

    void everyChapterRunsThroughThePanel_data() {
        QTest::addColumn<int>("chapter");
        for (const LessonChapter& c : shippedLessons().chapters)
            QTest::newRow(qPrintable(c.file)) << c.number - 1;
    }
    void everyChapterRunsThroughThePanel() {
        QFETCH(int, chapter);
        LessonPanel* panel = m_window->lessons();
        const LessonChapter& c = panel->book().chapters[chapter];
        panel->startChapter(chapter);
        QCOMPARE(m_window->prompt(), c.prompt);
        QVERIFY(m_window->store().empty());
        for (int i = 0; i < c.pages.size(); ++i) {
            const QString where = QStringLiteral("%1, page %2").arg(c.file).arg(i + 1);
            QCOMPARE(panel->page(), i);
            const LessonPage& page = c.pages[i];
            // The page outlines the view it names.
            if (!page.highlight.isEmpty()) {
                QVERIFY2(!panel->highlighted().isEmpty(), qPrintable(where + ": nothing outlined"));
                QCOMPARE(panel->highlighted(), panel->targetsFor(page.highlight));
            }
            // Its text is readable before the action: every number in it measured already.
            checkShown(*panel, where + " (opened)", true);
            // Next waits for the action.
            if (page.action.kind != LessonActionKind::none) {
                QVERIFY2(!panel->actionDone(), qPrintable(where + ": done before the action"));
                QVERIFY(!panel->next());
                panel->doAction();
            }
            QTRY_VERIFY2_WITH_TIMEOUT(panel->actionDone(), qPrintable(where + ": the action never completed"),
                                      60000);
            // Let the last step's answer settle (the panel reacts to the store on the same thread).
            QTRY_VERIFY_WITH_TIMEOUT(
                m_window->store().stepCount(Side::uncached) == m_window->store().stepCount(Side::cached),
                30000);
            panel->refresh();
            checkShown(*panel, where + " (done)", true);
            // Its caption (for the lesson pack's clips) fills in too, and fits two lines of a slide.
            const ConversationsResults conversations = panel->conversationsResults();
            Result<FilledText> caption = fillLessonText(page.caption, &m_window->store(),
                                                        LessonTextFormat::plain, nullptr, &conversations);
            QVERIFY2(caption, caption.message().c_str());
            QVERIFY2(caption->text.size() <= 120, qPrintable(where + ": caption too long: " + caption->text));
            QVERIFY(panel->next());
        }
        QVERIFY(panel->onQuestion());
        checkShown(*panel, c.file + " question", true);
        panel->revealAnswer();
        checkShown(*panel, c.file + " answer", true);
        QVERIFY(panel->currentPlainText().contains(QStringLiteral("Answer")));
        // The run took the steps the chapter asks for: the prefill is step 0.
        QCOMPARE(m_window->store().stepCount(Side::cached), c.stepsAskedFor());
    }

    // The lesson pack of one chapter from the command line without a display, and the same chapter written
    // in this process: the files are there and open, and the same model and options give the same pixels.
    void lessonPackFromTheCommandLine() {
        const LessonBook& book = shippedLessons();
        const int chapter = 7;  // GQA and MLA: captions without wall times, so every pixel must repeat
        const LessonChapter& c = book.chapters[chapter - 1];
        QTemporaryDir dir;
        const QString cliOut = dir.filePath("cli");
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
            env.remove(QString::fromLatin1(name));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(KVSCOPE_APP),
                {"export", "--lesson", QString::number(chapter), "--out", cliOut});
        QVERIFY(p.waitForFinished(300000));
        const QString err = QString::fromLocal8Bit(p.readAllStandardError());
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, qPrintable(err));
        QVERIFY2(err.contains("no display"), qPrintable(err));
        const QString slug = QFileInfo(c.file).completeBaseName();
        for (const char* suffix : {".mp4", ".gif", ".png", ".svg", ".pdf"})
            QVERIFY2(QFileInfo::exists(cliOut + "/" + slug + suffix), suffix);
        QVERIFY(readAll(cliOut + "/index.html").contains(slug.toUtf8() + ".mp4"));
        // The clips decode, at the sizes asked for, with a frame for every step and every hold.
        const LessonPackOptions defaults;
        const int perStep = int(std::lround(defaults.stepSeconds * defaults.fps));
        const int hold = int(std::lround(defaults.holdSeconds * defaults.fps));
        const int frames = c.stepsAskedFor() * perStep + int(c.pages.size()) * hold;
        const test::DecodedVideo mp4 = test::decodeVideo(cliOut + "/" + slug + ".mp4");
        QVERIFY2(mp4.error.isEmpty(), qPrintable(mp4.error));
        QCOMPARE(mp4.codec, QStringLiteral("h264"));
        QCOMPARE(QSize(mp4.width, mp4.height), defaults.videoSize);
        QCOMPARE(int(mp4.frames.size()), frames);
        const test::DecodedVideo gif = test::decodeVideo(cliOut + "/" + slug + ".gif");
        QVERIFY2(gif.error.isEmpty(), qPrintable(gif.error));
        QCOMPARE(QSize(gif.width, gif.height), defaults.gifSize);
        QCOMPARE(int(gif.frames.size()), frames);
        // A one-page PDF; an SVG; a PNG of the clip's size.
        const QByteArray pdf = readAll(cliOut + "/" + slug + ".pdf");
        QVERIFY(pdf.startsWith("%PDF-"));
        QCOMPARE(pdfPageCount(pdf), 1);
        QVERIFY(readAll(cliOut + "/" + slug + ".svg").contains("<svg"));
        QCOMPARE(QImage(cliOut + "/" + slug + ".png").size(), defaults.videoSize);

        // Deterministic: the same chapter written here gives the same still and the same clips, bit for bit.
        LessonPackOptions o;
        o.out = dir.filePath("here");
        o.chapters = {chapter};
        Result<LessonPackResult> here = writeLessonPack(book, o);
        QVERIFY2(here, here.message().c_str());
        for (const char* suffix : {".png", ".gif", ".mp4", ".svg"})
            QVERIFY2(readAll(o.out + "/" + slug + suffix) == readAll(cliOut + "/" + slug + suffix), suffix);
        // An existing folder is kept unless forced.
        Result<LessonPackResult> again = writeLessonPack(book, o);
        QVERIFY(!again);
        QVERIFY2(QString::fromStdString(again.message()).contains(o.out), again.message().c_str());
    }

    void glossaryLinksOpenTheirEntry() {
        LessonPanel* panel = m_window->lessons();
        panel->startChapter(2);
        QSignalSpy asked(panel, &LessonPanel::glossaryRequested);
        QVERIFY(panel->currentHtml().contains("href=\"glossary:attention\""));
        GlossaryDialog* g = m_window->showGlossary("attention");
        QVERIFY(g->isVisible());
        QCOMPARE(g->currentTerm(), QStringLiteral("attention"));
        QVERIFY(g->showTerm("keys"));  // another spelling
        QCOMPARE(g->currentTerm(), QStringLiteral("K"));
        // F1 with no term: the keyboard shortcuts, read from the window's actions.
        g = m_window->showGlossary();
        QVERIFY(g->currentHtml().contains("Space"));
        QVERIFY(g->currentHtml().contains("Step"));
        g->close();
    }
};

QTEST_MAIN(LessonsTest)
#include "test_lessons.moc"
