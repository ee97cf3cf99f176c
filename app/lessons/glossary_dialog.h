// glossary_dialog.h — F1: every word the lessons use, explained in plain words, and the keyboard
// shortcuts of the window (read from its actions, so the list is always the one that works).
// Not modal: it stays open beside the app while the student steps; a lesson's [[term]] link opens it at
// that term.
#pragma once

#include <QDialog>

class QLineEdit;
class QListWidget;
class QTextBrowser;

namespace kvscope::app {

struct LessonBook;

class GlossaryDialog : public QDialog {
    Q_OBJECT
  public:
    // `shortcutsFrom`: the widget whose actions (with their shortcuts) are listed under "Keyboard".
    GlossaryDialog(const LessonBook& book, QWidget* shortcutsFrom, QWidget* parent = nullptr);
    // Shows the entry of `term` (any spelling the glossary knows); false when there is none.
    bool showTerm(const QString& term);
    void showKeyboard();
    QString currentTerm() const;
    QString currentHtml() const;

  private:
    void showRow(int row);
    QString keyboardHtml() const;

    const LessonBook& m_book;
    QWidget* m_shortcutsFrom;
    QLineEdit* m_filter;
    QListWidget* m_list;
    QTextBrowser* m_text;
};

}  // namespace kvscope::app
