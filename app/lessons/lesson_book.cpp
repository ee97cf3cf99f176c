#include "lessons/lesson_book.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cassert>

#include "export/export_settings.h"
#include "kvscope/cache_policy.h"
#include "lessons/lesson_text.h"
#include "lessons/lesson_values.h"

namespace kvscope::app {

namespace {

struct ActionName {
    LessonActionKind kind;
    const char* name;
};
constexpr ActionName kActions[] = {
    {LessonActionKind::none, "none"},
    {LessonActionKind::prefill, "prefill"},
    {LessonActionKind::step, "step"},
    {LessonActionKind::scrub, "scrub"},
    {LessonActionKind::latest, "latest"},
    {LessonActionKind::allHeads, "all-heads"},
    {LessonActionKind::oneHead, "one-head"},
    {LessonActionKind::layer, "layer"},
    {LessonActionKind::race, "race"},
    {LessonActionKind::lockstep, "lockstep"},
    {LessonActionKind::rightRun, "right-run"},
    {LessonActionKind::runConversations, "run-conversations"},
    {LessonActionKind::secondTurn, "second-turn"},
};

Status fail(const QString& message) {
    return Status::error(message.toStdString());
}

Result<QJsonObject> readJson(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("%1: cannot read it (%2)").arg(path, f.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &error);
    if (error.error != QJsonParseError::NoError)
        return fail(QStringLiteral("%1: not valid JSON at byte %2: %3")
                        .arg(path)
                        .arg(error.offset)
                        .arg(error.errorString()));
    if (!doc.isObject()) return fail(QStringLiteral("%1: expected a JSON object at the top").arg(path));
    return doc.object();
}

// A text field: a string, or an array of strings joined as paragraphs (long texts read better that way).
Result<QString> text(const QJsonObject& o, const QString& key, const QString& where, bool required) {
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull()) {
        if (required) return fail(QStringLiteral("%1: \"%2\" is missing").arg(where, key));
        return QString();
    }
    if (v.isString()) return v.toString();
    if (v.isArray()) {
        QStringList parts;
        for (const QJsonValue& p : v.toArray()) {
            if (!p.isString())
                return fail(QStringLiteral("%1: \"%2\" must hold strings only").arg(where, key));
            parts << p.toString();
        }
        return parts.join(QStringLiteral("\n\n"));
    }
    return fail(QStringLiteral("%1: \"%2\" must be a string or an array of strings").arg(where, key));
}

Result<int> integer(const QJsonObject& o, const QString& key, const QString& where, int low, int high,
                    int fallback) {
    const QJsonValue v = o.value(key);
    if (v.isUndefined()) return fallback;
    if (!v.isDouble() || v.toDouble() != double(v.toInt()) || v.toInt() < low || v.toInt() > high)
        return fail(QStringLiteral("%1: \"%2\" must be a whole number from %3 to %4")
                        .arg(where, key)
                        .arg(low)
                        .arg(high));
    return v.toInt();
}

Result<LessonAction> parseAction(const QJsonValue& v, const QString& where) {
    LessonAction a;
    QString name;
    QJsonObject o;
    if (v.isUndefined()) return a;
    if (v.isString()) {
        name = v.toString();
    } else if (v.isObject()) {
        o = v.toObject();
        name = o.value(QStringLiteral("do")).toString();
    } else {
        return fail(QStringLiteral("%1: \"action\" must be a name or {\"do\": name, …}").arg(where));
    }
    bool found = false;
    for (const ActionName& n : kActions)
        if (name == QLatin1String(n.name)) {
            a.kind = n.kind;
            found = true;
        }
    if (!found) {
        QStringList names;
        for (const ActionName& n : kActions)
            names << QLatin1String(n.name);
        return fail(QStringLiteral("%1: unknown action \"%2\" (known: %3)")
                        .arg(where, name, names.join(QStringLiteral(", "))));
    }
    Result<int> times = integer(o, QStringLiteral("times"), where, 1, 500, 1);
    if (!times) return times.status();
    a.times = *times;
    Result<int> layer = integer(o, QStringLiteral("layer"), where, 0, 1000, 0);
    if (!layer) return layer.status();
    a.layer = *layer;
    if (a.kind == LessonActionKind::rightRun) {
        const QJsonValue run = o.value(QStringLiteral("run"));
        if (!run.isString())
            return fail(QStringLiteral("%1: \"right-run\" needs \"run\": a cache variant spec (\"int4\") or "
                                       "\"\" for the run without a cache")
                            .arg(where));
        a.run = run.toString();
        if (!a.run.isEmpty()) {
            Result<CachePolicy> policy = parse_cache_variant(a.run.toStdString());
            if (!policy)
                return fail(
                    QStringLiteral("%1: \"run\": %2").arg(where, QString::fromStdString(policy.message())));
        }
    }
    return a;
}

Status checkMarkup(const QString& text, const QString& where, const QList<GlossaryTerm>& glossary,
                   const LessonBook& book) {
    for (const QString& name : lessonPlaceholders(text))
        if (!isLessonValueName(name))
            return fail(QStringLiteral("%1: unknown live number {%2}").arg(where, name));
    for (const QString& link : lessonLinks(text))
        if (!book.term(link))
            return fail(QStringLiteral("%1: [[%2]] is not in the glossary").arg(where, link));
    for (const QString& paragraph : text.split(QStringLiteral("\n\n")))
        if (paragraph.count(QStringLiteral("**")) % 2 != 0)
            return fail(
                QStringLiteral("%1: a ** (bold) is not closed in \"%2\"").arg(where, paragraph.left(60)));
    (void)glossary;
    return Status::ok();
}

Result<LessonChapter> parseChapter(const QString& root, const QString& file, int number,
                                   const LessonBook& book) {
    const QString path = root + QLatin1Char('/') + file;
    Result<QJsonObject> json = readJson(path);
    if (!json) return json.status();
    const QJsonObject& o = *json;
    LessonChapter c;
    c.file = file;
    c.number = number;
    Result<QString> title = text(o, QStringLiteral("title"), file, true);
    if (!title) return title.status();
    c.title = *title;
    Result<QString> prompt = text(o, QStringLiteral("prompt"), file, true);
    if (!prompt) return prompt.status();
    c.prompt = *prompt;
    for (const char* key : {"question", "answer"}) {
        Result<QString> t = text(o, QLatin1String(key), file, true);
        if (!t) return t.status();
        KVSCOPE_TRY(checkMarkup(*t, file + QStringLiteral(" \"") + QLatin1String(key) + QLatin1Char('"'),
                                book.glossary, book));
        (key[0] == 'q' ? c.question : c.answer) = *t;
    }
    const QJsonValue pages = o.value(QStringLiteral("pages"));
    if (!pages.isArray() || pages.toArray().isEmpty())
        return fail(QStringLiteral("%1: \"pages\" must be a non-empty array").arg(file));
    const QStringList views = lessonViewIds();
    int index = 0;
    for (const QJsonValue& pv : pages.toArray()) {
        ++index;
        const QString where = QStringLiteral("%1, page %2").arg(file).arg(index);
        if (!pv.isObject()) return fail(QStringLiteral("%1: expected an object").arg(where));
        const QJsonObject po = pv.toObject();
        for (const QString& key : po.keys())
            if (!QStringList{QStringLiteral("text"), QStringLiteral("highlight"), QStringLiteral("action"),
                             QStringLiteral("notice"), QStringLiteral("caption")}
                     .contains(key))
                return fail(QStringLiteral("%1: unknown key \"%2\"").arg(where, key));
        LessonPage page;
        Result<QString> t = text(po, QStringLiteral("text"), where, true);
        if (!t) return t.status();
        page.text = *t;
        Result<QString> notice = text(po, QStringLiteral("notice"), where, false);
        if (!notice) return notice.status();
        page.notice = *notice;
        Result<QString> caption = text(po, QStringLiteral("caption"), where, true);
        if (!caption) return caption.status();
        page.caption = *caption;
        page.highlight = po.value(QStringLiteral("highlight")).toString();
        if (!page.highlight.isEmpty() && !views.contains(page.highlight))
            return fail(QStringLiteral("%1: unknown view \"%2\" to highlight (known: %3)")
                            .arg(where, page.highlight, views.join(QStringLiteral(", "))));
        Result<LessonAction> action = parseAction(po.value(QStringLiteral("action")), where);
        if (!action) return action.status();
        page.action = *action;
        // A switch of the right pane's run restarts both runs from the prompt: it goes before the run.
        if (page.action.kind == LessonActionKind::rightRun && c.stepsAskedFor() > 0)
            return fail(QStringLiteral("%1: \"right-run\" must come before the first step (a switch restarts "
                                       "both runs)")
                            .arg(where));
        for (const QString* s : {&page.text, &page.notice, &page.caption})
            KVSCOPE_TRY(checkMarkup(*s, where, book.glossary, book));
        c.pages << page;
    }
    // The run must start before anything is shown: the first page that asks for something asks for a step.
    if (c.stepsAskedFor() < 1) return fail(QStringLiteral("%1: no page asks for a step").arg(file));
    if (c.stepsAskedFor() > 400)
        return fail(
            QStringLiteral("%1: the pages ask for %2 steps (at most 400)").arg(file).arg(c.stepsAskedFor()));
    const QJsonObject ex = o.value(QStringLiteral("export")).toObject();
    if (ex.contains(QStringLiteral("view"))) {
        c.exportPlan.view = ex.value(QStringLiteral("view")).toString();
        if (!parseView(c.exportPlan.view))
            return fail(QStringLiteral("%1: \"export\": unknown view \"%2\"").arg(file, c.exportPlan.view));
    }
    Result<int> layer =
        integer(ex, QStringLiteral("layer"), file + QStringLiteral(" \"export\""), 0, 1000, 0);
    if (!layer) return layer.status();
    c.exportPlan.layer = *layer;
    if (ex.value(QStringLiteral("head")).toString() == QLatin1String("all")) {
        c.exportPlan.allHeads = true;
    } else {
        Result<int> head =
            integer(ex, QStringLiteral("head"), file + QStringLiteral(" \"export\""), 0, 1000, 0);
        if (!head) return head.status();
        c.exportPlan.head = *head;
    }
    c.exportPlan.uncachedRun = ex.value(QStringLiteral("run")).toString() == QLatin1String("uncached");
    return c;
}

}  // namespace

