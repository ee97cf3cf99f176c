// Counters: the FLOPs and bytes of a step, derived here by hand from the model's shape, must equal what
// the engine counted, op class by op class. The formulas below are the conventions of counters.h.
#include <QtTest>

#include "support/engine_helpers.h"
#include "support/fixtures.h"

using namespace kvscope;
using namespace kvscope::test;

namespace {

struct Expected {
    std::array<uint64_t, kOpClassCount> flops{};
    std::array<uint64_t, kOpClassCount> weight_bytes{};
    uint64_t kv_read = 0, kv_written = 0;
    uint64_t& f(OpClass op) { return flops[size_t(op)]; }
    uint64_t& w(OpClass op) { return weight_bytes[size_t(op)]; }
};

// One forward pass over n rows at positions p0 .. p0+n−1, logits for the last row only.
Expected by_hand(const Model& m, uint64_t n, uint64_t p0) {
    const ModelConfig& c = m.config;
    const uint64_t L = c.n_layers, d = c.d_model, H = c.n_heads, KVH = c.n_kv_heads, hd = c.head_dim;
    const uint64_t ff = c.d_ff, V = c.vocab_size, qkv = c.qkv_dim(), qd = c.q_dim();
    const bool gpt2 = c.arch == Architecture::gpt2;
    const uint64_t bpe = m.tok_embd.stored_bytes / uint64_t(m.tok_embd.numel());  // stored bytes per weight
    Expected e;
    // keys seen by all rows: sum_{i<n} (p0 + i + 1)
    const uint64_t keys = n * p0 + n * (n + 1) / 2;

    e.f(OpClass::embedding) = gpt2 ? n * d : 0;              // learned positions added
    e.w(OpClass::embedding) = n * d * bpe * (gpt2 ? 2 : 1);  // gathered rows only
    const uint64_t norm_flops = gpt2 ? 7 : 4;                // layernorm 7d, rmsnorm 4d per row
    e.f(OpClass::norm) = L * 2 * norm_flops * n * d + norm_flops * 1 * d;
    e.w(OpClass::norm) = (L * 2 + 1) * d * bpe * (gpt2 ? 2 : 1);  // weight (+ bias)
    e.f(OpClass::qkv) = L * (2 * n * d * qkv + (c.qkv_bias ? n * qkv : 0));
    e.w(OpClass::qkv) = L * (qkv * d + (c.qkv_bias ? qkv : 0)) * bpe;
    e.f(OpClass::rope) = c.rope_layout == RopeLayout::none ? 0 : L * 3 * n * (H + KVH) * hd;
    e.f(OpClass::attention) = L * H * keys * (2 * hd + 5 + 2 * hd);
    e.kv_read = L * 2 * KVH * (p0 + n) * hd * 4;
    e.kv_written = L * 2 * KVH * n * hd * 4;
    e.f(OpClass::out_proj) = L * (2 * n * qd * d + (gpt2 ? n * d : 0));
    e.w(OpClass::out_proj) = L * (d * qd + (gpt2 ? d : 0)) * bpe;
    if (gpt2) {
        e.f(OpClass::mlp) = L * (2 * n * d * ff + n * ff + 2 * n * ff * d + n * d);
        e.w(OpClass::mlp) = L * (ff * d + ff + d * ff + d) * bpe;
        e.f(OpClass::activation) = L * 9 * n * ff;
    } else {
        e.f(OpClass::mlp) = L * 3 * 2 * n * d * ff;
        e.w(OpClass::mlp) = L * 3 * ff * d * bpe;
        e.f(OpClass::activation) = L * 5 * n * ff;
    }
    e.f(OpClass::residual) = L * 2 * n * d;
    e.f(OpClass::lm_head) = 2 * d * V;
    e.w(OpClass::lm_head) = V * d * bpe;
    return e;
}

void compare(const Counters& got, Expected e, const QString& what) {
    for (int i = 0; i < kOpClassCount; ++i) {
        const QString op = QString("%1: %2").arg(what, op_class_name(OpClass(i)));
        QVERIFY2(
            got.by_op[size_t(i)].flops == e.flops[size_t(i)],
            qPrintable(
                op +
                QString(" FLOPs %1, by hand %2").arg(got.by_op[size_t(i)].flops).arg(e.flops[size_t(i)])));
        QVERIFY2(got.by_op[size_t(i)].weight_bytes == e.weight_bytes[size_t(i)],
                 qPrintable(op + QString(" weight bytes %1, by hand %2")
                                     .arg(got.by_op[size_t(i)].weight_bytes)
                                     .arg(e.weight_bytes[size_t(i)])));
    }
    QCOMPARE(got[OpClass::attention].kv_read, e.kv_read);
    QCOMPARE(got[OpClass::kv_write].kv_written, e.kv_written);
    QCOMPARE(got.total().kv_read, e.kv_read);
    QCOMPARE(got.total().kv_written, e.kv_written);
}

}  // namespace

