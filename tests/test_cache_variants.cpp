// Cache variants (the techniques lab): the element codecs against independent roundings and their
// documented bound; each eviction rule on a case checked by hand; the exact cache reproduced bit for bit
// wherever a variant must not change anything (f32, a window longer than the text, a budget that evicts
// nothing); re-indexed caches running past the model's context; quality measured against the exact run.
#include <QtTest>
#include <bit>
#include <cstring>
#include <random>

#include "kvscope/cache_policy.h"
#include "kvscope/kv_storage.h"
#include "kvscope/lab.h"
#include "kvscope/logit_compare.h"
#include "support/engine_helpers.h"
#include "support/fixtures.h"

using namespace kvscope;
using namespace kvscope::test;

namespace {

// bfloat16 by hand: round to nearest even on the upper 16 bits of the float32 pattern (finite inputs).
float bf16_round_by_hand(float x) {
    uint32_t b = std::bit_cast<uint32_t>(x);
    b += 0x7FFFu + ((b >> 16) & 1u);
    return std::bit_cast<float>(b & 0xFFFF0000u);
}

std::vector<float> test_values() {
    std::vector<float> v = {0.0f, -0.0f, 1.0f, -1.0f, 0.1f, 1.0f / 3.0f, 65504.0f, 6.1e-5f, 5.96e-8f, 1e-8f,
                            // exact ties of f16 (1 + 2^-11) and bf16 (1 + 2^-8): round to even
                            1.00048828125f, 1.00146484375f, 1.00390625f, 1.01171875f, -2.5e-3f, 3.14159f};
    std::mt19937 rng(7);
    std::normal_distribution<float> n(0.0f, 3.0f);
    for (int i = 0; i < 20000; ++i)
        v.push_back(n(rng) * std::ldexp(1.0f, int(rng() % 16) - 8));
    return v;
}

float round_trip(const KVStorage& s, float x) {
    std::vector<uint8_t> bytes(s.bytes_per_row(1));
    float out = 0.0f;
    s.encode_row(&x, 1, bytes.data());
    s.decode_row(bytes.data(), 1, &out);
    return out;
}

SessionOptions variant_options(const std::string& spec, TraceOptions trace = {}) {
    SessionOptions o;
    o.mode = SessionMode::cached;
    o.trace = trace;
    auto p = parse_cache_variant(spec);
    if (!p) qFatal("bad spec %s: %s", spec.c_str(), p.message().c_str());
    o.cache = p.value();
    return o;
}

std::unique_ptr<Session> make_variant(const std::shared_ptr<Engine>& engine, const std::string& spec,
                                      TraceOptions trace = {}) {
    auto s = Session::create(engine, variant_options(spec, trace));
    if (!s) qFatal("session %s: %s", spec.c_str(), s.message().c_str());
    return std::move(s.value());
}

std::vector<int32_t> text_tokens(int n, int vocab) {
    std::vector<int32_t> t;
    for (int i = 0; i < n; ++i)
        t.push_back(int32_t((i * 37 + 11) % vocab));
    return t;
}

// Runs prompt then teacher-forced decodes; returns every step's last logits row, concatenated.
std::vector<float> run_logits(Session& s, const std::vector<int32_t>& tokens, int prompt_len,
                              std::vector<StepTracePtr>* traces = nullptr) {
    std::vector<float> all;
    auto r = s.prefill(std::span<const int32_t>(tokens.data(), size_t(prompt_len)));
    if (!r) qFatal("prefill: %s", r.message().c_str());
    auto keep = [&](const Result<StepTracePtr>& t) {
        auto l = s.logits();
        const size_t v = size_t(s.engine().config().vocab_size);
        all.insert(all.end(), l.end() - v, l.end());
        if (traces) traces->push_back(t.value());
    };
    keep(r);
    for (size_t i = size_t(prompt_len); i < tokens.size(); ++i) {
        auto d = s.decode(tokens[i]);
        if (!d) qFatal("decode at %zu: %s", i, d.message().c_str());
        keep(d);
    }
    return all;
}

}  // namespace

