#include "conversations/conversations_panel.h"

#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

#include "format.h"
#include "prompt_parser.h"
#include "views/gl_view.h"

namespace kvscope::app {

namespace {

// One colour per conversation (up to 8), readable on the dark and the light themes.
QColor conversationColor(int i) {
    static const QColor kColors[] = {QColor(0x4e, 0x9a, 0xf0), QColor(0xe8, 0x6f, 0x5a),
                                     QColor(0x5c, 0xc0, 0x6a), QColor(0xc0, 0x7c, 0xe8),
                                     QColor(0xe8, 0xb4, 0x3c), QColor(0x3c, 0xc8, 0xc0),
                                     QColor(0xe0, 0x6a, 0xb0), QColor(0x9a, 0xa0, 0x50)};
    return kColors[((i % 8) + 8) % 8];
}

QString unescape(QString s) {
    return s.replace(QLatin1String("\\n"), QLatin1String("\n"));
}

}  // namespace

// ---- the block map ---------------------------------------------------------------------------------------

class BlockMapWidget : public QWidget {
  public:
    BlockMapWidget(DisplaySettings& display, QString title, QWidget* parent = nullptr)
        : QWidget(parent), m_display(display), m_title(std::move(title)) {
        setMinimumSize(160, 90);
        setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    }
    // conv[sequence id] = conversation index (colour); -1: unknown.
    void setMap(const MemoryMap& map, std::vector<int> conv, QString subtitle) {
        m_map = map;
        m_conv = std::move(conv);
        m_subtitle = std::move(subtitle);
        update();
    }

  protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        p.setRenderHint(QPainter::Antialiasing, false);
        const Theme& t = m_display.theme();
        p.fillRect(rect(), t.panel);
        QFont bold = font();
        bold.setBold(true);
        p.setFont(bold);
        p.setPen(t.textStrong);
        const int line = fontMetrics().height();
        p.drawText(QRect(6, 2, width() - 12, line), Qt::AlignLeft | Qt::AlignVCenter, m_title);
        p.setFont(font());
        p.setPen(t.textDim);
        p.drawText(QRect(6, 2 + line, width() - 12, line), Qt::AlignLeft | Qt::AlignVCenter, m_subtitle);
        const QRect area(6, 6 + 2 * line, width() - 12, height() - 10 - 2 * line);
        if (!m_map || area.height() < 8) return;
        const MemoryMap& m = *m_map;
        const uint64_t block_bytes = m.bytes_per_token * uint64_t(std::max(m_blockSize(), 1));
        const int cells = block_bytes ? int(m.budget_bytes / block_bytes) : 0;
        if (cells <= 0) return;
        // Square cells as large as fit.
        int size = int(std::floor(std::sqrt(double(area.width()) * area.height() / cells)));
        int cols = 0, rows = 0;
        for (; size > 2; --size) {
            cols = std::max(1, area.width() / size);
            rows = (cells + cols - 1) / cols;
            if (rows * size <= area.height()) break;
        }
        size = std::max(size, 2);
        cols = std::max(1, area.width() / size);
        auto cellRect = [&](int i) {
            return QRect(area.left() + (i % cols) * size, area.top() + (i / cols) * size, size - 1, size - 1);
        };
        // Every cell starts free.
        for (int i = 0; i < cells; ++i) {
            p.setPen(t.grid);
            p.setBrush(Qt::NoBrush);
            p.drawRect(cellRect(i).adjusted(0, 0, -1, -1));
        }
        auto drawUsed = [&](const QRect& r, const std::vector<int>& convs, int rows_used, int bs,
                            bool shared) {
            const double f = bs > 0 ? double(rows_used) / bs : 0.0;
            const int filled = int(std::round(f * r.width()));
            const int n = std::max<int>(1, int(convs.size()));
            for (int k = 0; k < n; ++k) {  // a shared block: a stripe per conversation that references it
                const QColor c = conversationColor(convs.empty() ? 0 : convs[size_t(k)]);
                const int y0 = r.top() + r.height() * k / n, y1 = r.top() + r.height() * (k + 1) / n;
                p.fillRect(QRect(r.left(), y0, filled, y1 - y0), c);
                if (filled < r.width()) {  // waste: allocated, no token in it
                    QColor w = c;
                    w.setAlpha(110);
                    p.fillRect(QRect(r.left() + filled, y0, r.width() - filled, y1 - y0),
                               QBrush(w, Qt::BDiagPattern));
                }
            }
            if (shared) {
                p.setPen(QPen(t.textStrong, std::max(1, size / 8)));
                p.setBrush(Qt::NoBrush);
                p.drawRect(r.adjusted(0, 0, -1, -1));
            }
        };
        if (m.layout == KVLayout::paged) {
            for (int b = 0; b < int(m.blocks.size()) && b < cells; ++b) {
                const auto& blk = m.blocks[size_t(b)];
                if (blk.ref_count == 0) continue;
                std::vector<int> convs;
                for (int s : blk.sequences)
                    convs.push_back(s < int(m_conv.size()) ? m_conv[size_t(s)] : s);
                drawUsed(cellRect(b), convs, blk.rows_used, m.block_size, blk.ref_count > 1);
            }
        } else {
            const int bs = m_blockSize();
            int at = 0;
            for (const auto& s : m.sequences) {
                const int n = (s.reserved_tokens + bs - 1) / bs;
                const int conv = s.id < int(m_conv.size()) ? m_conv[size_t(s.id)] : s.id;
                for (int j = 0; j < n && at < cells; ++j, ++at)
                    drawUsed(cellRect(at), {conv}, std::clamp(s.length - j * bs, 0, bs), bs, false);
            }
        }
    }