QString lessonActionName(LessonActionKind kind) {
    for (const ActionName& n : kActions)
        if (n.kind == kind) return QLatin1String(n.name);
    return QString();
}

int LessonChapter::stepsAskedFor() const {
    int steps = 0;
    for (const LessonPage& p : pages)
        if (p.action.kind == LessonActionKind::step)
            steps += p.action.times;
        else if (p.action.kind == LessonActionKind::prefill)
            steps = 1;  // a prefill starts the run again
    return steps;
}

QString LessonChapter::rightRun() const {
    QString run;
    for (const LessonPage& p : pages)
        if (p.action.kind == LessonActionKind::rightRun) run = p.action.run;
    return run;
}

const GlossaryTerm* LessonBook::term(const QString& name) const {
    for (const GlossaryTerm& t : glossary) {
        if (t.term.compare(name, Qt::CaseInsensitive) == 0) return &t;
        for (const QString& a : t.also)
            if (a.compare(name, Qt::CaseInsensitive) == 0) return &t;
    }
    return nullptr;
}

QStringList lessonViewIds() {
    QStringList ids;
    for (const char* view : {"tokens", "kv-cache", "attention", "counters"}) {
        ids << QLatin1String(view);
        ids << QLatin1String(view) + QStringLiteral(":cached")
            << QLatin1String(view) + QStringLiteral(":uncached");
    }
    ids << QStringLiteral("plots") << QStringLiteral("explanation") << QStringLiteral("timeline")
        << QStringLiteral("step-button") << QStringLiteral("prompt") << QStringLiteral("mode")
        << QStringLiteral("right-run") << QStringLiteral("conversations");
    return ids;
}

