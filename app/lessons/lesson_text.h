// lesson_text.h — a lesson's text with its live numbers filled in and its glossary links made, as HTML
// for the panel and the handout, or as plain text for a clip's captions.
//
// Markup (nothing else is interpreted; the rest is plain text, HTML-escaped):
//   {name}                a live number (lesson_values.h), shown in bold in HTML
//   [[term]]              a glossary link: the term as written, linked to its entry
//   [[term|shown text]]   the same, showing other words
//   **words**             bold
//   a blank line          a new paragraph
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include "kvscope/status.h"
#include "lessons/lesson_values.h"

namespace kvscope::app {

class TraceStore;

QStringList lessonPlaceholders(const QString& text);  // the {names}, in order
QStringList lessonLinks(const QString& text);         // the [[terms]] (the part before any '|'), in order

enum class LessonTextFormat { html, plain };

struct FilledText {
    QString text;
    QList<LessonValue> values;  // every number put in, in order
};

// Fills every {name} from `store`; an error names the first one that is unknown or not measured yet (or
// any, when `store` is null: text read without a run, like the glossary's). HTML links are
// <a href="glossary:TERM">shown text</a>.
// With `notYet` given, a known number that is not measured yet is written "…" and its name added to
// `notYet` instead of failing (the panel, before the page's action has run).
// `conversations`: what the Conversations view measured, for {conv.…} and {turn.…}.
Result<FilledText> fillLessonText(const QString& text, const TraceStore* store, LessonTextFormat format,
                                  QStringList* notYet = nullptr,
                                  const ConversationsResults* conversations = nullptr);

}  // namespace kvscope::app