  private:
    int m_blockSize() const {
        return m_map ? (m_map->block_size > 0 ? m_map->block_size : m_cellTokens) : 16;
    }

  public:
    int m_cellTokens = 16;  // contiguous maps are drawn in cells of the paged block size

  private:
    DisplaySettings& m_display;
    QString m_title, m_subtitle;
    std::optional<MemoryMap> m_map;
    std::vector<int> m_conv;
};

// ---- the panel -------------------------------------------------------------------------------------------

ConversationsPanel::ConversationsPanel(DisplaySettings& display, QWidget* parent)
    : QWidget(parent), m_display(display) {
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

    m_pagedMap = new BlockMapWidget(display, tr("Paged: blocks of the budget"));
    m_reservedMap = new BlockMapWidget(display, tr("Reserved up front: each conversation its limit"));
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
    m_legend = new QLabel;
    m_legend->setTextFormat(Qt::RichText);
    m_legend->setWordWrap(true);

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
    maps->addWidget(m_pagedMap, 1);
    maps->addWidget(m_reservedMap, 1);
    maps->addWidget(statsScroll, 0);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->setSpacing(4);
    layout->addLayout(settings);
    layout->addLayout(texts);
    layout->addWidget(m_legend);
    layout->addLayout(maps, 1);
    connect(&m_display, &DisplaySettings::changed, this, [this] {
        m_pagedMap->update();
        m_reservedMap->update();
        updateStats();
    });
    updateStats();
}

ConversationsPanel::~ConversationsPanel() {
    m_worker->cancelFlag() = true;
    m_thread.quit();
    m_thread.wait();
}

void ConversationsPanel::setBudgetMiB(double mib) {
    m_budget->setValue(mib);
}

void ConversationsPanel::setModel(const ModelInfo& info) {
    m_model = info;
    m_snapshot.reset();
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
    m_pagedMap->setMap(MemoryMap{}, {}, QString());
    m_reservedMap->setMap(MemoryMap{}, {}, QString());
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
    m_runButton->setEnabled(false);
    m_snapshot.reset();
    m_worker->cancelFlag() = true;
    const int delay = m_stepDelayMs;
    QMetaObject::invokeMethod(m_worker, [w = m_worker, r, delay] { w->runDemo(r, delay); });
}

void ConversationsPanel::measureFit() {
    ConversationsRequest r;
    if (!buildRequest(&r)) return;
    m_fitButton->setEnabled(false);
    QMetaObject::invokeMethod(m_worker, [w = m_worker, r] { w->measureFit(r); });
}

void ConversationsPanel::measureTurn() {
    ConversationsRequest r;
    if (!buildRequest(&r)) return;
    m_turnButton->setEnabled(false);
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
    m_snapshot = s;
    if (s.finished) m_runButton->setEnabled(true);
    std::vector<int> pagedConv;  // demo sequence ids are the conversation indexes, in order of arrival
    for (int i = 0; i < int(s.tokens.size()); ++i)
        pagedConv.push_back(i);
    std::vector<int> reservedConv;
    for (int i = 0; i < int(s.admittedReserved.size()); ++i)
        if (s.admittedReserved[size_t(i)]) reservedConv.push_back(i);
    const MemoryMap& p = s.paged;
    int shared = 0;
    for (const auto& b : p.blocks)
        shared += b.ref_count > 1;
    m_pagedMap->setMap(p, pagedConv,
                       tr("%1 of %2 blocks in use (%3 shared), %4 free; %5 tokens a block")
                           .arg(p.n_blocks - p.n_free)
                           .arg(p.n_blocks)
                           .arg(shared)
                           .arg(p.n_free)
                           .arg(p.block_size));
    m_reservedMap->m_cellTokens = p.block_size > 0 ? p.block_size : 16;
    const MemoryMap& r = s.reserved;
    m_reservedMap->setMap(r, reservedConv,
                          tr("%1 reservations of %2 tokens; cells of %3 tokens")
                              .arg(r.sequences.size())
                              .arg(r.sequences.empty() ? m_limit->value() : r.sequences[0].reserved_tokens)
                              .arg(m_reservedMap->m_cellTokens));
    QStringList legend;
    for (int i = 0; i < int(s.tokens.size()); ++i)
        legend << QStringLiteral("<span style='color:%1'>&#9632;</span> %2 (%3 tokens)")
                      .arg(conversationColor(i).name(), conversationName(i).toHtmlEscaped())
                      .arg(s.tokens[size_t(i)].size());
    legend << tr("&#9633; free &nbsp; <b>outlined</b>: shared &nbsp; hatched: allocated, no token (waste)");
    m_legend->setText(legend.join(QStringLiteral(" &nbsp; ")));
    updateStats();
    emit snapshotShown();
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
    if (m_snapshot) {
        const auto& s = *m_snapshot;
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
        html += tr("<p>Prefix tokens reused (not prefilled again): <b>%1</b>. The same conversations paged "
                   "without sharing computed %2 and took %3 more.</p>")
                    .arg(s.prefixReused)
                    .arg(formatFlops(savedFlops))
                    .arg(formatSeconds(s.unsharedCounters.wall_seconds - s.pagedCounters.wall_seconds));
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
