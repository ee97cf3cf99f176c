#include "lessons/lesson_panel.h"

#include <QComboBox>
#include <QDockWidget>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QTextDocument>
#include <QUrl>
#include <QVBoxLayout>

#include "conversations/conversations_panel.h"
#include "explanation_panel.h"
#include "kvscope/cache_policy.h"
#include "lessons/lesson_text.h"
#include "lessons/view_outline.h"
#include "main_window.h"
#include "pane_widget.h"
#include "timeline_bar.h"
#include "views/gl_view.h"

namespace kvscope::app {

namespace {

// Whether two right-pane runs are the same: "" (without a cache) or cache variant specs that parse to the
// same policy ("int4" and "int4:group=32").
bool sameRightRun(const QString& a, const QString& b) {
    if (a.isEmpty() || b.isEmpty()) return a.isEmpty() && b.isEmpty();
    Result<CachePolicy> pa = parse_cache_variant(a.toStdString());
    Result<CachePolicy> pb = parse_cache_variant(b.toStdString());
    return pa && pb && cache_variant_spec(*pa) == cache_variant_spec(*pb);
}

}  // namespace

LessonPanel::LessonPanel(MainWindow& window, const LessonBook& book, QWidget* parent)
    : QWidget(parent),
      m_window(window),
      m_book(book),
      m_chapters(new QComboBox(this)),
      m_start(new QPushButton(tr("Start"), this)),
      m_progress(new QLabel(this)),
      m_text(new QTextBrowser(this)),
      m_action(new QLabel(this)),
      m_doIt(new QPushButton(tr("Do it for me"), this)),
      m_back(new QPushButton(tr("◀ Back"), this)),
      m_next(new QPushButton(tr("Next ▶"), this)),
      m_outline(new ViewOutline(this)) {
    setObjectName(QStringLiteral("lessonPanel"));
    for (const LessonChapter& c : m_book.chapters)
        m_chapters->addItem(tr("%1. %2").arg(c.number).arg(c.title));
    // Long titles must not widen the dock: the list shows them in full when open.
    m_chapters->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_chapters->setMinimumContentsLength(16);
    m_chapters->setObjectName(QStringLiteral("lessonChapters"));
    m_start->setToolTip(tr("Start the chapter from its first page (forgets both runs)"));
    m_progress->setObjectName(QStringLiteral("lessonProgress"));
    m_text->setOpenLinks(false);
    m_text->setFrameShape(QFrame::NoFrame);
    m_text->setObjectName(QStringLiteral("lessonText"));
    m_action->setWordWrap(true);
    m_action->setObjectName(QStringLiteral("lessonAction"));
    m_doIt->setObjectName(QStringLiteral("lessonDoIt"));
    m_doIt->setToolTip(tr("Makes the same request as the toolbar or the key would"));
    m_next->setObjectName(QStringLiteral("lessonNext"));
    m_back->setObjectName(QStringLiteral("lessonBack"));
    // The panel's buttons must not take Space from the window (Space is Step).
    for (QWidget* w :
         {static_cast<QWidget*>(m_start), static_cast<QWidget*>(m_doIt), static_cast<QWidget*>(m_back),
          static_cast<QWidget*>(m_next), static_cast<QWidget*>(m_chapters)})
        w->setFocusPolicy(Qt::ClickFocus);
    m_text->setFocusPolicy(Qt::ClickFocus);

    auto* top = new QHBoxLayout;
    top->addWidget(m_chapters, 1);
    top->addWidget(m_start);
    auto* actionRow = new QHBoxLayout;
    actionRow->addWidget(m_action, 1);
    actionRow->addWidget(m_doIt);
    auto* nav = new QHBoxLayout;
    nav->addWidget(m_back);
    nav->addStretch(1);
    nav->addWidget(m_progress);
    nav->addStretch(1);
    nav->addWidget(m_next);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_text, 1);
    layout->addLayout(actionRow);
    layout->addLayout(nav);

