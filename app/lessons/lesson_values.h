// lesson_values.h — the live numbers a lesson's text names, {cached.flops_step} and the like, taken only
// from the traces the engine produced (the TraceStore at its selected step), never computed from a
// formula on the side.
//
// A name is known when it is in lessonValueNames(); a known name can still be unavailable (nothing has
// run yet, or the selected step is the prefill and the name is about a decode step): then value() says
// why, and the panel waits for the page's action before showing the text that needs it. An unknown name
// is an error of the chapter file, which loadLessonBook() reports and the tests catch; it is never shown.
//
// Each value remembers where it came from ("cached run, step 3: counters.flops()") so that tests can check
// it against the trace, and how it is written (format.h: "1.23 MFLOP", "37.5 KiB", "4.2 ms").
#pragma once

#include <QString>
#include <QStringList>
#include <optional>

#include "kvscope/status.h"

namespace kvscope {
struct SecondTurn;
}

namespace kvscope::app {

class TraceStore;
struct ConversationsSnapshot;

// What the Conversations view measured (conversations_panel.h: its last finished run of the conversations
// and its last chat second turn), for the {conv.…} and {turn.…} numbers; null where not measured.
struct ConversationsResults {
    const ConversationsSnapshot* snapshot = nullptr;  // finished runs only
    const kvscope::SecondTurn* turn = nullptr;
};

struct LessonValue {
    QString name;
    double number = 0.0;  // the value as measured (NaN for text values)
    QString text;         // as shown
    QString source;       // which run, step and field it was read from
};

// Every name a lesson may use, with a one-line description (the table in lesson_values.cpp; the README's
// "Teach with it" lists them for chapter writers).
struct LessonValueInfo {
    const char* name;
    const char* description;
};
const std::vector<LessonValueInfo>& lessonValueNames();
bool isLessonValueName(const QString& name);

// The value of `name` in `store` at its selected step (or, for {conv.…} and {turn.…}, in `conversations`);
// an error saying why when it is unknown or not available yet.
Result<LessonValue> lessonValue(const TraceStore& store, const QString& name,
                                const ConversationsResults* conversations = nullptr);

}  // namespace kvscope::app
