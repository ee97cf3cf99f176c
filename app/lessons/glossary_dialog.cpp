#include "lessons/glossary_dialog.h"

#include <QAction>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QSplitter>
#include <QTextBrowser>
#include <QUrl>
#include <QVBoxLayout>

#include "lessons/lesson_book.h"
#include "lessons/lesson_text.h"

namespace kvscope::app {

namespace {
constexpr int kKeyboardRow = 0;  // the first row of the list: the keyboard shortcuts

// A definition as HTML: its [[links]] made (definitions hold no live numbers, so an empty store serves).
QString definitionHtml(const GlossaryTerm& t) {
    Result<FilledText> filled = fillLessonText(t.definition, nullptr, LessonTextFormat::html);
    return filled ? filled->text : t.definition.toHtmlEscaped();
}
}  // namespace

GlossaryDialog::GlossaryDialog(const LessonBook& book, QWidget* shortcutsFrom, QWidget* parent)
    : QDialog(parent),
      m_book(book),
      m_shortcutsFrom(shortcutsFrom),
      m_filter(new QLineEdit(this)),
      m_list(new QListWidget(this)),
      m_text(new QTextBrowser(this)) {
    setObjectName(QStringLiteral("glossary"));
    setWindowTitle(tr("Glossary and keyboard (F1)"));
    setModal(false);
    m_filter->setPlaceholderText(tr("Find a word…"));
    m_filter->setClearButtonEnabled(true);
    m_list->addItem(tr("⌨ Keyboard shortcuts"));
    for (const GlossaryTerm& t : m_book.glossary)
        m_list->addItem(t.term);
    m_text->setOpenLinks(false);
    connect(m_text, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
        if (url.scheme() == QLatin1String("glossary")) showTerm(url.path());
    });
    connect(m_list, &QListWidget::currentRowChanged, this, &GlossaryDialog::showRow);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString& text) {
        for (int i = 1; i < m_list->count(); ++i) {
            const GlossaryTerm& t = m_book.glossary[i - 1];
            bool match = text.isEmpty() || t.term.contains(text, Qt::CaseInsensitive);
            for (const QString& a : t.also)
                match = match || a.contains(text, Qt::CaseInsensitive);
            m_list->item(i)->setHidden(!match);
        }
    });
    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_filter);
    leftLayout->addWidget(m_list);
    auto* split = new QSplitter(this);
    split->addWidget(left);
    split->addWidget(m_text);
    split->setStretchFactor(1, 3);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split);
    resize(860, 560);
    m_list->setCurrentRow(kKeyboardRow);
}

bool GlossaryDialog::showTerm(const QString& term) {
    const GlossaryTerm* t = m_book.term(term);
    if (!t) return false;
    m_filter->clear();
    m_list->setCurrentRow(1 + int(t - m_book.glossary.constData()));
    return true;
}

void GlossaryDialog::showKeyboard() {
    m_list->setCurrentRow(kKeyboardRow);
}

QString GlossaryDialog::currentTerm() const {
    const int row = m_list->currentRow();
    return row > kKeyboardRow ? m_book.glossary[row - 1].term : QString();
}

QString GlossaryDialog::currentHtml() const {
    return m_text->toHtml();
}

void GlossaryDialog::showRow(int row) {
    if (row < 0) return;
    if (row == kKeyboardRow) {
        m_text->setHtml(keyboardHtml());
        return;
    }
    const GlossaryTerm& t = m_book.glossary[row - 1];
    QString html = QStringLiteral("<h2>%1</h2>").arg(t.term.toHtmlEscaped());
    if (!t.also.isEmpty())
        html += QStringLiteral("<p><i>%1 %2</i></p>")
                    .arg(tr("Also:"), t.also.join(QStringLiteral(", ")).toHtmlEscaped());
    html += definitionHtml(t);
    m_text->setHtml(html);
}

QString GlossaryDialog::keyboardHtml() const {
    QString rows;
    if (m_shortcutsFrom)
        for (QAction* a : m_shortcutsFrom->actions()) {
            QStringList keys;
            for (const QKeySequence& k : a->shortcuts())
                keys << k.toString(QKeySequence::NativeText);
            if (keys.isEmpty() || a->text().isEmpty()) continue;
            QString what = a->text();
            what.remove(QLatin1Char('&'));
            rows += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>")
                        .arg(keys.join(QStringLiteral(" / ")).toHtmlEscaped(), what.toHtmlEscaped());
        }
    return QStringLiteral("<h2>%1</h2><table cellspacing=6>%2</table><p>%3</p>")
        .arg(tr("Keyboard shortcuts"), rows,
             tr("Hover any cell, token or number for details. Click a layer in the KV cache to show its "
                "attention. Words underlined in a lesson open their entry here."));
}

}  // namespace kvscope::app