    connect(m_start, &QPushButton::clicked, this, [this] { startChapter(m_chapters->currentIndex()); });
    connect(m_chapters, &QComboBox::activated, this, [this](int i) {
        if (i != m_chapter) startChapter(i);
    });
    connect(m_doIt, &QPushButton::clicked, this, &LessonPanel::doAction);
    connect(m_next, &QPushButton::clicked, this, [this] {
        if (onQuestion() && !m_answerShown)
            revealAnswer();
        else if (!next() && onQuestion() && m_chapter + 1 < m_book.chapters.size())
            startChapter(m_chapter + 1);
    });
    connect(m_back, &QPushButton::clicked, this, &LessonPanel::back);
    connect(m_text, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
        if (url.scheme() == QLatin1String("glossary")) emit glossaryRequested(url.path());
    });
    connect(&m_window.store(), &TraceStore::changed, this, [this](const StoreChange& c) {
        if (m_chapter < 0) return;
        if (c.kind == StoreChange::Kind::appended && c.side == Side::cached) {
            ++m_stepsSeen;
            if (c.index == 0) m_prefillSeen = true;
        }
        evaluateAction();
        refresh();
    });
    connect(&m_window.display(), &DisplaySettings::changed, this, &LessonPanel::refresh);
    m_poll.setInterval(200);
    connect(&m_poll, &QTimer::timeout, this, &LessonPanel::evaluateAction);
    m_poll.start();
    refresh();
}

LessonPanel::~LessonPanel() = default;

void LessonPanel::watchConversations(ConversationsPanel* conv) {
    connect(conv, &ConversationsPanel::snapshotShown, this, [this, conv] {
        if (m_chapter < 0) return;
        if (conv->lastSnapshot() && conv->lastSnapshot()->finished) m_conversationsSeen = true;
        evaluateAction();
        refresh();
    });
    connect(conv, &ConversationsPanel::turnShown, this, [this] {
        if (m_chapter < 0) return;
        m_turnSeen = true;
        evaluateAction();
        refresh();
    });
}

bool LessonPanel::onQuestion() const {
    return m_chapter >= 0 && m_page >= m_book.chapters[m_chapter].pages.size();
}

const LessonPage* LessonPanel::currentPage() const {
    if (m_chapter < 0 || onQuestion()) return nullptr;
    return &m_book.chapters[m_chapter].pages[m_page];
}

bool LessonPanel::actionDone() const {
    return m_done;
}

void LessonPanel::startChapter(int index) {
    if (index < 0 || index >= m_book.chapters.size()) return;
    const LessonChapter& c = m_book.chapters[index];
    m_chapter = index;
    m_chapters->setCurrentIndex(index);
    // In front, if the dock shares its place with others as tabs.
    if (auto* dock = qobject_cast<QDockWidget*>(parentWidget())) {
        dock->show();
        dock->raise();
    }
    m_window.pause();
    m_window.setMode(CompareMode::lockstep);
    // Every chapter starts with the run without a cache on the right; one that needs a cache variant
    // switches to it on a page, before the first step.
    m_window.setRightRun(QString(), false);
    m_window.reset();
    m_window.setPrompt(c.prompt);
    TraceStore& store = m_window.store();
    store.setAllHeads(false);
    store.selectLayer(0);
    store.selectHead(0);
    enterPage(0);
}

void LessonPanel::walkTo(int page) {
    m_walkTo = page;
    continueWalk();
}

void LessonPanel::continueWalk() {
    if (m_walkTo < 0 || m_chapter < 0) return;
    if ((m_page == m_walkTo && m_done) || m_page > m_walkTo || onQuestion()) {
        m_walkTo = -1;
        emit walked();
        return;
    }
    if (!m_done) {
        if (!m_asked) doAction();
        return;  // actionCompleted() comes back here
    }
    // Next from a queued call: the page's own signal handlers finish first. enterPage() goes on walking.
    if (m_walkQueued) return;
    m_walkQueued = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_walkQueued = false;
            if (!next()) continueWalk();
        },
        Qt::QueuedConnection);
}

void LessonPanel::enterPage(int page) {
    m_page = page;
    // A page about the Conversations view shows it (it shares its place with the plots, as a tab).
    if (const LessonPage* p = currentPage(); p && p->highlight == QLatin1String("conversations"))
        m_window.showConversations();
    m_asked = false;
    m_answerShown = false;
    m_stepsSeen = 0;
    m_prefillSeen = false;
    m_conversationsSeen = false;
    m_turnSeen = false;
    m_done = false;
    m_entering = true;
    evaluateAction();
    m_entering = false;
    refresh();
    emit pageChanged();
    if (m_walkTo >= 0) continueWalk();
}

