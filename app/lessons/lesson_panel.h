// lesson_panel.h — the guided lessons in the window: a chapter at a time, a page at a time. Each page
// outlines the view it talks about, says what to do ("press Step three times"), waits until it is done
// (by the student, with the usual buttons and keys, or by "Do it for me", which makes the same request
// the toolbar makes), then shows what to notice, with the live numbers of this run filled in. The last
// page of a chapter asks a question; the answer shows on request.
//
// The panel never computes: it asks the window for the same requests a user makes (prefill, step, mode,
// selection) and reads the numbers from the TraceStore (lesson_values.h). Big in presenter mode: the
// text follows the display's font scale and the projector theme.
#pragma once

#include <QPointer>
#include <QTimer>
#include <QWidget>

#include "lessons/lesson_book.h"
#include "lessons/lesson_values.h"

class QComboBox;
class QLabel;
class QPushButton;
class QTextBrowser;

namespace kvscope::app {

class ConversationsPanel;
class MainWindow;
class ViewOutline;

class LessonPanel : public QWidget {
    Q_OBJECT
  public:
    LessonPanel(MainWindow& window, const LessonBook& book, QWidget* parent = nullptr);
    ~LessonPanel() override;

    const LessonBook& book() const { return m_book; }
    // Follows the Conversations view's results (the window makes it after the panel).
    void watchConversations(ConversationsPanel* conversations);
    // Starts a chapter from its first page: forgets both runs, puts the chapter's prompt in, lockstep, one
    // head, layer 0.
    void startChapter(int index);
    int chapter() const { return m_chapter; }
    int page() const { return m_page; }  // pages().size(): the question
    bool onQuestion() const;
    const LessonPage* currentPage() const;  // null on the question
    bool actionDone() const;
    // What the page asks for, in words ("Press Step (Space) — 2 more"); empty when nothing.
    QString actionText() const;
    // Does the page's action as the student would (the same requests as the toolbar and keys).
    void doAction();
    bool next();  // false when the action is not done yet (or at the very end)
    bool back();
    void revealAnswer();
    // Goes through the pages up to `page` (0-based; the question is pages().size()), doing each page's
    // action on the way, that page's included, as a student pressing "Do it for me" and Next would;
    // walked() when there.
    void walkTo(int page);
    bool answerShown() const { return m_answerShown; }

    // What the panel shows now, and the numbers it filled in (tests check them against the traces).
    QString currentHtml() const { return m_html; }
    QString currentPlainText() const;
    const QList<LessonValue>& shownValues() const { return m_values; }
    const QStringList& notMeasuredYet() const { return m_notYet; }
    QList<QWidget*> highlighted() const;
    // The widgets a view id names in the window (lesson_book.h: lessonViewIds()).
    QList<QWidget*> targetsFor(const QString& viewId) const;
    void refresh();
    // What the Conversations view has measured, for {conv.…} and {turn.…} (finished runs only).
    ConversationsResults conversationsResults() const;

  signals:
    void glossaryRequested(const QString& term);
    void pageChanged();
    void actionCompleted();
    void walked();

  private:
    void enterPage(int page);
    void evaluateAction();
    bool restyle();  // true when the style changed
    void continueWalk();

    MainWindow& m_window;
    const LessonBook& m_book;
    int m_chapter = -1;
    int m_page = 0;
    bool m_done = false;
    bool m_answerShown = false;
    // What the action is measured against, taken when the page opened.
    int m_stepsSeen = 0;  // cached steps appended since the page opened
    bool m_prefillSeen = false;
    bool m_conversationsSeen = false;  // a run of the Conversations view finished since the page opened
    bool m_turnSeen = false;           // its second turn was measured since the page opened
    bool m_asked = false;              // "Do it for me" was pressed on this page (its request is on its way)
    int m_walkTo = -1;
    bool m_walkQueued = false;
    bool m_entering = false;

    QComboBox* m_chapters;
    QPushButton* m_start;
    QLabel* m_progress;
    QTextBrowser* m_text;
    QLabel* m_action;
    QPushButton* m_doIt;
    QPushButton* m_back;
    QPushButton* m_next;
    ViewOutline* m_outline;
    QTimer m_poll;  // the run mode has no signal: checked a few times a second
    QString m_html;
    QString m_style;  // the text's style sheet: a new one (theme, size) redraws the text
    QList<LessonValue> m_values;
    QStringList m_notYet;
};

}  // namespace kvscope::app
