// Paged KV cache: on every fixture, batches of 1–8 sequences of different lengths (joining while others
// decode, with and without a shared prefix, forks that copy-on-write at a block boundary and mid-block)
// give the same logits in paged blocks as in contiguous per-sequence caches — bit for bit, since paged
// attention gathers through the block table and runs the contiguous op — and the same greedy ids; each
// sequence also matches a single-sequence Session fed the same tokens (within float32 rounding of a
// batched matrix product: 1e-4, the fixtures' bound). Block accounting, reference counts and full pools.
#include <QtTest>
#include <map>

#include "kvscope/batch_session.h"
#include "kvscope/conversations.h"
#include "support/engine_helpers.h"
#include "support/fixtures.h"

using namespace kvscope;
using namespace kvscope::test;

namespace {

// What a scenario does: sequence i brings prompts[i] at step start[i], then decodes greedily until
// `steps` steps have run; forks: at step `at`, sequence `child` is made from the first `n` tokens of `parent`
// and then decodes too.
struct Fork {
    int at, parent, n;
};
struct Scenario {
    std::vector<std::vector<int32_t>> prompts;
    std::vector<int> start;
    std::vector<Fork> forks;
    int steps = 12;
};

// Per sequence (in creation order): the last-row logits of every step it took, and the ids chosen.
struct Run {
    std::vector<std::vector<std::vector<float>>> logits;
    std::vector<std::vector<int32_t>> chosen;
    std::vector<std::vector<int32_t>> tokens;  // final tokens
    int blocks_copied = 0;
    int prefix_reused = 0;
    std::string error;
};

Run run_batch(const std::shared_ptr<Engine>& engine, KVLayout layout, int block_size, const Scenario& sc,
              bool share, MemoryMap* final_map = nullptr) {
    Run run;
    BatchOptions o;
    o.layout = layout;
    o.block_size = block_size;
    o.max_sequences = 16;
    o.share_prefixes = share;
    auto made = BatchSession::create(engine, o);
    if (!made) {
        run.error = made.message();
        return run;
    }
    BatchSession& b = *made.value();
    const int V = engine->config().vocab_size;
    std::vector<int> ids;  // creation order -> sequence id
    std::map<int, int> index_of;
    auto note = [&](int id) {
        index_of[id] = int(ids.size());
        ids.push_back(id);
        run.logits.emplace_back();
        run.chosen.emplace_back();
    };
    for (int step = 0; step < sc.steps; ++step) {
        for (const Fork& f : sc.forks) {
            if (f.at != step) continue;
            auto child = b.fork(ids[size_t(f.parent)], f.n);
            if (!child) {
                run.error = child.message();
                return run;
            }
            note(child.value());
        }
        std::vector<BatchSession::Input> inputs;
        for (size_t p = 0; p < sc.prompts.size(); ++p) {
            if (sc.start[p] != step) continue;
            auto id = b.add_sequence();
            if (!id) {
                run.error = id.message();
                return run;
            }
            note(id.value());
            inputs.push_back({id.value(), sc.prompts[p], false});
        }
        for (int id : ids) {
            bool fresh = false;
            for (auto& in : inputs)
                fresh |= in.sequence == id;
            if (fresh) continue;
            const auto& t = b.tokens(id);
            // A fork brings the token its parent chose after its prefix; others their own next token.
            // A fork has sampled nothing yet: its first token is made up (deterministically) so that it
            // leaves its parent's path at once.
            int32_t next = b.next_token(id);
            if (next < 0) next = int32_t((t.back() * 31 + 7) % V);
            inputs.push_back({id, {next}, false});
        }
        auto r = b.step(inputs);
        if (!r) {
            run.error = r.message();
            return run;
        }
        for (const SequenceStep& s : r->sequences) {
            const int i = index_of[s.sequence];
            run.logits[size_t(i)].emplace_back(s.logits.end() - V, s.logits.end());
            run.chosen[size_t(i)].push_back(s.chosen);
            run.blocks_copied += s.blocks_copied;
            run.prefix_reused += s.prefix_reused;
        }
    }
    for (int id : ids)
        run.tokens.push_back(b.tokens(id));
    if (final_map) *final_map = b.memory();
    return run;
}

float compare_runs(const Run& a, const Run& b) {
    float worst = 0.0f;
    if (a.logits.size() != b.logits.size()) return 1e30f;
    for (size_t s = 0; s < a.logits.size(); ++s) {
        if (a.logits[s].size() != b.logits[s].size() || a.chosen[s] != b.chosen[s]) return 1e30f;
        for (size_t t = 0; t < a.logits[s].size(); ++t)
            worst = std::max(
                worst, max_abs_diff(a.logits[s][t].data(), b.logits[s][t].data(), a.logits[s][t].size()));
    }
    return worst;
}

// Feeds each final token sequence to a single-sequence Session (prefill of the first step's rows, then one
// token at a time) and returns the largest logit difference to the batch's last-row logits.
float compare_with_sessions(const std::shared_ptr<Engine>& engine, const Run& run) {
    float worst = 0.0f;
    const int V = engine->config().vocab_size;
    for (size_t s = 0; s < run.tokens.size(); ++s) {
        const auto& toks = run.tokens[s];
        const size_t steps = run.logits[s].size();
        const size_t first = toks.size() - (steps - 1);  // tokens of its first step (prefix included)
        auto session = make_session(engine, SessionMode::cached, TraceOptions::off());
        auto a = session->prefill(std::span<const int32_t>(toks.data(), first));
        if (!a) return 1e30f;
        for (size_t t = 0; t < steps; ++t) {
            if (t > 0 && !session->decode(toks[first + t - 1])) return 1e30f;
            auto l = session->logits();
            worst =
                std::max(worst, max_abs_diff(l.data() + l.size() - V, run.logits[s][t].data(), size_t(V)));
        }
    }
    return worst;
}

std::vector<int32_t> make_prompt(const std::vector<int32_t>& base, int length, int salt, int vocab) {
    std::vector<int32_t> p;
    for (int i = 0; i < length; ++i)
        p.push_back(i < int(base.size()) && salt == 0
                        ? base[size_t(i)]
                        : int32_t((base[size_t(i) % base.size()] * 7 + salt * 13 + i * 3) % vocab));
    return p;
}

}  // namespace