void LessonPanel::evaluateAction() {
    const LessonPage* p = currentPage();
    if (!p || m_done) return;
    const TraceStore& store = m_window.store();
    bool done = false;
    switch (p->action.kind) {
        case LessonActionKind::none:
            done = true;
            break;
        case LessonActionKind::prefill:
            done = m_prefillSeen;
            break;
        case LessonActionKind::step:
            done = m_stepsSeen >= p->action.times;
            break;
        case LessonActionKind::scrub:
            done = !store.empty() && !store.followsLatest();
            break;
        case LessonActionKind::latest:
            done = !store.empty() && store.followsLatest();
            break;
        case LessonActionKind::allHeads:
            done = store.allHeads();
            break;
        case LessonActionKind::oneHead:
            done = !store.allHeads();
            break;
        case LessonActionKind::layer:
            done = store.layer() == p->action.layer;
            break;
        case LessonActionKind::race:
            done = m_window.runSettings().mode == CompareMode::race;
            break;
        case LessonActionKind::lockstep:
            done = m_window.runSettings().mode == CompareMode::lockstep;
            break;
        case LessonActionKind::rightRun:
            // In force from the next step (the page comes before the run: nothing is restarted).
            done = sameRightRun(m_window.runSettings().rightRun, p->action.run) &&
                   !m_window.runSettings().freeRunning;
            break;
        case LessonActionKind::runConversations:
            done = m_conversationsSeen;
            break;
        case LessonActionKind::secondTurn:
            done = m_turnSeen;
            break;
    }
    if (done) {
        m_done = true;
        refresh();
        emit actionCompleted();
        if (m_walkTo >= 0 && !m_entering) continueWalk();
    }
}

QString LessonPanel::actionText() const {
    const LessonPage* p = currentPage();
    if (!p) return QString();
    const LessonAction& a = p->action;
    switch (a.kind) {
        case LessonActionKind::none:
            return QString();
        case LessonActionKind::prefill:
            return tr("Press <b>Prefill</b> (Ctrl+Enter): the prompt goes through at once.");
        case LessonActionKind::step: {
            const int left = std::max(0, a.times - m_stepsSeen);
            if (a.times == 1) return tr("Press <b>Step</b> (Space).");
            return tr("Press <b>Step</b> (Space) %1 times — %2 to go.").arg(a.times).arg(left);
        }
        case LessonActionKind::scrub:
            return tr("Drag the <b>timeline</b> back to an earlier step (or press ←).");
        case LessonActionKind::latest:
            return tr("Go back to the <b>latest step</b> (End).");
        case LessonActionKind::allHeads:
            return tr("Show <b>all attention heads</b> (H).");
        case LessonActionKind::oneHead:
            return tr("Back to <b>one head</b> (H).");
        case LessonActionKind::layer:
            return tr("Click <b>layer %1</b> in the KV cache.").arg(a.layer);
        case LessonActionKind::race:
            return tr("Switch the mode to <b>Race</b> (R).");
        case LessonActionKind::lockstep:
            return tr("Switch the mode back to <b>Lockstep</b> (L).");
        case LessonActionKind::rightRun:
            if (a.run.isEmpty()) return tr("Set the right pane back to <b>Without KV cache</b> (toolbar).");
            return tr("Switch the right pane to <b>%1</b> (the run list in the toolbar).")
                .arg(a.run.toHtmlEscaped());
        case LessonActionKind::runConversations:
            return tr(
                "In the <b>Conversations</b> view, press <b>Run conversations</b> and wait until they "
                "finish.");
        case LessonActionKind::secondTurn:
            return tr(
                "In the <b>Conversations</b> view, press <b>Time turn 2</b>: the first conversation "
                "asks again.");
    }
    return QString();
}

