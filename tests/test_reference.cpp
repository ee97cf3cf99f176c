// The engine against Hugging Face transformers: every fixture model, through the cached and the uncached
// session, must reproduce the reference logits (1e-4), attention probabilities (1e-5), the KV cache after
// the prompt (1e-4) and the 12 greedy ids exactly.
#include <QtTest>

#include "support/engine_helpers.h"
#include "support/fixtures.h"

using namespace kvscope;
using namespace kvscope::test;

class ReferenceTest : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
    }

    void matchesTransformers_data() {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<int>("mode");
        for (const QString& name : model_fixture_names()) {
            QTest::newRow(qPrintable(name + "/cached")) << name << int(SessionMode::cached);
            QTest::newRow(qPrintable(name + "/uncached")) << name << int(SessionMode::uncached);
        }
    }

    void matchesTransformers() {
        QFETCH(QString, fixture);
        QFETCH(int, mode);
        const std::string dir = model_fixture_path(fixture);
        auto ref = load_reference(dir);
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        std::string error;
        auto engine = make_cpu_engine(dir, error, /*threads=*/0);  // all cores: the parallel paths too
        QVERIFY2(engine, error.c_str());
        const ModelConfig& c = engine->config();
        const int T = int(ref->input_ids.size());
        const int V = c.vocab_size;

        TraceOptions trace;
        trace.attention = RowSelection::computed_rows;
        trace.kv = RowSelection::computed_rows;
        auto session = make_session(engine, SessionMode(mode), trace);
        QVERIFY(session);

        // ---- prefill: logits of every prompt position, attention, cache ----
        auto pre = session->prefill(ref->input_ids, /*all_logits=*/true);
        QVERIFY2(pre.is_ok(), pre.message().c_str());
        QCOMPARE(session->logits_rows(), T);
        QCOMPARE(ref->logits.dim(0), T);
        QCOMPARE(ref->logits.dim(1), V);
        const float logit_diff =
            max_abs_diff(session->logits().data(), ref->logits.values.data(), size_t(T) * V);
        qInfo("%s prefill logits: max |diff| = %.3g", qPrintable(fixture), double(logit_diff));
        QVERIFY2(logit_diff <= 1e-4f, qPrintable(QString("logits differ by %1").arg(logit_diff)));

        const StepTrace& t = *pre.value();
        QCOMPARE(int(t.attention.size()), c.n_layers);
        QCOMPARE(int(t.kv.size()), c.n_layers);
        float att_diff = 0.0f, k_diff = 0.0f, v_diff = 0.0f;
        for (int l = 0; l < c.n_layers; ++l) {
            const LayerAttention& la = t.attention[l];
            QCOMPARE(la.row_begin, 0);
            QCOMPARE(la.n_rows, T);
            QCOMPARE(la.n_keys, T);
            QCOMPARE(ref->attention[l].values.size(), la.probs.size());  // [H, T, T] both
            att_diff = std::max(
                att_diff, max_abs_diff(la.probs.data(), ref->attention[l].values.data(), la.probs.size()));
            const LayerKV& lk = t.kv[l];
            QCOMPARE(lk.row_begin, 0);
            QCOMPARE(lk.n_rows, T);
            QCOMPARE(ref->cache_key[l].values.size(), lk.k.size());  // [KVH, T, D] both
            k_diff =
                std::max(k_diff, max_abs_diff(lk.k.data(), ref->cache_key[l].values.data(), lk.k.size()));
            v_diff =
                std::max(v_diff, max_abs_diff(lk.v.data(), ref->cache_value[l].values.data(), lk.v.size()));
        }
        qInfo("%s attention max |diff| = %.3g, K %.3g, V %.3g", qPrintable(fixture), double(att_diff),
              double(k_diff), double(v_diff));
        QVERIFY2(att_diff <= 1e-5f, qPrintable(QString("attention differs by %1").arg(att_diff)));
        QVERIFY2(k_diff <= 1e-4f, qPrintable(QString("cached keys differ by %1").arg(k_diff)));
        QVERIFY2(v_diff <= 1e-4f, qPrintable(QString("cached values differ by %1").arg(v_diff)));
        if (SessionMode(mode) == SessionMode::cached) {
            // The live cache holds the same rows the trace recorded.
            std::vector<float> row(size_t(T) * c.head_dim);
            session->read_cache_rows(c.n_layers - 1, c.n_kv_heads - 1, true, 0, T, row.data());
            const auto& ref_k = ref->cache_key.back().values;
            QCOMPARE(max_abs_diff(row.data(), ref_k.data() + size_t(c.n_kv_heads - 1) * T * c.head_dim,
                                  row.size()) <= 1e-4f,
                     true);
        }

        // ---- greedy continuation: ids exact, the logits that chose them within 1e-4 ----
        const int N = int(ref->generated.size());
        float gen_diff = 0.0f;
        StepTracePtr step = pre.value();
        for (int i = 0; i < N; ++i) {
            QCOMPARE(step->chosen, ref->generated[i]);
            const float* ref_row = ref->gen_logits.values.data() + size_t(i) * V;
            const float* our_row = session->logits().data() + session->logits().size() - V;
            gen_diff = std::max(gen_diff, max_abs_diff(our_row, ref_row, size_t(V)));
            if (i + 1 < N) {
                auto next = session->decode(step->chosen);
                QVERIFY2(next.is_ok(), next.message().c_str());
                step = next.value();
            }
        }
        qInfo("%s greedy logits max |diff| = %.3g", qPrintable(fixture), double(gen_diff));
        QVERIFY2(gen_diff <= 1e-4f, qPrintable(QString("generation logits differ by %1").arg(gen_diff)));
    }
    // The history's compact attention (half precision, causal keys only) against the same reference: every
    // weight within half precision's rounding of transformers' value, nothing stored past the causal end,
    // and a decode step's one row too.
    void compactAttentionMatchesTransformersToHalfPrecision_data() {
        QTest::addColumn<QString>("fixture");
        for (const QString& name : model_fixture_names())
            QTest::newRow(qPrintable(name)) << name;
    }
    void compactAttentionMatchesTransformersToHalfPrecision() {
        QFETCH(QString, fixture);
        const std::string dir = model_fixture_path(fixture);
        auto ref = load_reference(dir);
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        std::string error;
        auto engine = make_cpu_engine(dir, error, /*threads=*/1);
        QVERIFY2(engine, error.c_str());
        const ModelConfig& c = engine->config();
        const int T = int(ref->input_ids.size());
        TraceOptions trace;
        trace.compact_attention = true;
        auto session = make_session(engine, SessionMode::cached, trace);
        QVERIFY(session);
        auto pre = session->prefill(ref->input_ids);
        QVERIFY2(pre.is_ok(), pre.message().c_str());
        const StepTrace& t = *pre.value();
        QCOMPARE(int(t.attention.size()), c.n_layers);
        double worst = 0.0;  // |ours − reference| over the bound, worst case
        for (int l = 0; l < c.n_layers; ++l) {
            const LayerAttention& la = t.attention[size_t(l)];
            QVERIFY(la.compact());
            QVERIFY(la.well_formed(c.n_heads));
            QCOMPARE(la.half.size(), size_t(c.n_heads) * T * (T + 1) / 2);  // the causal triangle only
            QCOMPARE(la.bytes(), la.half.size() * 2);
            std::vector<float> row(static_cast<size_t>(T));
            for (int h = 0; h < c.n_heads; ++h)
                for (int r = 0; r < T; ++r) {
                    la.read_row(h, r, row.data());
                    const float* want = ref->attention[size_t(l)].values.data() + (size_t(h) * T + r) * T;
                    for (int k = 0; k < T; ++k) {
                        QCOMPARE(la.weight(h, r, k), row[size_t(k)]);
                        if (k > r) QCOMPARE(row[size_t(k)], 0.0f);
                        // Half precision: relative 2⁻¹¹ (subnormals 6e-8 apart), plus the engine's 1e-5.
                        const double bound = std::abs(want[k]) / 2048.0 + 6e-8 + 1e-5;
                        worst = std::max(worst, std::abs(double(row[size_t(k)]) - want[k]) / bound);
                    }
                }
        }
        QVERIFY2(worst <= 1.0,
                 qPrintable(QString("attention outside half precision: %1 of the bound").arg(worst)));
        auto next = session->decode(t.chosen);
        QVERIFY2(next.is_ok(), next.message().c_str());
        const LayerAttention& d = next.value()->attention[0];
        QVERIFY(d.compact());
        QCOMPARE(d.n_rows, 1);
        QCOMPARE(d.half.size(), size_t(c.n_heads) * (T + 1));
        double sum = 0.0;
        for (int k = 0; k < d.n_keys; ++k)
            sum += d.weight(0, 0, k);
        QVERIFY2(std::abs(sum - 1.0) < 1e-2, qPrintable(QString::number(sum)));  // a softmax row
    }
};

QTEST_APPLESS_MAIN(ReferenceTest)
#include "test_reference.moc"