class PagedCacheTest : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
    }

    void pagedEqualsContiguous_data() {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<int>("batch");
        QTest::addColumn<bool>("shared");
        for (const QString& name : model_fixture_names())
            for (int batch = 1; batch <= 8; ++batch)
                for (bool shared : {false, true})
                    QTest::newRow(qPrintable(
                        QString("%1 batch %2%3").arg(name).arg(batch).arg(shared ? " shared prefix" : "")))
                        << name << batch << shared;
    }

    // Batches of `batch` sequences with prompts of different lengths (5, 8, 11, ... tokens), joining one per
    // step while the earlier ones decode; with `shared`, every prompt opens with the same 21-token prefix
    // (ending mid-block), so later sequences take it from the first one's blocks.
    void pagedEqualsContiguous() {
        QFETCH(QString, fixture);
        QFETCH(int, batch);
        QFETCH(bool, shared);
        const std::string dir = model_fixture_path(fixture);
        auto ref = load_reference(dir);
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        std::string error;
        auto engine = make_cpu_engine(dir, error);
        QVERIFY2(engine, error.c_str());
        const int V = engine->config().vocab_size;
        Scenario sc;
        sc.steps = batch + 10;
        const auto prefix = make_prompt(ref->input_ids, 21, 0, V);
        for (int i = 0; i < batch; ++i) {
            auto own = make_prompt(ref->input_ids, 5 + 3 * i, i + 1, V);
            std::vector<int32_t> p = shared ? prefix : std::vector<int32_t>{};
            p.insert(p.end(), own.begin(), own.end());
            sc.prompts.push_back(p);
            sc.start.push_back(i);
        }
        MemoryMap map;
        const Run paged = run_batch(engine, KVLayout::paged, 16, sc, true, &map);
        QVERIFY2(paged.error.empty(), paged.error.c_str());
        const Run contiguous = run_batch(engine, KVLayout::contiguous, 16, sc, true);
        QVERIFY2(contiguous.error.empty(), contiguous.error.c_str());
        const float diff = compare_runs(paged, contiguous);
        const float vs_session = compare_with_sessions(engine, paged);
        qInfo(
            "%s batch %d%s: paged vs contiguous max |dlogit| = %g (greedy ids identical), vs single Session "
            "%g; "
            "prefix tokens reused %d, blocks copied on write %d, blocks in use %d",
            qPrintable(fixture), batch, shared ? " shared" : "", double(diff), double(vs_session),
            paged.prefix_reused, paged.blocks_copied, map.n_blocks - map.n_free);
        QVERIFY2(diff <= 1e-6f, qPrintable(QString("paged and contiguous differ by %1").arg(diff)));
        QVERIFY2(vs_session <= 1e-4f,
                 qPrintable(QString("batch vs single session differ by %1").arg(vs_session)));
        if (batch == 1) QCOMPARE(vs_session, 0.0f);  // one sequence: the very same arithmetic as Session
        QCOMPARE(paged.prefix_reused, shared ? 21 * (batch - 1) : 0);
        // Shared blocks are stored once: the first block of the prefix is referenced by every sequence.
        if (shared) QCOMPARE(map.blocks[size_t(map.sequences[0].blocks[0])].ref_count, batch);
        // Every shared mid-block prefix (21 = 16 + 5) is copied on write once per sequence that reuses it
        // and writes into it; the owner keeps the original.
        if (shared) QCOMPARE(paged.blocks_copied, batch - 1);
    }

    void copyOnWrite_data() {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<int>("at");
        for (const QString& name : model_fixture_names()) {
            QTest::newRow(qPrintable(name + " at a block boundary (32)")) << name << 32;
            QTest::newRow(qPrintable(name + " mid-block (21)")) << name << 21;
        }
    }

    // A sequence of 40 tokens is forked at `at`; parent and child then decode different tokens. At a
    // boundary the child's first write opens a new block (nothing copied); mid-block the child's write goes
    // to the shared partial block and copies it. Both equal contiguous caches where the prefix was copied.
    void copyOnWrite() {
        QFETCH(QString, fixture);
        QFETCH(int, at);
        const std::string dir = model_fixture_path(fixture);
        auto ref = load_reference(dir);
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        std::string error;
        auto engine = make_cpu_engine(dir, error);
        QVERIFY2(engine, error.c_str());
        Scenario sc;
        sc.prompts = {make_prompt(ref->input_ids, 40, 3, engine->config().vocab_size)};
        sc.start = {0};
        sc.forks = {{1, 0, at},
                    {1, 0, at}};  // two children: the second write into the shared block copies too
        sc.steps = 8;
        MemoryMap map;
        const Run paged = run_batch(engine, KVLayout::paged, 16, sc, false, &map);
        QVERIFY2(paged.error.empty(), paged.error.c_str());
        const Run contiguous = run_batch(engine, KVLayout::contiguous, 16, sc, false);
        QVERIFY2(contiguous.error.empty(), contiguous.error.c_str());
        const float diff = compare_runs(paged, contiguous);
        const float vs_session = compare_with_sessions(engine, paged);
        qInfo("%s fork at %d: paged vs contiguous %g, vs Session %g, blocks copied %d", qPrintable(fixture),
              at, double(diff), double(vs_session), paged.blocks_copied);
        QVERIFY2(diff <= 1e-6f, qPrintable(QString("paged and contiguous differ by %1").arg(diff)));
        QVERIFY2(vs_session <= 1e-4f, qPrintable(QString("vs Session: %1").arg(vs_session)));
        // Mid-block: each child copies the shared partial block before its first write (the parent's own
        // writes go to a later block). At a boundary nobody writes into a shared block.
        QCOMPARE(paged.blocks_copied, at % 16 == 0 ? 0 : 2);
        // The blocks before the fork point stay shared by all three.
        QCOMPARE(map.blocks[size_t(map.sequences[0].blocks[0])].ref_count, 3);
        // Block accounting: every block in use is referenced, and the free ones are not.
        int used = 0;
        for (const auto& b : map.blocks)
            used += b.ref_count > 0;
        QCOMPARE(used, map.n_blocks - map.n_free);
    }

    void blockSizes_data() {
        QTest::addColumn<int>("block_size");
        for (int bs : {1, 3, 7, 16, 64})
            QTest::newRow(qPrintable(QString::number(bs))) << bs;
    }

    // The block size is a setting: any size gives the contiguous cache's logits.
    void blockSizes() {
        QFETCH(int, block_size);
        const std::string dir = model_fixture_path("tiny-llama-gqa");
        auto ref = load_reference(dir);
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        std::string error;
        auto engine = make_cpu_engine(dir, error);
        QVERIFY2(engine, error.c_str());
        Scenario sc;
        for (int i = 0; i < 3; ++i) {
            sc.prompts.push_back(make_prompt(ref->input_ids, 9 + 5 * i, i, engine->config().vocab_size));
            sc.start.push_back(0);
        }
        sc.forks = {{2, 1, 10}};
        sc.steps = 10;
        const Run paged = run_batch(engine, KVLayout::paged, block_size, sc, true);
        QVERIFY2(paged.error.empty(), paged.error.c_str());
        const Run contiguous = run_batch(engine, KVLayout::contiguous, block_size, sc, true);
        QVERIFY2(contiguous.error.empty(), contiguous.error.c_str());
        QVERIFY(compare_runs(paged, contiguous) <= 1e-6f);
    }

    // A pool of a given budget holds exactly that many blocks; a step that needs more is refused with a
    // message, changes nothing, and removing a sequence frees its blocks.
    void poolRunsOutClearly() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        const uint64_t per_block = engine->config().kv_bytes_per_token() * 16;
        BatchOptions o;
        o.budget_bytes = per_block * 3 + per_block / 2;  // room for 3 blocks
        auto b = BatchSession::create(engine, o);
        QVERIFY2(b.is_ok(), b.message().c_str());
        auto a = b.value()->add_sequence();
        auto c = b.value()->add_sequence();
        QVERIFY(a.is_ok() && c.is_ok());
        std::vector<int32_t> p40(40, 5), p20(20, 6);
        std::vector<BatchSession::Input> in = {{a.value(), p40, false}};
        QVERIFY(b.value()->step(in).is_ok());  // 3 blocks
        QCOMPARE(b.value()->memory().n_free, 0);
        std::vector<BatchSession::Input> in2 = {{c.value(), p20, false}};
        auto full = b.value()->step(in2);
        QVERIFY(!full.is_ok());
        qInfo("%s", full.message().c_str());
        QVERIFY(full.message().find("paged KV cache is full") != std::string::npos);
        QVERIFY(b.value()->tokens(c.value()).empty());
        b.value()->remove_sequence(a.value());
        QCOMPARE(b.value()->memory().n_free, 3);
        QVERIFY(b.value()->step(in2).is_ok());
        QCOMPARE(b.value()->memory().n_free, 1);
        // A half-empty last block is waste: 20 tokens in 2 blocks of 16.
        const MemoryMap m = b.value()->memory();
        QCOMPARE(m.wasted_bytes(), 12 * engine->config().kv_bytes_per_token());
    }

    // Contiguous: each sequence reserves its maximum up front; the budget admits floor(budget / reservation).
    void reservationAdmitsByMaximum() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        BatchOptions o;
        o.layout = KVLayout::contiguous;
        o.max_tokens = 100;
        o.budget_bytes = engine->config().kv_bytes_per_token() * 250;
        auto b = BatchSession::create(engine, o);
        QVERIFY2(b.is_ok(), b.message().c_str());
        QVERIFY(b.value()->add_sequence().is_ok());
        QVERIFY(b.value()->add_sequence().is_ok());
        auto third = b.value()->add_sequence();
        QVERIFY(!third.is_ok());
        qInfo("%s", third.message().c_str());
        QVERIFY(third.message().find("no room for another reservation of 100 tokens") != std::string::npos);
        QCOMPARE(b.value()->memory().bytes_allocated, engine->config().kv_bytes_per_token() * 200);
    }

    // Serving until memory is full: reservation admits budget / (limit x bytes per token) conversations;
    // paging holds every conversation's real length in blocks, so more fit, and it wastes less.
    void serveUntilFull() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        const uint64_t per_token = engine->config().kv_bytes_per_token();
        std::vector<std::vector<int32_t>> prompts;
        for (int i = 0; i < 40; ++i)
            prompts.push_back(std::vector<int32_t>(size_t(5 + (i * 7) % 23), int32_t(10 + i)));
        ServeOptions o;
        o.batch.max_tokens = 64;
        o.batch.budget_bytes = per_token * 64 * 4;  // four reservations
        o.in_flight = 3;
        o.max_new_tokens = 6;
        o.batch.layout = KVLayout::contiguous;
        o.batch.share_prefixes = false;
        auto reserved = serve_until_full(engine, prompts, o);
        QVERIFY2(reserved.is_ok(), reserved.message().c_str());
        o.batch.layout = KVLayout::paged;
        auto paged = serve_until_full(engine, prompts, o);
        QVERIFY2(paged.is_ok(), paged.message().c_str());
        qInfo(
            "reservation holds %d conversations (waste %llu bytes), paging %d (waste %llu bytes, %d dropped)",
            int(reserved->completed.size()), (unsigned long long)reserved->memory.wasted_bytes(),
            int(paged->completed.size()), (unsigned long long)paged->memory.wasted_bytes(), paged->preempted);
        QCOMPARE(int(reserved->completed.size()), 4);
        QVERIFY(reserved->memory_full);
        QVERIFY(paged->memory_full);
        QVERIFY(paged->completed.size() > reserved->completed.size());
        QVERIFY(paged->memory.bytes_allocated <= paged->memory.budget_bytes);
        QVERIFY(paged->memory.wasted_bytes() < reserved->memory.wasted_bytes());
        // What the paged memory holds is exactly the completed conversations' tokens.
        uint64_t tokens = 0;
        for (const auto& c : paged->completed)
            tokens += uint64_t(c.prompt_tokens + c.reply_tokens - 1);
        QCOMPARE(paged->memory.bytes_holding_tokens, tokens * per_token);
    }

    // A chat's second turn: with turn 1's cache only the new message runs; the first token is the same.
    void secondTurnReusesTheCache() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-qwen2"), error);
        QVERIFY2(engine, error.c_str());
        std::vector<int32_t> turn1(40, 7), turn2 = {3, 4, 5, 6};
        auto t = measure_second_turn(engine, turn1, turn2, 10, nullptr, 1);
        QVERIFY2(t.is_ok(), t.message().c_str());
        QCOMPARE(t->history_tokens, 40 + 10 - 1);
        QCOMPARE(t->turn2_tokens, 5);
        QVERIFY(t->flops_cached < t->flops_uncached);
        QVERIFY(t->max_logit_diff <= 1e-4f);
        qInfo("turn 2: %s vs %s FLOPs; logits differ by %g", std::to_string(t->flops_cached).c_str(),
              std::to_string(t->flops_uncached).c_str(), double(t->max_logit_diff));
    }
};

QTEST_GUILESS_MAIN(PagedCacheTest)
#include "test_paged_cache.moc"