void LessonPanel::doAction() {
    const LessonPage* p = currentPage();
    if (!p || m_done) return;
    m_asked = true;
    TraceStore& store = m_window.store();
    switch (p->action.kind) {
        case LessonActionKind::none:
            break;
        case LessonActionKind::prefill:
            m_window.prefill();
            break;
        case LessonActionKind::step:
            m_window.stepRepeatedly(p->action.times - m_stepsSeen);
            break;
        case LessonActionKind::scrub:
            // As a drag to the middle of the timeline would.
            if (store.maxStepCount() > 1) store.selectStep((store.maxStepCount() - 1) / 2);
            break;
        case LessonActionKind::latest:
            store.selectLatest();
            break;
        case LessonActionKind::allHeads:
            store.setAllHeads(true);
            break;
        case LessonActionKind::oneHead:
            store.setAllHeads(false);
            break;
        case LessonActionKind::layer:
            store.selectLayer(p->action.layer);
            break;
        case LessonActionKind::race:
            m_window.setMode(CompareMode::race);
            break;
        case LessonActionKind::lockstep:
            m_window.setMode(CompareMode::lockstep);
            break;
        case LessonActionKind::rightRun:
            m_window.setRightRun(p->action.run, false);
            break;
        case LessonActionKind::runConversations:
            m_window.showConversations();
            if (ConversationsPanel* conv = m_window.conversations()) conv->runDemo();
            break;
        case LessonActionKind::secondTurn:
            m_window.showConversations();
            if (ConversationsPanel* conv = m_window.conversations()) conv->measureTurn();
            break;
    }
    evaluateAction();
}

bool LessonPanel::next() {
    if (m_chapter < 0 || onQuestion() || !m_done) return false;
    enterPage(m_page + 1);
    return true;
}

bool LessonPanel::back() {
    if (m_chapter < 0 || m_page == 0) return false;
    // Going back re-reads an earlier page; its action counts as done (the run has moved on since).
    enterPage(m_page - 1);
    m_done = true;
    refresh();
    return true;
}

void LessonPanel::revealAnswer() {
    if (!onQuestion()) return;
    m_answerShown = true;
    refresh();
}

QString LessonPanel::currentPlainText() const {
    QTextDocument doc;
    doc.setHtml(m_html);
    return doc.toPlainText();
}

QList<QWidget*> LessonPanel::targetsFor(const QString& viewId) const {
    QList<QWidget*> out;
    const QString view = viewId.section(QLatin1Char(':'), 0, 0);
    const QString run = viewId.section(QLatin1Char(':'), 1, 1);
    for (Side side : kSides) {
        if (run == QLatin1String("cached") && side != Side::cached) continue;
        if (run == QLatin1String("uncached") && side != Side::uncached) continue;
        PaneWidget* pane = m_window.pane(side);
        if (view == QLatin1String("tokens")) out << pane->tokenStrip();
        if (view == QLatin1String("kv-cache")) out << pane->kvCacheView();
        if (view == QLatin1String("attention")) out << pane->attentionView();
        if (view == QLatin1String("counters")) out << pane->countersView();
    }
    if (view == QLatin1String("plots")) out << m_window.plotsView();
    if (view == QLatin1String("explanation")) out << m_window.explanation();
    if (view == QLatin1String("timeline")) out << m_window.timeline();
    if (view == QLatin1String("step-button")) out << m_window.stepButton();
    if (view == QLatin1String("prompt")) out << m_window.promptField();
    if (view == QLatin1String("mode")) out << m_window.modeSelector();
    if (view == QLatin1String("right-run")) out << m_window.rightRunSelector();
    if (view == QLatin1String("conversations")) out << m_window.conversations();
    out.removeAll(nullptr);
    return out;
}

ConversationsResults LessonPanel::conversationsResults() const {
    ConversationsResults r;
    if (const ConversationsPanel* conv = m_window.conversations()) {
        if (conv->lastSnapshot() && conv->lastSnapshot()->finished) r.snapshot = &*conv->lastSnapshot();
        if (conv->lastTurn()) r.turn = &*conv->lastTurn();
    }
    return r;
}

QList<QWidget*> LessonPanel::highlighted() const {
    QList<QWidget*> out;
    for (const QPointer<QWidget>& w : m_outline->targets())
        if (w) out << w.data();
    return out;
}

