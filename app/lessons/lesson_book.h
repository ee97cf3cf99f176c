// lesson_book.h — the guided lessons as data: chapters, their pages, and the glossary, read from
// assets/lessons/ (compiled in as Qt resources under :/lessons, or any folder with the same files).
//
// Files (JSON, UTF-8):
//   index.json      {"chapters": ["01-one-token.json", …], "glossary": "glossary.json"} — the order of the
//                   chapters; adding a chapter is one entry here and one file.
//   NN-name.json    one chapter:
//     "title"       shown as "Chapter N — title"
//     "prompt"      the prompt the chapter starts from (the panel sets it and runs the prefill)
//     "pages"       [{ "text", "highlight", "action", "notice", "caption" }, …]:
//                   text     what the student reads when the page opens
//                   highlight the view outlined while the page is open (lessonViewIds())
//                   action   what to wait for: "none", "prefill", "step" (with "times"), "scrub",
//                            "latest", "all-heads", "one-head", "layer" (with "layer"), "race",
//                            "lockstep", "right-run" (with "run": a cache variant spec, "int4", or ""
//                            for the run without a cache; only before the first step, since a switch
//                            restarts both runs), "run-conversations" (Run in the Conversations view,
//                            waited for until it finishes), "second-turn" (its chat's Turn 2); as a string
//                            ("step") or an object {"do": "step", "times": 3}
//                   notice   "what to notice", shown once the action is done
//                   caption  one or two short lines burned into the exported clip from that point on
//     "question", "answer"  asked at the end (the answer is revealed on request)
//     "export"      {"view": an export view name, "layer": n, "head": n | "all", "run": "cached"|"uncached"}
//   glossary.json   {"terms": [{"term", "also": [other spellings], "definition"}]}
// Text may hold live numbers, {name} (lesson_values.h), and glossary links, [[term]] or [[term|shown text]].
// Every error names the file and the key (and, for pages, the page number).
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include "kvscope/status.h"

namespace kvscope::app {

enum class LessonActionKind {
    none,
    prefill,
    step,
    scrub,
    latest,
    allHeads,
    oneHead,
    layer,
    race,
    lockstep,
    rightRun,
    runConversations,
    secondTurn
};
QString lessonActionName(LessonActionKind kind);  // "step", "all-heads", …

struct LessonAction {
    LessonActionKind kind = LessonActionKind::none;
    int times = 1;  // step: how many presses
    int layer = 0;  // layer: which one
    QString run;    // right-run: the cache variant spec for the right pane ("" : without a cache)
};

struct LessonPage {
    QString text;
    QString highlight;  // a lessonViewIds() entry, or empty
    LessonAction action;
    QString notice;
    QString caption;
};

struct LessonExport {
    QString view = QStringLiteral("side-by-side");  // an ExportView name
    int layer = 0;
    int head = 0;
    bool allHeads = false;
    bool uncachedRun = false;
};

struct LessonChapter {
    QString file;  // e.g. "01-one-token.json"
    int number = 0;
    QString title;
    QString prompt;
    QList<LessonPage> pages;
    QString question, answer;
    LessonExport exportPlan;

    // Presses of Step the pages ask for (the first runs the prefill, step 0): the steps a run of the
    // chapter ends with.
    int stepsAskedFor() const;
    // What the right pane runs in this chapter: the spec a "right-run" page switches to (they come before
    // the first step), or "" for the run without a cache.
    QString rightRun() const;
};

struct GlossaryTerm {
    QString term;
    QStringList also;  // other spellings a link may use ("keys", "K")
    QString definition;
};

struct LessonBook {
    QList<LessonChapter> chapters;
    QList<GlossaryTerm> glossary;

    // The glossary entry a link names (case-insensitive, any spelling), or null.
    const GlossaryTerm* term(const QString& name) const;
};

// The views a page can outline: "tokens", "kv-cache", "attention", "counters" (optionally ":cached" or
// ":uncached"; both panes otherwise), "plots", "explanation", "timeline", "step-button", "prompt", "mode",
// "right-run" (the toolbar's list of what the right pane runs), "conversations" (the Conversations view).
QStringList lessonViewIds();

// Reads index.json, every chapter it lists and the glossary from `root` (":/lessons" for the shipped
// lessons). Checks the structure, the action and view names, that every [[link]] is in the glossary and
// that every {placeholder} is a known name (lesson_values.h).
Result<LessonBook> loadLessonBook(const QString& root = QStringLiteral(":/lessons"));

// The shipped lessons, loaded once (an error in them is a bug the tests catch: this asserts).
const LessonBook& shippedLessons();

}  // namespace kvscope::app