Result<LessonBook> loadLessonBook(const QString& root) {
    Result<QJsonObject> index = readJson(root + QStringLiteral("/index.json"));
    if (!index) return index.status();
    LessonBook book;
    const QString glossaryFile = index->value(QStringLiteral("glossary")).toString();
    if (glossaryFile.isEmpty())
        return fail(QStringLiteral("%1/index.json: \"glossary\" is missing").arg(root));
    Result<QJsonObject> glossary = readJson(root + QLatin1Char('/') + glossaryFile);
    if (!glossary) return glossary.status();
    int n = 0;
    for (const QJsonValue& tv : glossary->value(QStringLiteral("terms")).toArray()) {
        ++n;
        const QString where = QStringLiteral("%1, term %2").arg(glossaryFile).arg(n);
        const QJsonObject to = tv.toObject();
        GlossaryTerm t;
        t.term = to.value(QStringLiteral("term")).toString();
        if (t.term.isEmpty()) return fail(QStringLiteral("%1: \"term\" is missing").arg(where));
        Result<QString> def = text(to, QStringLiteral("definition"), where, true);
        if (!def) return def.status();
        t.definition = *def;
        for (const QJsonValue& a : to.value(QStringLiteral("also")).toArray())
            t.also << a.toString();
        if (book.term(t.term)) return fail(QStringLiteral("%1: \"%2\" is defined twice").arg(where, t.term));
        book.glossary << t;
    }
    if (book.glossary.isEmpty()) return fail(QStringLiteral("%1: \"terms\" is empty").arg(glossaryFile));
    // Definitions may link to other terms, and name no live numbers (they are read without a run).
    for (const GlossaryTerm& t : book.glossary) {
        const QString where = QStringLiteral("%1, \"%2\"").arg(glossaryFile, t.term);
        for (const QString& link : lessonLinks(t.definition))
            if (!book.term(link))
                return fail(QStringLiteral("%1: [[%2]] is not in the glossary").arg(where, link));
        if (!lessonPlaceholders(t.definition).isEmpty())
            return fail(QStringLiteral("%1: a definition cannot hold live numbers").arg(where));
    }
    const QJsonValue chapters = index->value(QStringLiteral("chapters"));
    if (!chapters.isArray() || chapters.toArray().isEmpty())
        return fail(QStringLiteral("%1/index.json: \"chapters\" must be a non-empty array").arg(root));
    int number = 0;
    for (const QJsonValue& cv : chapters.toArray()) {
        Result<LessonChapter> c = parseChapter(root, cv.toString(), ++number, book);
        if (!c) return c.status();
        book.chapters << *c;
    }
    return book;
}

const LessonBook& shippedLessons() {
    static const LessonBook book = [] {
        Result<LessonBook> loaded = loadLessonBook();
        assert(loaded && "the shipped lessons (assets/lessons) do not load: run test_lessons for the reason");
        return loaded ? *loaded : LessonBook{};
    }();
    return book;
}

}  // namespace kvscope::app