bool LessonPanel::restyle() {
    const Theme& th = m_window.display().theme();
    const double pt = 11.0 * double(m_window.display().viewScale());
    m_action->setStyleSheet(
        QStringLiteral("font-size: %1pt; padding: 6px; border-radius: 4px; background: %2;")
            .arg(pt, 0, 'f', 1)
            .arg(th.panelRaised.name()));
    const QString style =
        QStringLiteral(
            "body { color: %1; font-size: %2pt; } p { margin: 0 0 9px 0; } a { color: %3; } "
            ".notice { background: %4; } h4 { color: %5; margin: 4px 0; }")
            .arg(th.text.name())
            .arg(pt, 0, 'f', 1)
            .arg(th.accent.name(), th.panelRaised.name(), th.textStrong.name());
    if (style == m_style) return false;
    m_style = style;
    m_text->document()->setDefaultStyleSheet(style);
    return true;
}

void LessonPanel::refresh() {
    if (restyle()) m_html.clear();
    m_values.clear();
    m_notYet.clear();
    if (m_chapter < 0) {
        m_html =
            tr("<h2>Guided lessons</h2><p>Short chapters on how the KV cache makes language models fast, run "
               "on the live "
               "model: every number you read is measured as you watch.</p><p>Pick a chapter and press "
               "<b>Start</b>. Each page points at a part of the window (outlined), asks you to do one "
               "thing, and then tells you what to notice. Underlined words open the glossary "
               "(F1).</p>");
        m_text->setHtml(QStringLiteral("<body>%1</body>").arg(m_html));
        m_action->setText(QString());
        m_action->setVisible(false);
        m_doIt->setVisible(false);
        m_progress->setText(QString());
        m_back->setEnabled(false);
        m_next->setEnabled(false);
        m_outline->clear();
        return;
    }
    const LessonChapter& c = m_book.chapters[m_chapter];
    const TraceStore& store = m_window.store();
    const ConversationsResults conv = conversationsResults();

    auto fill = [&](const QString& text) {
        Result<FilledText> f = fillLessonText(text, &store, LessonTextFormat::html, &m_notYet, &conv);
        if (!f)
            return QStringLiteral("<p><i>%1</i></p>")
                .arg(QString::fromStdString(f.message()).toHtmlEscaped());
        m_values << f->values;
        return f->text;
    };
    // The title scrolls with the text: on a small screen the text needs every line.
    QString html =
        QStringLiteral("<h2>%1</h2>").arg(tr("Chapter %1 — %2").arg(c.number).arg(c.title).toHtmlEscaped());
    const LessonPage* p = currentPage();
    if (p) {
        html += fill(p->text);
        if (m_done && !p->notice.isEmpty())
            html += QStringLiteral(
                        "<table class=\"notice\" width=\"100%\" "
                        "cellpadding=\"8\"><tr><td><h4>%1</h4>%2</td></tr></table>")
                        .arg(tr("What to notice"), fill(p->notice));
        m_progress->setText(tr("page %1 of %2").arg(m_page + 1).arg(c.pages.size() + 1));
        const QString action = actionText();
        m_action->setVisible(!action.isEmpty());
        m_action->setText(m_done && !action.isEmpty() ? QStringLiteral("✔ ") + tr("Done. Press Next.")
                                                      : action);
        m_doIt->setVisible(!action.isEmpty());
        m_doIt->setEnabled(!m_done && store.hasModel());
        m_next->setText(tr("Next ▶"));
        m_next->setEnabled(m_done);
        m_outline->show(targetsFor(p->highlight), m_window.display().theme().accent);
    } else {
        html += QStringLiteral("<h4>%1</h4>").arg(tr("Question")) + fill(c.question);
        if (m_answerShown) html += QStringLiteral("<h4>%1</h4>").arg(tr("Answer")) + fill(c.answer);
        m_progress->setText(tr("page %1 of %1").arg(c.pages.size() + 1));
        m_action->setVisible(false);
        m_doIt->setVisible(false);
        const bool last = m_chapter + 1 >= m_book.chapters.size();
        m_next->setText(!m_answerShown ? tr("Show the answer") : last ? tr("The end") : tr("Next chapter ▶"));
        m_next->setEnabled(!m_answerShown || !last);
        m_outline->clear();
    }
    m_back->setEnabled(m_page > 0);
    if (html != m_html) {
        m_html = html;
        m_text->setHtml(QStringLiteral("<body>%1</body>").arg(html));
    }
}

}  // namespace kvscope::app
