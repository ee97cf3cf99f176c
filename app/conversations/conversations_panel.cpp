#include "conversations/conversations_panel.h"

#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

#include "format.h"
#include "prompt_parser.h"
#include "views/block_map_renderer.h"
#include "views/gl_view.h"

namespace kvscope::app {

namespace {

QString unescape(QString s) {
    return s.replace(QLatin1String("\\n"), QLatin1String("\n"));
}

}  // namespace

// ---- the panel -------------------------------------------------------------------------------------------

ConversationsPanel::ConversationsPanel(DisplaySettings& display, QWidget* parent)
    : QWidget(parent), m_display(display), m_blockMaps(std::make_shared<BlockMaps>()) {
    ConversationsWorker::Callbacks cb;
    cb.snapshot = [this](const ConversationsSnapshot& s) { showSnapshot(s); };
    cb.fit = [this](const FitMeasurement& f) {
        m_fit = f;
        m_fitButton->setEnabled(true);
        updateStats();
        emit fitShown();
    };
    cb.turn = [this](const SecondTurn& t) {
        m_turn = t;
        m_turnButton->setEnabled(true);
        updateStats();
        emit turnShown();
    };
    cb.failed = [this](const QString& message) {
        m_error = message;
        m_runButton->setEnabled(true);
        m_fitButton->setEnabled(true);
        m_turnButton->setEnabled(true);
        updateStats();
        emit failed(message);
    };
    m_worker = new ConversationsWorker(this, cb);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.setObjectName(QStringLiteral("conversations"));
    m_thread.start();

    m_budget = new QDoubleSpinBox;
    m_budget->setRange(0.25, 4096);
    m_budget->setDecimals(2);
    m_budget->setValue(4.0);
    m_budget->setSuffix(tr(" MiB"));
    m_budget->setToolTip(tr("KV memory for all conversations together"));
    m_limit = new QSpinBox;
    m_limit->setRange(16, 1 << 20);
    m_limit->setValue(512);
    m_limit->setSuffix(tr(" tokens"));
    m_limit->setToolTip(tr("The longest a conversation may grow: what reservation sets aside for each"));
    m_blockSize = new QSpinBox;
    m_blockSize->setRange(1, 1024);
    m_blockSize->setValue(16);
    m_blockSize->setToolTip(tr("Tokens per block under paging"));
    m_replyTokens = new QSpinBox;
    m_replyTokens->setRange(1, 4096);
    m_replyTokens->setValue(48);
    m_replyTokens->setToolTip(tr("Tokens each conversation generates in the demo"));
    m_system = new QLineEdit;
    m_system->setToolTip(tr("A system prompt every conversation starts with (\\n for a new line)"));
    m_prompts = new QLineEdit;
    m_prompts->setToolTip(tr("Each conversation's own prompt, separated by |  (2 to 8 of them)"));
    m_followUp = new QLineEdit;
    m_followUp->setToolTip(tr("The chat's second turn, sent after conversation 1's reply"));
    m_runButton = new QPushButton(tr("Run conversations"));
    m_fitButton = new QPushButton(tr("Measure how many fit"));
    m_turnButton = new QPushButton(tr("Time turn 2"));
    connect(m_runButton, &QPushButton::clicked, this, &ConversationsPanel::runDemo);
    connect(m_fitButton, &QPushButton::clicked, this, &ConversationsPanel::measureFit);
    connect(m_turnButton, &QPushButton::clicked, this, &ConversationsPanel::measureTurn);

    // The maps draw the panel's snapshot, never the runs': the view's store is an empty one of its own.
    m_maps = new GlView(m_mapStore, display, std::make_unique<BlockMapRenderer>(m_blockMaps), Side::cached);
    m_maps->setObjectName(QStringLiteral("conversationsMaps"));
    m_maps->setMinimumSize(320, 120);
    m_stats = new QLabel;
    m_stats->setWordWrap(true);
    m_stats->setTextFormat(Qt::RichText);
    m_stats->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    auto* statsScroll = new QScrollArea;
    statsScroll->setWidget(m_stats);
    statsScroll->setWidgetResizable(true);
    statsScroll->setFrameShape(QFrame::NoFrame);
    statsScroll->setMinimumWidth(320);
    statsScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

    auto* settings = new QHBoxLayout;
    auto add = [&](const QString& label, QWidget* w) {
        settings->addWidget(new QLabel(label));
        settings->addWidget(w);
    };
    add(tr("Budget"), m_budget);
    add(tr("Limit"), m_limit);
    add(tr("Block"), m_blockSize);
    add(tr("Reply"), m_replyTokens);
    settings->addWidget(m_runButton);
    settings->addWidget(m_fitButton);
    settings->addWidget(m_turnButton);
    settings->addStretch(1);
    auto* texts = new QHBoxLayout;
    texts->addWidget(new QLabel(tr("System")));
    texts->addWidget(m_system, 3);
    texts->addWidget(new QLabel(tr("Conversations")));
    texts->addWidget(m_prompts, 3);
    texts->addWidget(new QLabel(tr("Turn 2")));
    texts->addWidget(m_followUp, 1);
    auto* maps = new QHBoxLayout;
    maps->addWidget(m_maps, 1);
    maps->addWidget(statsScroll, 0);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->setSpacing(4);
    layout->addLayout(settings);
    layout->addLayout(texts);
    layout->addLayout(maps, 1);
    connect(&m_display, &DisplaySettings::changed, this, &ConversationsPanel::updateStats);
    updateStats();
}

// A button that disables itself passes the keyboard focus down the tab chain, to the system prompt's line
// edit, which selects its text: the next key typed (Space to step, say) would replace the prompt. The focus
// goes to the window instead, where the shortcuts are.
void ConversationsPanel::holdWhileBusy(QPushButton* button) {
    if (button->hasFocus()) window()->setFocus(Qt::OtherFocusReason);
    button->setEnabled(false);
}

ConversationsPanel::~ConversationsPanel() {
    m_worker->cancelFlag() = true;
    m_thread.quit();
    m_thread.wait();
    delete m_maps;  // it refers to m_mapStore, a member that dies before the children
}

void ConversationsPanel::setBudgetMiB(double mib) {
    m_budget->setValue(mib);
}

void ConversationsPanel::setModel(const ModelInfo& info) {
    m_model = info;
    *m_blockMaps = BlockMaps{};
    m_maps->requestRepaint();
    m_fit.reset();
    m_turn.reset();
    m_error.clear();
    m_worker->cancelFlag() = true;
    auto model = info.model;
    QMetaObject::invokeMethod(m_worker, [w = m_worker, model] { w->setModel(model); });
    if (info.tokenizer) {
        m_system->setText(
            QStringLiteral("First Citizen:\\nBefore we proceed any further, hear me speak.\\n\\nAll:\\n"
                           "Speak, speak.\\n\\nFirst Citizen:\\nYou are all resolved rather to die "
                           "than to famish?\\n\\nAll:\\nResolved. resolved.\\n\\n"));
        m_prompts->setText(QStringLiteral("ROMEO:\\n | JULIET:\\n | MENENIUS:\\n | KING RICHARD III:\\n"));
        m_followUp->setText(QStringLiteral("\\n\\nJULIET:\\nWhat say you to this?\\n\\nROMEO:\\n"));
    } else {
        m_system->setText(
            QStringLiteral("1, 15, 27, 99, 3, 8, 42, 7, 19, 23, 64, 5, 11, 2, 9, 31, 50, 6, 17, 21"));
        m_prompts->setText(QStringLiteral("10, 20 | 30 | 40, 41, 42 | 55, 56"));
        m_followUp->setText(QStringLiteral("12, 13, 14"));
    }
    m_limit->setMaximum(std::max(16, info.valid() ? info.config().context_length : 16));
    m_limit->setValue(std::min(512, m_limit->maximum()));
    updateStats();
}

bool ConversationsPanel::buildRequest(ConversationsRequest* r) {
    if (!m_model.valid()) {
        m_error = tr("No model is loaded.");
        updateStats();
        return false;
    }
    const ModelConfig& c = m_model.config();
    const Tokenizer* tok = m_model.tokenizer.get();
    PromptRules rules{tok, c.vocab_size, c.context_length};
    auto part = [&](const QString& text, bool first) -> Result<std::vector<int32_t>> {
        if (text.trimmed().isEmpty()) return std::vector<int32_t>{};
        if (tok && !first) {  // a continuation: no BOS in the middle of a conversation
            auto ids = tok->encode(unescape(text).toStdString(), false);
            return ids;
        }
        return parsePrompt(tok ? unescape(text) : text, rules);
    };
    auto system = part(m_system->text(), true);
    if (!system) {
        m_error = tr("System prompt: %1").arg(QString::fromStdString(system.message()));
        updateStats();
        return false;
    }
    r->system = system.value();
    r->prompts.clear();
    const QStringList pieces = m_prompts->text().split(QLatin1Char('|'));
    for (const QString& piece : pieces) {
        auto ids = part(piece.trimmed().isEmpty() ? piece : piece.trimmed(), r->system.empty());
        if (!ids || ids->empty()) {
            m_error = tr("Conversation %1: %2")
                          .arg(r->prompts.size() + 1)
                          .arg(ids ? tr("empty") : QString::fromStdString(ids.message()));
            updateStats();
            return false;
        }
        r->prompts.push_back(ids.value());
    }
    if (r->prompts.size() < 2 || r->prompts.size() > 8) {
        m_error = tr("Give 2 to 8 conversations, separated by |  (there are %1).").arg(r->prompts.size());
        updateStats();
        return false;
    }
    auto follow = part(m_followUp->text(), false);
    r->followUp = follow ? follow.value() : std::vector<int32_t>{};
    // Many different openings for "how many fit": speakers of the corpus, each with a few first words.
    r->fitPrompts.clear();
    if (tok) {
        static const char* kSpeakers[] = {
            "ROMEO",           "JULIET",         "MENENIUS",       "CORIOLANUS", "KING RICHARD III",
            "QUEEN ELIZABETH", "GLOUCESTER",     "DUKE VINCENTIO", "ISABELLA",   "LUCIO",
            "PETRUCHIO",       "KATHARINA",      "BUCKINGHAM",     "LEONTES",    "PAULINA",
            "HERMIONE",        "NORTHUMBERLAND", "BOLINGBROKE",    "YORK",       "WARWICK",
            "CLARENCE",        "First Citizen",  "Second Citizen", "BRUTUS"};
        static const char* kOpenings[] = {"", "O, ", "Nay, ", "Good ", "Why, ", "My lord, "};
        for (const char* o : kOpenings)
            for (const char* s : kSpeakers) {
                auto ids = tok->encode(std::string(s) + ":\n" + o, false);
                if (ids) r->fitPrompts.push_back(ids.value());
            }
    } else {
        for (int j = 0; j < 144; ++j)
            r->fitPrompts.push_back(
                {int32_t((j * 37 + 5) % c.vocab_size), int32_t((j * 11 + 3) % c.vocab_size)});
    }
    r->budgetMiB = m_budget->value();
    r->limit = m_limit->value();
    r->blockSize = m_blockSize->value();
    r->replyTokens = m_replyTokens->value();
    m_error.clear();
    return true;
}

void ConversationsPanel::runDemo() {
    ConversationsRequest r;
    if (!buildRequest(&r)) return;
    holdWhileBusy(m_runButton);
    m_blockMaps->snapshot.reset();
    m_worker->cancelFlag() = true;
    const int delay = m_stepDelayMs;
    QMetaObject::invokeMethod(m_worker, [w = m_worker, r, delay] { w->runDemo(r, delay); });
}

void ConversationsPanel::measureFit() {
    ConversationsRequest r;
    if (!buildRequest(&r)) return;
    holdWhileBusy(m_fitButton);
    QMetaObject::invokeMethod(m_worker, [w = m_worker, r] { w->measureFit(r); });
}

void ConversationsPanel::measureTurn() {
    ConversationsRequest r;
    if (!buildRequest(&r)) return;
    holdWhileBusy(m_turnButton);
    QMetaObject::invokeMethod(m_worker, [w = m_worker, r] { w->measureTurn(r); });
}

QString ConversationsPanel::conversationName(int i) const {
    const QStringList pieces = m_prompts->text().split(QLatin1Char('|'));
    QString name = i < pieces.size() ? pieces[i].trimmed() : QString::number(i + 1);
    name.replace(QLatin1String("\\n"), QString());
    if (name.endsWith(QLatin1Char(':'))) name.chop(1);
    return name.left(18);
}

void ConversationsPanel::showSnapshot(const ConversationsSnapshot& s) {
    if (s.finished) m_runButton->setEnabled(true);
    m_blockMaps->snapshot = s;
    m_blockMaps->names.clear();
    for (int i = 0; i < int(s.tokens.size()); ++i)
        m_blockMaps->names << conversationName(i);
    m_blockMaps->limit = m_limit->value();
    m_maps->requestRepaint();
    updateStats();
    emit snapshotShown();
}

const std::optional<ConversationsSnapshot>& ConversationsPanel::lastSnapshot() const {
    return m_blockMaps->snapshot;
}

QString ConversationsPanel::statsText() const {
    return m_stats->text();
}

void ConversationsPanel::updateStats() {
    const Theme& t = m_display.theme();
    QString html;
    auto row = [&](const QString& a, const QString& b, const QString& c) {
        html +=
            QStringLiteral("<tr><td>%1</td><td align=right>%2</td><td align=right>%3</td></tr>").arg(a, b, c);
    };
    if (const std::optional<ConversationsSnapshot>& snapshot = m_blockMaps->snapshot) {
        const auto& s = *snapshot;
        html += QStringLiteral(
                    "<table cellspacing=0 cellpadding=1 width=100%><tr><th></th><th align=right>%1</th>"
                    "<th align=right>%2</th></tr>")
                    .arg(tr("paged"), tr("reserved"));
        row(tr("allocated"), formatBytes(double(s.paged.bytes_allocated)),
            formatBytes(double(s.reserved.bytes_allocated)));
        row(tr("holding tokens"), formatBytes(double(s.paged.bytes_holding_tokens)),
            formatBytes(double(s.reserved.bytes_holding_tokens)));
        row(tr("wasted"), formatBytes(double(s.paged.wasted_bytes())),
            formatBytes(double(s.reserved.wasted_bytes())));
        row(tr("conversations held"), QString::number(s.paged.sequences.size()),
            QString::number(s.reserved.sequences.size()));
        html += QStringLiteral("</table>");
        const double savedFlops = double(s.unsharedCounters.flops()) - double(s.pagedCounters.flops());
        html += tr("<p>Prefix tokens reused (not prefilled again): <b>%1</b>. ").arg(s.prefixReused);
        html += s.unsharedFailed.isEmpty()
                    ? tr("The same conversations paged without sharing computed %1 and took %2 more.</p>")
                          .arg(formatFlops(savedFlops))
                          .arg(formatSeconds(s.unsharedCounters.wall_seconds - s.pagedCounters.wall_seconds))
                    : tr("Paged without sharing, the same conversations did not fit in the budget: each "
                         "stored the system prompt again.</p>");
        if (!s.note.isEmpty())
            html +=
                QStringLiteral("<p style='color:%1'>%2</p>").arg(t.warning.name(), s.note.toHtmlEscaped());
    } else {
        html += tr("<p>Run the conversations to see their memory.</p>");
    }
    if (m_fit) {
        const auto& f = *m_fit;
        html +=
            tr("<p><b>How many fit</b> in %1 at %2 tokens each (measured, replies until the speech ends): "
               "reserved <b>%3</b> (waste %4), paged <b>%5</b> (waste %6).</p>")
                .arg(formatBytes(double(f.paged.memory.budget_bytes)))
                .arg(m_limit->value())
                .arg(f.reserved.completed.size())
                .arg(formatBytes(double(f.reserved.memory.wasted_bytes())))
                .arg(f.paged.completed.size())
                .arg(formatBytes(double(f.paged.memory.wasted_bytes())));
    }
    if (m_turn) {
        const auto& tt = *m_turn;
        html +=
            tr("<p><b>Chat, turn 2</b> (%1 new tokens after %2): first token in <b>%3 ms</b> with turn 1's "
               "cache, <b>%4 ms</b> prefilling everything (%5x; %6 vs %7 FLOPs).</p>")
                .arg(tt.turn2_tokens)
                .arg(tt.history_tokens)
                .arg(tt.ttft_cached_seconds * 1e3, 0, 'f', 2)
                .arg(tt.ttft_uncached_seconds * 1e3, 0, 'f', 2)
                .arg(tt.ttft_uncached_seconds / std::max(tt.ttft_cached_seconds, 1e-9), 0, 'f', 1)
                .arg(formatFlops(double(tt.flops_cached)))
                .arg(formatFlops(double(tt.flops_uncached)));
    }
    if (!m_error.isEmpty())
        html += QStringLiteral("<p style='color:%1'>%2</p>").arg(t.error.name(), m_error.toHtmlEscaped());
    m_stats->setText(html);
}

}  // namespace kvscope::app