class CountersTest : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
    }

    void stepCountsMatchTheFormulas_data() {
        QTest::addColumn<QString>("fixture");
        for (const QString& name : model_fixture_names())
            QTest::newRow(qPrintable(name)) << name;
    }

    void stepCountsMatchTheFormulas() {
        QFETCH(QString, fixture);
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path(fixture), error);
        QVERIFY2(engine, error.c_str());
        const Model& m = engine->model();
        const ModelConfig& c = m.config;
        const uint64_t kv_row = uint64_t(c.kv_bytes_per_token());
        const std::vector<int32_t> prompt{3, 1, 4, 1, 5, 9, 2, 6};
        const uint64_t T = prompt.size();

        auto cached = make_session(engine, SessionMode::cached, TraceOptions::off());
        auto uncached = make_session(engine, SessionMode::uncached, TraceOptions::off());
        auto a = cached->prefill(prompt);
        auto b = uncached->prefill(prompt);
        QVERIFY(a.is_ok() && b.is_ok());
        compare(a.value()->counters, by_hand(m, T, 0), fixture + " cached prefill");
        compare(b.value()->counters, by_hand(m, T, 0), fixture + " uncached prefill");
        QCOMPARE(a.value()->counters.kv_bytes_resident, kv_row * T);
        QCOMPARE(b.value()->counters.kv_bytes_resident, uint64_t(0));
        QCOMPARE(b.value()->counters.kv_bytes_peak, kv_row * T);

        std::vector<uint64_t> cached_attention, cached_rest, uncached_total;
        for (uint64_t k = 0; k < 6; ++k) {
            const uint64_t pos = T + k;  // position of the token fed
            a = cached->decode(7);
            b = uncached->decode(7);
            QVERIFY(a.is_ok() && b.is_ok());
            const Counters& ca = a.value()->counters;
            const Counters& cb = b.value()->counters;
            // Cached: one row at position pos. Uncached: every row 0..pos again.
            compare(ca, by_hand(m, 1, pos), fixture + QString(" cached decode at %1").arg(pos));
            compare(cb, by_hand(m, pos + 1, 0), fixture + QString(" uncached decode at %1").arg(pos));
            QCOMPARE(ca.tokens_processed, uint64_t(1));
            QCOMPARE(ca.tokens_recomputed, uint64_t(0));
            QCOMPARE(cb.tokens_processed, pos + 1);
            QCOMPARE(cb.tokens_recomputed, pos);
            QCOMPARE(ca.kv_bytes_resident, kv_row * (pos + 1));
            QCOMPARE(cb.kv_bytes_resident, uint64_t(0));
            QCOMPARE(cb.kv_bytes_peak, kv_row * (pos + 1));
            cached_attention.push_back(ca[OpClass::attention].flops);
            cached_rest.push_back(ca.flops() - ca[OpClass::attention].flops);
            uncached_total.push_back(cb.flops());
        }
        // Cached: the attention part grows by the same amount every step, the rest stays constant.
        const uint64_t per_key = uint64_t(c.n_layers) * c.n_heads * (4 * uint64_t(c.head_dim) + 5);
        for (size_t k = 1; k < cached_attention.size(); ++k) {
            QCOMPARE(cached_attention[k] - cached_attention[k - 1], per_key);
            QCOMPARE(cached_rest[k], cached_rest[0]);
            // Uncached: each step costs more than the last, by far more than the cached step's growth.
            QVERIFY(uncached_total[k] > uncached_total[k - 1] + per_key);
        }
        // Cumulative counters add up the steps.
        QCOMPARE(cached->cumulative().tokens_processed, T + 6);
        QCOMPARE(cached->cumulative().kv_bytes_resident, kv_row * (T + 6));
    }

    void storedDtypeIsWhatIsCharged() {
        // The BF16 checkpoint reads 2 bytes per weight although it computes in float32.
        auto model = load_model(model_fixture_path("tiny-llama-bf16-sharded"));
        QVERIFY2(model.is_ok(), model.message().c_str());
        QCOMPARE(model.value()->main_dtype(), DType::bf16);
        QCOMPARE(model.value()->stored_bytes(), model.value()->n_params() * 2);
        QCOMPARE(model.value()->n_params(),
                 uint64_t(173504));  // model.safetensors.index.json: total_parameters
    }
};

QTEST_APPLESS_MAIN(CountersTest)
#include "test_counters.moc"