class CacheVariantsTest : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
    }

    // ---- element codecs ------------------------------------------------------------------------------
    void f16RoundTripEqualsCompilerHalf() {
        const KVStorage s{KVElement::f16};
        int checked = 0;
        for (float x : test_values()) {
            const float expect =
                float(static_cast<_Float16>(x));  // GCC: IEEE binary16, round to nearest even
            const float got = round_trip(s, x);
            QVERIFY2(
                std::bit_cast<uint32_t>(got) == std::bit_cast<uint32_t>(expect),
                qPrintable(
                    QString("f16(%1) = %2, the compiler's _Float16 gives %3").arg(x).arg(got).arg(expect)));
            ++checked;
        }
        QCOMPARE(s.bytes_per_row(48), uint64_t(96));
        qInfo("f16: %d values round-trip exactly as _Float16 rounds them", checked);
    }

    void bf16RoundTripEqualsRoundToNearestEven() {
        const KVStorage s{KVElement::bf16};
        for (float x : test_values()) {
            const float expect = bf16_round_by_hand(x);
            const float got = round_trip(s, x);
            QVERIFY2(std::bit_cast<uint32_t>(got) == std::bit_cast<uint32_t>(expect),
                     qPrintable(QString("bf16(%1) = %2, by hand %3").arg(x).arg(got).arg(expect)));
        }
        QCOMPARE(round_trip(s, 1.00390625f), 1.0f);       // a tie: to even
        QCOMPARE(round_trip(s, 1.01171875f), 1.015625f);  // a tie: to even (up)
    }

    void integerDequantWithinBound_data() {
        QTest::addColumn<int>("element");
        QTest::addColumn<int>("group");
        QTest::addColumn<int>("head_dim");
        QTest::addColumn<int>("row_bytes");
        // int8: hd codes + 8 bytes (scale, min) per group; int4: ceil(hd/2) + 8 per group
        QTest::newRow("int8 g32 hd48") << int(KVElement::int8) << 32 << 48 << 48 + 16;
        QTest::newRow("int4 g32 hd48") << int(KVElement::int4) << 32 << 48 << 24 + 16;
        QTest::newRow("int4 g32 hd64") << int(KVElement::int4) << 32 << 64 << 32 + 16;
        QTest::newRow("int4 g16 hd16") << int(KVElement::int4) << 16 << 16 << 8 + 8;
        QTest::newRow("int8 g7 hd15") << int(KVElement::int8) << 7 << 15 << 15 + 24;
        QTest::newRow("int4 g5 hd15") << int(KVElement::int4) << 5 << 15 << 8 + 24;
    }

    void integerDequantWithinBound() {
        QFETCH(int, element);
        QFETCH(int, group);
        QFETCH(int, head_dim);
        QFETCH(int, row_bytes);
        KVStorage s{KVElement(element), group};
        QCOMPARE(s.bytes_per_row(head_dim), uint64_t(row_bytes));
        std::mt19937 rng(11);
        std::normal_distribution<float> n(0.0f, 1.0f);
        std::vector<uint8_t> bytes(s.bytes_per_row(head_dim));
        std::vector<float> row(static_cast<size_t>(head_dim)), back(static_cast<size_t>(head_dim));
        double worst_ratio = 0.0;
        for (int trial = 0; trial < 2000; ++trial) {
            const float spread = std::ldexp(1.0f, int(rng() % 12) - 6);
            for (auto& x : row)
                x = n(rng) * spread + (trial % 3 == 0 ? 5.0f * spread : 0.0f);
            if (trial == 1) std::fill(row.begin(), row.end(), 0.75f);  // a constant group: exact
            s.encode_row(row.data(), head_dim, bytes.data());
            s.decode_row(bytes.data(), head_dim, back.data());
            for (int g0 = 0; g0 < head_dim; g0 += group) {
                const int g1 = std::min(head_dim, g0 + group);
                std::span<const float> grp(row.data() + g0, size_t(g1 - g0));
                const float bound = s.error_bound(grp);
                float lo = grp[0], hi = grp[0];
                for (float x : grp) {
                    lo = std::min(lo, x);
                    hi = std::max(hi, x);
                }
                const float levels = float((1 << s.bits()) - 1);
                for (int i = g0; i < g1; ++i) {
                    const float err = std::abs(back[size_t(i)] - row[size_t(i)]);
                    QVERIFY2(err <= bound, qPrintable(QString("trial %1 value %2: |err| %3 > bound %4")
                                                          .arg(trial)
                                                          .arg(i)
                                                          .arg(err)
                                                          .arg(bound)));
                    if (hi > lo)
                        worst_ratio = std::max(worst_ratio, double(err) / ((hi - lo) / (2.0 * levels)));
                }
                if (trial == 1) QCOMPARE(back[size_t(g0)], 0.75f);
            }
        }
        qInfo("%s: worst error = %.4f x (hi - lo) / (2 L)", qPrintable(s.describe().c_str()), worst_ratio);
        QVERIFY(worst_ratio > 0.5);  // the bound is tight, not vacuous
    }

    // ---- each rule on a hand-checkable case -----------------------------------------------------------
    void heavyHittersKeepsTopAccumulatedAttention() {
        // One layer, one KV head read by two query heads. Step 1: 6 rows, attention known; B = 3, R = 1.
        CachePolicy p;
        p.eviction = EvictionKind::heavy_hitters;
        p.budget = 3;
        p.window = 1;
        auto policy = make_eviction_policy(p);
        QVERIFY(policy->needs_attention());
        std::vector<int32_t> pos = {0, 1, 2, 3, 4, 5};
        RowMapView map{1, 1, 6, 6, pos.data()};
        LayerAttention a;
        a.row_begin = 5;
        a.n_rows = 1;
        a.n_keys = 6;
        // head 0 and head 1; accumulated per row: 0.10+0.05, 0.40+0.10, 0.05+0.05, 0.30+0.50, 0.10+0.20, ...
        a.probs = {0.10f, 0.40f, 0.05f, 0.30f, 0.10f, 0.05f, /**/ 0.05f, 0.10f, 0.05f, 0.50f, 0.20f, 0.10f};
        auto keep = policy->decide(map, std::span<const LayerAttention>(&a, 1), 2);
        QVERIFY(keep.has_value());
        QCOMPARE(keep->rows_after, 3);
        // Scores of rows 0..4: .15 .50 .10 .80 .30 → top 2 are rows 3 and 1; row 5 is the recent one.
        QCOMPARE(keep->rows, (std::vector<int32_t>{1, 3, 5}));

        // Step 2: the kept rows now are rows 0..2 (positions 1, 3, 5) and a new row 3 (position 6).
        // Their scores moved with them (.50, .80, .15) and add this step's attention.
        std::vector<int32_t> pos2 = {1, 3, 5, 6};
        RowMapView map2{1, 1, 4, 4, pos2.data()};
        LayerAttention b;
        b.row_begin = 3;
        b.n_rows = 1;
        b.n_keys = 4;
        b.probs = {0.05f, 0.05f, 0.60f, 0.30f, /**/ 0.05f, 0.05f, 0.60f, 0.30f};
        // totals: .60 .90 1.35 (+.60 recent)  → keep row 1 (.90) and row 2 (1.35), plus recent row 3
        keep = policy->decide(map2, std::span<const LayerAttention>(&b, 1), 2);
        QVERIFY(keep.has_value());
        QCOMPARE(keep->rows, (std::vector<int32_t>{1, 2, 3}));
        // Under budget: nothing evicted.
        policy->reset();
        RowMapView small{1, 1, 3, 3, pos.data()};
        LayerAttention c;
        c.row_begin = 2;
        c.n_rows = 1;
        c.n_keys = 3;
        c.probs = {0.2f, 0.3f, 0.5f, 0.2f, 0.3f, 0.5f};
        QVERIFY(!policy->decide(small, std::span<const LayerAttention>(&c, 1), 2).has_value());
    }

    void tovaKeepsWhatTheNewestQueryReads() {
        CachePolicy p;
        p.eviction = EvictionKind::tova;
        p.budget = 2;
        auto policy = make_eviction_policy(p);
        std::vector<int32_t> pos = {0, 1, 2, 0, 1, 2};
        RowMapView map{1, 2, 3, 3, pos.data()};
        LayerAttention a;
        a.row_begin = 2;
        a.n_rows = 1;
        a.n_keys = 3;
        // two query heads (one per KV head); averaged: .35 .15 .50 → keep rows 0 and 2, in both KV heads
        a.probs = {0.6f, 0.1f, 0.3f, /**/ 0.1f, 0.2f, 0.7f};
        auto keep = policy->decide(map, std::span<const LayerAttention>(&a, 1), 2);
        QVERIFY(keep.has_value());
        QCOMPARE(keep->rows, (std::vector<int32_t>{0, 2, 0, 2}));
    }

    void sinksWindowKeepsFirstSAndLastW() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        const auto tokens = text_tokens(30, engine->config().vocab_size);
        auto s = make_variant(engine, "sinks:S=3,W=5");
        std::vector<StepTracePtr> traces;
        run_logits(*s, tokens, 4, &traces);
        const CacheState& cs = traces.back()->cache;
        QCOMPARE(cs.rows, 8);
        QCOMPARE(cs.sinks, 3);
        QVERIFY(!cs.contiguous);
        for (int l = 0; l < engine->config().n_layers; ++l)
            for (int h = 0; h < engine->config().n_kv_heads; ++h) {
                std::vector<int> got;
                for (int r = 0; r < cs.rows; ++r)
                    got.push_back(cs.position(l, h, r));
                QCOMPARE(got, (std::vector<int>{0, 1, 2, 25, 26, 27, 28, 29}));
            }
        QVERIFY(cs.holds(0, 0, 2) && !cs.holds(0, 0, 3) && !cs.holds(0, 0, 24) && cs.holds(0, 0, 29));
        // 30 tokens, 8 held: 22 evicted per layer and KV head.
        const auto& c = engine->config();
        QCOMPARE(traces.back()->cumulative.kv_rows_evicted, uint64_t(22 * c.n_layers * c.n_kv_heads));
        QCOMPARE(traces.back()->counters.kv_bytes_resident, c.kv_bytes_per_token(4) * 8);
        QCOMPARE(traces.back()->counters.kv_bytes_full, c.kv_bytes_per_token(4) * 30);
        // The trace's attention is over positions; evicted positions carry no weight, held ones sum to 1.
        auto s2 = make_variant(engine, "sinks:S=3,W=5");
        std::vector<StepTracePtr> t2;
        run_logits(*s2, tokens, 4, &t2);
        const LayerAttention& la = t2.back()->attention[0];
        QCOMPARE(la.n_keys, 30);
        double sum = 0.0;
        for (int k = 0; k < 30; ++k) {
            const float w = la.row(0, 0)[k];
            if (k >= 3 && k < 24) QCOMPARE(w, 0.0f);
            sum += w;
        }
        QVERIFY(std::abs(sum - 1.0) < 1e-5);
        // A plain window keeps the last W.
        auto w = make_variant(engine, "window:W=6");
        std::vector<StepTracePtr> tw;
        run_logits(*w, tokens, 4, &tw);
        QCOMPARE(tw.back()->cache.rows, 6);
        QCOMPARE(tw.back()->cache.position(1, 1, 0), 24);
        QCOMPARE(tw.back()->cache.position(1, 1, 5), 29);
    }

    // ---- exactness where nothing may change ---------------------------------------------------------
    void variantsThatChangeNothingAreExactBitForBit_data() {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("spec");
        for (const QString& f : {QStringLiteral("tiny-llama-gqa"), QStringLiteral("tiny-gpt2")}) {
            for (const char* spec : {"exact", "window:W=200", "window:W=200,reindex=0", "sinks:S=4,W=196",
                                     "h2o:B=200", "tova:B=200"})
                QTest::newRow(qPrintable(f + " " + spec)) << f << QString(spec);
        }
    }

    void variantsThatChangeNothingAreExactBitForBit() {
        QFETCH(QString, fixture);
        QFETCH(QString, spec);
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path(fixture), error);
        QVERIFY2(engine, error.c_str());
        const auto tokens = text_tokens(60, engine->config().vocab_size);
        TraceOptions t;
        auto exact = make_session(engine, SessionMode::cached, t);
        auto variant = make_variant(engine, spec.toStdString(), t);
        std::vector<StepTracePtr> te, tv;
        const auto a = run_logits(*exact, tokens, 7, &te);
        const auto b = run_logits(*variant, tokens, 7, &tv);
        QCOMPARE(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i)
            if (a[i] != b[i]) {
                qInfo("first difference at value %zu (step %zu): %.9g vs %.9g", i,
                      i / size_t(engine->config().vocab_size), double(a[i]), double(b[i]));
                break;
            }
        QVERIFY2(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0,
                 qPrintable(spec + ": logits differ from the exact cache"));
        for (size_t i = 0; i < te.size(); ++i) {
            QCOMPARE(tv[i]->cache.rows, te[i]->cache.rows);
            QVERIFY(tv[i]->cache.contiguous);
            QCOMPARE(tv[i]->counters.kv_bytes_resident, te[i]->counters.kv_bytes_resident);
            QCOMPARE(tv[i]->counters.kv_rows_evicted, uint64_t(0));
            for (size_t l = 0; l < te[i]->attention.size(); ++l)
                QVERIFY(te[i]->attention[l].probs == tv[i]->attention[l].probs);
            for (size_t l = 0; l < te[i]->kv.size(); ++l)
                QVERIFY(te[i]->kv[l].k == tv[i]->kv[l].k && te[i]->kv[l].v == tv[i]->kv[l].v);
        }
    }

    // ---- lossy variants: really computed, measured against the exact run --------------------------------
    void quantizedRunsAreMeasuredInLockstep_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<double>("bytes_per_value");
        // tiny-llama-gqa: head_dim 16
        QTest::newRow("f16") << "f16" << 2.0;
        QTest::newRow("bf16") << "bf16" << 2.0;
        QTest::newRow("int8 g16") << "int8:group=16" << (16.0 + 8.0) / 16.0;
        QTest::newRow("int4 g16") << "int4:group=16" << (8.0 + 8.0) / 16.0;
    }

    void quantizedRunsAreMeasuredInLockstep() {
        QFETCH(QString, spec);
        QFETCH(double, bytes_per_value);
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        const auto& c = engine->config();
        const auto tokens = text_tokens(40, c.vocab_size);
        auto exact = make_session(engine, SessionMode::cached, {});
        auto variant = make_variant(engine, spec.toStdString());
        QVERIFY(exact->prefill(std::span<const int32_t>(tokens.data(), 5)).is_ok());
        variant->compare_next_step_with(
            exact->logits().subspan(exact->logits().size() - size_t(c.vocab_size)));
        auto r = variant->prefill(std::span<const int32_t>(tokens.data(), 5));
        QVERIFY2(r.is_ok(), r.message().c_str());
        StepTracePtr last = r.value();
        for (size_t i = 5; i < tokens.size(); ++i) {
            QVERIFY(exact->decode(tokens[i]).is_ok());
            variant->compare_next_step_with(exact->logits());
            auto d = variant->decode(tokens[i]);
            QVERIFY2(d.is_ok(), d.message().c_str());
            last = d.value();
            QVERIFY(last->quality.measured);
            // The logits really differ from the exact run's (a lossy cache), by the amount measured.
            const auto cmp = compare_logits(exact->logits(), variant->logits());
            QCOMPARE(last->quality.kl, cmp.kl);
            QCOMPARE(last->quality.max_abs_logit_diff, cmp.max_abs_logit_diff);
        }
        const Quality& q = last->quality;
        QCOMPARE(q.steps, int64_t(tokens.size() - 4));
        QVERIFY2(q.max_abs_logit_diff_so_far > 0.0, "a lossy cache left every logit unchanged");
        QVERIFY(q.kl_sum >= 0.0);
        QCOMPARE(last->cache.bytes_per_value, bytes_per_value);
        QCOMPARE(last->counters.kv_bytes_resident,
                 uint64_t(2.0 * c.n_layers * c.n_kv_heads * c.head_dim * bytes_per_value * tokens.size()));
        // The trace shows the dequantized rows next to the rows as computed; the error respects the bound.
        const LayerKV& kv = last->kv[0];
        QCOMPARE(kv.k_computed.size(), kv.k.size());
        const KVStorage st = variant->options().cache.storage;
        float worst = 0.0f;
        for (size_t i = 0; i < kv.k.size(); i += size_t(c.head_dim)) {
            for (int g0 = 0; g0 < c.head_dim; g0 += st.integer() ? st.group_size : c.head_dim) {
                const int g1 = std::min(c.head_dim, g0 + (st.integer() ? st.group_size : c.head_dim));
                std::span<const float> raw(kv.v_computed.data() + i + g0, size_t(g1 - g0));
                const float bound = st.error_bound(raw);
                for (int j = g0; j < g1; ++j) {
                    const float err = std::abs(kv.v[i + j] - kv.v_computed[i + j]);
                    worst = std::max(worst, err);
                    QVERIFY(err <= bound);
                }
            }
        }
        qInfo("%s: mean KL %.3g nats, max |dlogit| %.3g, top-1 %lld/%lld; worst V error on the last row %.3g",
              qPrintable(spec), q.kl_sum / q.steps, q.max_abs_logit_diff_so_far, (long long)q.top1_agreements,
              (long long)q.steps, double(worst));
    }

    // ---- past the context ------------------------------------------------------------------------------
    void reindexedCacheRunsPastTheContext() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        const int context = engine->config().context_length;
        auto exact = make_session(engine, SessionMode::cached, TraceOptions::off());
        auto sinks = make_variant(engine, "sinks:S=4,W=28", TraceOptions::off());
        const auto tokens = text_tokens(context + 40, engine->config().vocab_size);
        QVERIFY(exact->prefill(std::span<const int32_t>(tokens.data(), 8)).is_ok());
        QVERIFY(sinks->prefill(std::span<const int32_t>(tokens.data(), 8)).is_ok());
        for (size_t i = 8; i < tokens.size(); ++i) {
            auto e = exact->decode(tokens[i]);
            if (int(i) < context)
                QVERIFY(e.is_ok());
            else
                QVERIFY2(!e.is_ok() && e.message().find("context") != std::string::npos, e.message().c_str());
            auto s = sinks->decode(tokens[i]);
            QVERIFY2(s.is_ok(), s.message().c_str());
        }
        QCOMPARE(sinks->position(), context + 40);
        QCOMPARE(sinks->cache()->length(), 32);
        for (float x : sinks->logits())
            QVERIFY(std::isfinite(x));
        // An evicting cache cannot step back; a quantized one can.
        QVERIFY(!sinks->truncate(10).is_ok());
    }

    // RoPE scores depend only on the distance between query and key, so re-indexing a plain window (keys
    // rotated by their row, the query by the cache length) must give what original positions give, up to
    // float rounding of the angles: a check that evicted keys are re-rotated correctly.
    void reindexedWindowMatchesOriginalPositions() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        const auto tokens = text_tokens(80, engine->config().vocab_size);
        auto a = make_variant(engine, "window:W=9", TraceOptions::off());
        auto b = make_variant(engine, "window:W=9,reindex=0", TraceOptions::off());
        auto e = make_session(engine, SessionMode::cached, TraceOptions::off());
        const auto la = run_logits(*a, tokens, 5);
        const auto lb = run_logits(*b, tokens, 5);
        const auto le = run_logits(*e, tokens, 5);
        float worst = 0.0f, from_exact = 0.0f;
        for (size_t i = 0; i < la.size(); ++i) {
            worst = std::max(worst, std::abs(la[i] - lb[i]));
            from_exact = std::max(from_exact, std::abs(la[i] - le[i]));
        }
        qInfo("window 9, re-indexed vs by position: max |dlogit| %.3g; vs the exact cache %.3g",
              double(worst), double(from_exact));
        QVERIFY2(worst < 1e-3f, qPrintable(QString("re-indexed window differs by %1").arg(worst)));
        QVERIFY2(from_exact > 1e-2f, "a window of 9 over 80 tokens should change the logits");
    }

    // The lab: the exact cache as a "variant" scores exactly as the exact run (KL 0, top-1 100%); a
    // window that holds everything too; segments past the context are scored only by bounded caches.
    void labComparesVariantsWithTheExactRun() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        const auto text = text_tokens(200, engine->config().vocab_size);
        LabOptions o;
        o.segment_tokens = 60;
        std::vector<CachePolicy> variants = {parse_cache_variant("window:W=100").value(),
                                             parse_cache_variant("int4:group=16").value(),
                                             parse_cache_variant("sinks:S=2,W=10").value()};
        variants.insert(variants.begin(), CachePolicy{});
        auto r = run_lab(engine, text, variants, o);
        QVERIFY2(r.is_ok(), r.message().c_str());
        QCOMPARE(r->segments, 3);
        QCOMPARE(r->exact.tokens, int64_t(3 * 59));
        for (int i : {0, 1}) {
            const LabResult& v = r->variants[size_t(i)];
            QCOMPARE(v.perplexity(), r->exact.perplexity());
            QCOMPARE(v.kl_sum, 0.0);
            QCOMPARE(v.top1_agree, v.compared);
            QCOMPARE(v.compared, int64_t(3 * 59));
        }
        QVERIFY(r->variants[2].kl_sum > 0.0 && r->variants[3].kl_sum > 0.0);
        QCOMPARE(r->variants[3].kv_bytes_held, engine->config().kv_bytes_per_token(4) * 12);
        QCOMPARE(r->variants[2].bytes_per_value, 1.0);  // int4 g16, hd 16: 8 code bytes + 8 scale bytes
        // Past the context (256): only the bounded cache runs; the exact run is compared where it ran.
        o.segment_tokens = 300;
        o.window_tokens = 100;
        auto past = run_lab(engine, text_tokens(300, engine->config().vocab_size),
                            {parse_cache_variant("sinks:S=2,W=30").value()}, o);
        QVERIFY2(past.is_ok(), past.message().c_str());
        QCOMPARE(past->variants[0].tokens, int64_t(299));
        QCOMPARE(past->exact.tokens, int64_t(255));
        QCOMPARE(past->variants[0].compared, int64_t(255));
        QCOMPARE(int(past->variants[0].windows.size()), 3);
        QVERIFY(std::isfinite(past->variants[0].windows[2].perplexity()));
        auto bad = run_lab(engine, text_tokens(300, engine->config().vocab_size),
                           {parse_cache_variant("int8").value()}, o);
        QVERIFY(!bad.is_ok() && bad.message().find("past the model's context") != std::string::npos);
    }

    void variantSpecsParseAndRoundTrip() {
        for (const auto& v : cache_variants()) {
            auto p = parse_cache_variant(v.id);
            QVERIFY2(p.is_ok(), p.message().c_str());
            auto back = parse_cache_variant(cache_variant_spec(p.value()));
            QVERIFY2(back.is_ok(), back.message().c_str());
            QCOMPARE(cache_variant_spec(back.value()), cache_variant_spec(p.value()));
        }
        QCOMPARE(parse_cache_variant("h2o:B=64").value().window, 32);
        QVERIFY(parse_cache_variant("int4").value().storage.group_size == 32);
        auto bad = parse_cache_variant("window:X=3");
        QVERIFY(!bad.is_ok() && bad.message().find("no parameter 'X'") != std::string::npos);
        bad = parse_cache_variant("nope");
        QVERIFY(!bad.is_ok() && bad.message().find("unknown cache variant") != std::string::npos);
        bad = parse_cache_variant("window:W=0");
        QVERIFY(!bad.is_ok() && bad.message().find("W >= 1") != std::string::npos);
        auto swept = with_sweep_value(parse_cache_variant("sinks").value(), "budget", 64);
        QVERIFY(swept.is_ok() && swept.value().sinks == 4 && swept.value().window == 60);
        QCOMPARE(with_sweep_value(CachePolicy{}, "bits", 4).value().storage.element, KVElement::int4);
    }
};

QTEST_GUILESS_MAIN(CacheVariantsTest)
#include "test_cache_variants.moc"
