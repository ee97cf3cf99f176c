#include "conversations/conversations_worker.h"

#include <QMetaObject>
#include <QThread>

#include "format.h"
#include "kvscope/tokenizer.h"

namespace kvscope::app {

ConversationsWorker::ConversationsWorker(QObject* guiReceiver, Callbacks callbacks)
    : m_gui(guiReceiver), m_callbacks(std::move(callbacks)) {}

void ConversationsWorker::post(std::function<void()> f) {
    QMetaObject::invokeMethod(m_gui, std::move(f), Qt::QueuedConnection);
}

void ConversationsWorker::setModel(std::shared_ptr<const Model> model) {
    m_engine.reset();
    if (!model) return;
    // One thread: the window's own runs keep the other core.
    auto engine = Engine::create(std::move(model), make_cpu_backend(1));
    if (!engine) {
        const QString message = QString::fromStdString(engine.message());
        post([this, message] { m_callbacks.failed(message); });
        return;
    }
    m_engine = engine.value();
}

bool ConversationsWorker::ready() {
    if (m_engine) return true;
    post([this] { m_callbacks.failed(tr("No model is loaded.")); });
    return false;
}

void ConversationsWorker::runDemo(const ConversationsRequest& r, int stepDelayMs) {
    if (!ready()) return;
    m_cancel = false;
    BatchOptions po;
    po.layout = KVLayout::paged;
    po.block_size = r.blockSize;
    po.budget_bytes = uint64_t(r.budgetMiB * 1024.0 * 1024.0);
    po.max_tokens = std::min(r.limit, m_engine->config().context_length);
    po.max_sequences = 8;
    po.share_prefixes = true;
    BatchOptions ro = po;
    ro.layout = KVLayout::contiguous;
    ro.share_prefixes = false;  // the baseline: each conversation computes and stores its own prefix
    BatchOptions uo = po;
    uo.share_prefixes = false;
    auto paged = BatchSession::create(m_engine, po);
    auto reserved = BatchSession::create(m_engine, ro);
    auto unshared = BatchSession::create(m_engine, uo);
    if (!paged || !reserved || !unshared) {
        const QString message = QString::fromStdString(!paged      ? paged.message()
                                                       : !reserved ? reserved.message()
                                                                   : unshared.message());
        post([this, message] { m_callbacks.failed(message); });
        return;
    }
    struct Conv {
        int pagedId = -1, reservedId = -1, unsharedId = -1;
        std::vector<int32_t> prompt;
        int replies = 0;
        bool done = false;
    };
    const int n = std::min<int>(int(r.prompts.size()), 8);
    std::vector<Conv> convs(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        convs[size_t(i)].prompt = r.system;
        convs[size_t(i)].prompt.insert(convs[size_t(i)].prompt.end(), r.prompts[size_t(i)].begin(),
                                       r.prompts[size_t(i)].end());
    }
    ConversationsSnapshot snap;
    snap.admittedReserved.assign(size_t(n), false);
    QStringList notes;
    // Conversation i arrives at step i: the later ones find the system prompt already cached.
    for (int step = 0; !m_cancel; ++step) {
        std::vector<BatchSession::Input> pin, rin, uin;
        for (int i = 0; i < n; ++i) {
            Conv& c = convs[size_t(i)];
            if (i == step) {
                auto pid = paged.value()->add_sequence();
                if (pid) {
                    c.pagedId = pid.value();
                    pin.push_back({c.pagedId, c.prompt, false});
                }
                if (auto uid = unshared.value()->add_sequence()) {
                    c.unsharedId = uid.value();
                    uin.push_back({c.unsharedId, c.prompt, false});
                }
                auto rid = reserved.value()->add_sequence();
                if (rid) {
                    c.reservedId = rid.value();
                    rin.push_back({c.reservedId, c.prompt, false});
                    snap.admittedReserved[size_t(i)] = true;
                } else if (reserved.value()->n_sequences() == 0) {
                    const MemoryMap m = reserved.value()->memory();
                    notes
                        << tr("Reservation: no room for conversation %1 (one reservation of %2 tokens takes "
                              "%3, more than the whole budget).")
                               .arg(i + 1)
                               .arg(reserved.value()->max_tokens())
                               .arg(formatBytes(double(m.bytes_per_token) * reserved.value()->max_tokens()));
                } else {
                    notes << tr("Reservation: no room for conversation %1 (%2 reservations fill the budget).")
                                 .arg(i + 1)
                                 .arg(reserved.value()->n_sequences());
                }
                continue;
            }
            if (i > step || c.done) continue;
            if (c.pagedId >= 0) pin.push_back({c.pagedId, {paged.value()->next_token(c.pagedId)}, false});
            if (c.reservedId >= 0)
                rin.push_back({c.reservedId, {reserved.value()->next_token(c.reservedId)}, false});
            if (c.unsharedId >= 0)
                uin.push_back({c.unsharedId, {unshared.value()->next_token(c.unsharedId)}, false});
        }
        if (pin.empty() && rin.empty() && step >= n) break;
        if (!pin.empty()) {
            auto s = paged.value()->step(pin);
            if (!s) {
                notes << tr("Paging: %1").arg(QString::fromStdString(s.message()));
                for (Conv& c : convs)
                    c.done = true;
            } else {
                for (const SequenceStep& q : s->sequences)
                    snap.prefixReused += q.prefix_reused;
            }
        }
        // Without sharing the same budget may run out first: that run stops there, and what it computed
        // is no longer comparable (the panel and the lessons then say so instead of a difference).
        if (!uin.empty() && snap.unsharedFailed.isEmpty()) {
            auto s = unshared.value()->step(uin);
            if (!s) {
                snap.unsharedFailed = QString::fromStdString(s.message());
                notes << tr("Paging without sharing: %1").arg(snap.unsharedFailed);
            }
        }
        if (!rin.empty()) {
            auto s = reserved.value()->step(rin);
            if (!s) notes << tr("Reservation: %1").arg(QString::fromStdString(s.message()));
        }
        for (Conv& c : convs) {
            if (c.pagedId < 0 || c.done) continue;
            ++c.replies;
            const int held = int(paged.value()->tokens(c.pagedId).size());
            if (c.replies >= r.replyTokens || held + 1 >= po.max_tokens) c.done = true;
        }
        snap.steps = step + 1;
        snap.paged = paged.value()->memory();
        snap.reserved = reserved.value()->memory();
        snap.pagedCounters = paged.value()->cumulative();
        snap.reservedCounters = reserved.value()->cumulative();
        snap.unsharedCounters = unshared.value()->cumulative();
        snap.tokens.clear();
        for (const Conv& c : convs)
            snap.tokens.push_back(c.pagedId >= 0 ? paged.value()->tokens(c.pagedId) : std::vector<int32_t>{});
        snap.note = notes.join(QLatin1Char(' '));
        bool all_done = step + 1 >= n;
        for (const Conv& c : convs)
            all_done = all_done && (c.done || c.pagedId < 0);
        snap.finished = all_done;
        post([this, snap] { m_callbacks.snapshot(snap); });
        if (all_done) break;
        if (stepDelayMs > 0) QThread::msleep(unsigned(stepDelayMs));
    }
}

void ConversationsWorker::measureFit(const ConversationsRequest& r) {
    if (!ready()) return;
    m_cancel = false;
    // Prompts: the system prompt, then each opening in turn.
    std::vector<std::vector<int32_t>> prompts;
    const uint64_t budget = uint64_t(r.budgetMiB * 1024.0 * 1024.0);
    for (const auto& own : r.fitPrompts) {
        std::vector<int32_t> p = r.system;
        p.insert(p.end(), own.begin(), own.end());
        prompts.push_back(std::move(p));
    }
    ServeOptions o;
    o.batch.budget_bytes = budget;
    o.batch.max_tokens = std::min(r.limit, m_engine->config().context_length);
    o.batch.block_size = r.blockSize;
    o.in_flight = 8;
    // A reply ends where the model ends a paragraph (a speech, for the embedded model), else at the limit.
    if (auto tok = m_engine->model().tokenizer)
        o.reply_done = [tok](std::span<const int32_t> reply) {
            return tok->decode(reply).find("\n\n") != std::string::npos;
        };
    o.cancel = &m_cancel;
    FitMeasurement m;
    m.prompts = int(prompts.size());
    for (KVLayout layout : {KVLayout::contiguous, KVLayout::paged}) {
        o.batch.layout = layout;
        o.batch.share_prefixes = layout == KVLayout::paged;
        auto result = serve_until_full(m_engine, prompts, o);
        if (!result) {
            const QString message = QString::fromStdString(result.message());
            post([this, message] { m_callbacks.failed(message); });
            return;
        }
        (layout == KVLayout::paged ? m.paged : m.reserved) = std::move(result.value());
    }
    post([this, m] { m_callbacks.fit(m); });
}

void ConversationsWorker::measureTurn(const ConversationsRequest& r) {
    if (!ready()) return;
    if (r.prompts.empty() || r.followUp.empty()) {
        post([this] { m_callbacks.failed(tr("The chat needs a first conversation and a follow-up.")); });
        return;
    }
    std::vector<int32_t> turn1 = r.system;
    turn1.insert(turn1.end(), r.prompts[0].begin(), r.prompts[0].end());
    auto t = measure_second_turn(m_engine, turn1, r.followUp, r.replyTokens, nullptr, 3);
    if (!t) {
        const QString message = QString::fromStdString(t.message());
        post([this, message] { m_callbacks.failed(message); });
        return;
    }
    const SecondTurn result = t.value();
    post([this, result] { m_callbacks.turn(result); });
}

}  // namespace kvscope::app
