#include "lessons/lesson_text.h"

#include <QRegularExpression>
#include <QUrl>

namespace kvscope::app {

namespace {

// One pattern for the three kinds of markup, so they are found in one left-to-right pass.
const QRegularExpression& markup() {
    static const QRegularExpression re(
        QStringLiteral(R"(\{([a-z_]+\.[a-z_0-9]+)\}|\[\[([^\]|]+)(?:\|([^\]]+))?\]\]|(\*\*))"));
    return re;
}

QString escapeAll(const QString& s, LessonTextFormat format) {
    return format == LessonTextFormat::html ? s.toHtmlEscaped() : s;
}

}  // namespace

QStringList lessonPlaceholders(const QString& text) {
    QStringList out;
    for (const QRegularExpressionMatch& m : markup().globalMatch(text))
        if (m.capturedLength(1) > 0) out << m.captured(1);
    // A brace that the pattern did not take is a misspelt placeholder ("{Cached.flops}", "{flops}"): report
    // it as a name, so loading the chapter fails instead of showing braces.
    static const QRegularExpression brace(QStringLiteral(R"(\{([^}]*)\})"));
    for (const QRegularExpressionMatch& m : brace.globalMatch(text)) {
        static const QRegularExpression good(QStringLiteral(R"(^[a-z_]+\.[a-z_0-9]+$)"));
        if (!good.match(m.captured(1)).hasMatch()) out << m.captured(1);
    }
    return out;
}

QStringList lessonLinks(const QString& text) {
    QStringList out;
    for (const QRegularExpressionMatch& m : markup().globalMatch(text))
        if (m.capturedLength(2) > 0) out << m.captured(2).trimmed();
    return out;
}

Result<FilledText> fillLessonText(const QString& text, const TraceStore* store, LessonTextFormat format,
                                  QStringList* notYet, const ConversationsResults* conversations) {
    const bool html = format == LessonTextFormat::html;
    FilledText out;
    QString body;
    bool bold = false;
    qsizetype at = 0;
    for (const QRegularExpressionMatch& m : markup().globalMatch(text)) {
        body += escapeAll(text.mid(at, m.capturedStart() - at), format);
        at = m.capturedEnd();
        if (m.capturedLength(1) > 0) {
            if (!store)
                return Status::error(
                    QStringLiteral("{%1}: no run to read it from").arg(m.captured(1)).toStdString());
            Result<LessonValue> v = lessonValue(*store, m.captured(1), conversations);
            if (!v && notYet && isLessonValueName(m.captured(1))) {
                *notYet << m.captured(1);
                body += QStringLiteral("…");
                continue;
            }
            if (!v) return v.status();
            body += html ? QStringLiteral("<b>%1</b>").arg(v->text.toHtmlEscaped()) : v->text;
            out.values << *v;
        } else if (m.capturedLength(2) > 0) {
            const QString term = m.captured(2).trimmed();
            const QString shown = m.capturedLength(3) > 0 ? m.captured(3) : m.captured(2);
            body += html ? QStringLiteral("<a href=\"glossary:%1\">%2</a>")
                               .arg(QString::fromUtf8(QUrl::toPercentEncoding(term)), shown.toHtmlEscaped())
                         : shown;
        } else {
            // ** opens and closes bold; it may hold numbers and links.
            if (html) body += bold ? QStringLiteral("</b>") : QStringLiteral("<b>");
            bold = !bold;
        }
    }
    body += escapeAll(text.mid(at), format);
    if (bold) return Status::error("a ** (bold) is not closed");
    if (html) {
        QStringList paragraphs;
        for (const QString& p : body.split(QStringLiteral("\n\n"), Qt::SkipEmptyParts))
            paragraphs << QStringLiteral("<p>%1</p>").arg(p.trimmed());
        out.text = paragraphs.join(QString());
    } else {
        out.text = body;
    }
    return out;
}

}  // namespace kvscope::app
