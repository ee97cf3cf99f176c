// Scale: the KV-size, fit and bandwidth formulas of kvscope/scale.h against values computed here by hand
// from the published configs; the weight-FLOP formula of a loaded model against what the engine counted;
// the catalog reader on the shipped file and on broken ones; `kvscope-cli scale` end to end.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>
#include <cmath>

#include "kvscope/complexity.h"
#include "kvscope/default_model.h"
#include "kvscope/prompt_sweep.h"
#include "kvscope/roofline.h"
#include "kvscope/scale.h"
#include "support/engine_helpers.h"
#include "support/fixtures.h"

using namespace kvscope;
using namespace kvscope::test;

namespace {

constexpr double KiB = 1024.0, MiB = 1024.0 * 1024.0, GiB = 1024.0 * 1024.0 * 1024.0;

const std::string kShipped = std::string(KVSCOPE_SOURCE_DIR) + "/assets/reference/model-configs.json";

const ModelShape& find(const ReferenceCatalog& c, const std::string& name) {
    for (const ModelShape& m : c.models)
        if (m.name == name) return m;
    qFatal("model %s not in the catalog", name.c_str());
}

const Accelerator& find_accel(const ReferenceCatalog& c, const std::string& prefix) {
    for (const Accelerator& a : c.accelerators)
        if (a.name.rfind(prefix, 0) == 0) return a;
    qFatal("accelerator %s not in the catalog", prefix.c_str());
}

}  // namespace

class ScaleTest : public QObject {
    Q_OBJECT
    ReferenceCatalog m_catalog;

  private slots:
    void initTestCase() {
        auto c = load_reference_catalog(kShipped);
        QVERIFY2(c.is_ok(), c.message().c_str());
        m_catalog = c.value();
    }

    // The shipped copy is the project's reference file, byte for byte.
    void shippedCatalogIsTheSharedOne() {
        QFile shipped(QString::fromStdString(kShipped));
        QFile shared(QStringLiteral(KVSCOPE_FIXTURES_DIR "/../reference/model-configs.json"));
        QVERIFY2(shared.open(QIODevice::ReadOnly), qPrintable("cannot open " + shared.fileName()));
        QVERIFY(shipped.open(QIODevice::ReadOnly));
        QVERIFY2(shipped.readAll() == shared.readAll(),
                 "assets/reference/model-configs.json differs from ../shared/reference/model-configs.json");
        QCOMPARE(m_catalog.models.size(), size_t(15));
        QCOMPARE(m_catalog.accelerators.size(), size_t(7));
    }

    // Llama-3.1-8B, bf16: 2·32·8·128·2 B = 128 KiB per token; at 128K tokens, 16 GiB per conversation.
    void llama31_8b() {
        const ModelShape& m = find(m_catalog, "Llama-3.1-8B");
        QCOMPARE(m.kind, AttentionKind::gqa);
        QCOMPARE(kv_bytes_per_token(m, Precision::bf16), 2.0 * 32 * 8 * 128 * 2);
        QCOMPARE(kv_bytes_per_token(m, Precision::bf16), 128 * KiB);
        QCOMPARE(kv_bytes_per_conversation(m, 131072, Precision::bf16), 16 * GiB);
        QCOMPARE(kv_bytes_per_token(m, Precision::int4), 32 * KiB);
        QCOMPARE(kv_bytes_per_token(m, Precision::f32), 256 * KiB);
        QCOMPARE(kv_formula_text(m, Precision::bf16),
                 std::string("2 × 32 layers × 8 KV heads × 128 dims × 2 B"));

        // On an H100 (80 GB, 3350 GB/s): weights 8.03e9·2 B = 16.06 GB; (80 − 16.06) GB / 16 GiB = 3.72 → 3.
        const Accelerator& h100 = find_accel(m_catalog, "NVIDIA H100");
        ScaleQuery q;
        q.context = 131072;
        auto r = evaluate_scale(m, h100, q);
        QCOMPARE(r.weight_bytes, 16.06e9);
        QVERIFY(r.weights_fit);
        QCOMPARE(r.conversations_fit, 3.0);
        // Decode at batch 1: each token reads the weights and the whole 128K cache: 16.06e9 + 17.18e9 B.
        const double bytes1 = 16.06e9 + 16 * GiB;
        QCOMPARE(r.bytes_per_step_batch1, bytes1);
        QVERIFY(std::abs(r.tokens_per_s_batch1 - 3350e9 / bytes1) < 1e-9);
        QVERIFY(std::abs(r.tokens_per_s_batch1 - 100.78) < 0.01);
        // Batch 3: the weights once, three caches: 16.06e9 + 3·17.18e9 B per step, 3 tokens each step.
        q.batch = 3;
        r = evaluate_scale(m, h100, q);
        QCOMPARE(r.bytes_per_step_batch, 16.06e9 + 3 * 16 * GiB);
        QVERIFY(std::abs(r.tokens_per_s_batch_total - 3 * 3350e9 / (16.06e9 + 3 * 16 * GiB)) < 1e-9);
        QVERIFY(r.batch_fits);
        q.batch = 4;  // 16.06 + 4·17.18 = 84.8 GB > 80 GB
        QVERIFY(!evaluate_scale(m, h100, q).batch_fits);
    }

    // Llama-2-7B is multi-head (32 KV heads): 2·32·32·128·2 B = 512 KiB per token, 4× Llama-3.1-8B's.
    void mhaVersusGqa() {
        const ModelShape& l2 = find(m_catalog, "Llama-2-7B");
        const ModelShape& l3 = find(m_catalog, "Llama-3.1-8B");
        QCOMPARE(l2.kind, AttentionKind::mha);
        QCOMPARE(kv_bytes_per_token(l2, Precision::bf16), 512 * KiB);
        QCOMPARE(kv_bytes_per_token(l2, Precision::bf16) / kv_bytes_per_token(l3, Precision::bf16), 4.0);
    }

    // DeepSeek-V3 (MLA): (512 + 64)·61·2 B = 70272 B per token, for all 128 heads together.
    void deepseekMla() {
        const ModelShape& m = find(m_catalog, "DeepSeek-V3");
        QCOMPARE(m.kind, AttentionKind::mla);
        QCOMPARE(kv_bytes_per_token(m, Precision::bf16), (512.0 + 64.0) * 61 * 2);
        QCOMPARE(kv_bytes_per_token(m, Precision::bf16), 70272.0);
        // Mixture of experts: a decode step reads the 37e9 active parameters, all 671e9 stay resident.
        QCOMPARE(weight_bytes(m, Precision::f8), 671e9);
        QCOMPARE(weight_bytes_read_per_step(m, Precision::f8), 37e9);
        // Attention per key and token: 61 layers · 128 heads · (2·(128 + 64) + 5 + 2·128).
        QCOMPARE(attention_flops_per_token_per_key(m), 61.0 * 128 * (2 * 192 + 5 + 2 * 128));
    }

    // Mamba keeps no cache, only a fixed state: 64 layers · 5120 · (16 + 4 − 1) values at any context.
    void mambaFixedState() {
        const ModelShape& m = find(m_catalog, "Mamba-2.8B");
        QCOMPARE(kv_bytes_per_token(m, Precision::bf16), 0.0);
        QCOMPARE(fixed_state_values(m), 64.0 * 5120 * 19);
        QCOMPARE(kv_bytes_per_conversation(m, 1024, Precision::bf16), 64.0 * 5120 * 19 * 2);
        QCOMPARE(kv_bytes_per_conversation(m, 1048576, Precision::bf16), 64.0 * 5120 * 19 * 2);
        QCOMPARE(attention_crossover_context(m), 0.0);
    }

    // Jamba: 4 attention layers keep a cache (2·4·8·128·2 B per token), 28 Mamba layers a fixed state.
    void jambaHybrid() {
        const ModelShape& m = find(m_catalog, "Jamba-v0.1");
        QCOMPARE(kv_bytes_per_token(m, Precision::bf16), 16 * KiB);
        QCOMPARE(fixed_state_values(m), 28.0 * 8192 * 19);
        QCOMPARE(kv_bytes_per_conversation(m, 262144, Precision::bf16),
                 16 * KiB * 262144 + 28.0 * 8192 * 19 * 2);
    }

    // Mistral-7B-v0.1's rolling buffer holds 4096 tokens however long the conversation.
    void slidingWindow() {
        const ModelShape& m = find(m_catalog, "Mistral-7B-v0.1");
        QCOMPARE(tokens_held(m, 131072), 4096.0);
        QCOMPARE(kv_bytes_per_conversation(m, 131072, Precision::bf16), 128 * KiB * 4096);
        QCOMPARE(kv_bytes_per_conversation(m, 1000, Precision::bf16), 128 * KiB * 1000);
    }

    // Llama-3.1-70B at 128K on one H100: bf16 weights (141 GB) do not fit; int4 weights (35.3 GB) leave
    // 44.7 GB, and an int4 cache of 128K tokens is 10 GiB: 4 conversations.
    void llama70bOnH100() {
        const ModelShape& m = find(m_catalog, "Llama-3.1-70B");
        const Accelerator& h100 = find_accel(m_catalog, "NVIDIA H100");
        ScaleQuery q;
        q.context = 131072;
        auto r = evaluate_scale(m, h100, q);
        QVERIFY(!r.weights_fit);
        QCOMPARE(r.conversations_fit, 0.0);
        QCOMPARE(r.kv_bytes_per_conversation, 40 * GiB);
        q.weights = q.kv = Precision::int4;
        r = evaluate_scale(m, h100, q);
        QVERIFY(r.weights_fit);
        QCOMPARE(r.kv_bytes_per_conversation, 10 * GiB);
        QCOMPARE(r.conversations_fit, std::floor((80e9 - 35.3e9) / (10 * GiB)));
        QCOMPARE(r.conversations_fit, 4.0);
    }

    // A GPT-2-style layer (12·d² weights, H·hd = d): attention overtakes the weights near 6·d_model tokens.
    void crossoverSixDModel() {
        ModelConfig c;
        c.arch = Architecture::gpt2;
        c.n_layers = 12;
        c.d_model = 768;
        c.n_heads = c.n_kv_heads = 12;
        c.head_dim = 64;
        c.d_ff = 3072;
        c.vocab_size = 0;  // the layers alone
        c.qkv_bias = true;
        const ModelShape m = shape_of(c, 85e6, "gpt2-layers");
        const double n_star = attention_crossover_context(m);
        qInfo("GPT-2-small layers: attention passes the weights at %.0f tokens = %.2f × d_model", n_star,
              n_star / 768);
        QVERIFY(std::abs(n_star / (6 * 768) - 1) < 0.05);
        // The catalog's GPT-2 small (2 FLOPs per parameter, embeddings included): farther out.
        QVERIFY(attention_crossover_context(find(m_catalog, "GPT-2 small")) > 6 * 768);
    }

    // The exact weight-FLOP formula is what the engine counts for a one-token decode step.
    void weightFlopsMatchTheCounters_data() {
        QTest::addColumn<QString>("fixture");
        for (const QString& name : model_fixture_names())
            QTest::newRow(qPrintable(name)) << name;
    }
    void weightFlopsMatchTheCounters() {
        QFETCH(QString, fixture);
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path(fixture), error);
        QVERIFY2(engine, error.c_str());
        auto s = make_session(engine, SessionMode::cached, TraceOptions::off());
        const std::vector<int32_t> prompt{3, 1, 4, 1, 5};
        QVERIFY(s->prefill(prompt).is_ok());
        auto step = s->decode(9);
        QVERIFY(step.is_ok());
        const Counters& c = step.value()->counters;
        const double counted = double(c[OpClass::qkv].flops + c[OpClass::out_proj].flops +
                                      c[OpClass::mlp].flops + c[OpClass::lm_head].flops);
        QCOMPARE(weight_flops_per_token_exact(engine->model().config), counted);
        const ModelShape m = shape_of(engine->model(), "fixture");
        QCOMPARE(attention_flops_per_token(m, 6), double(c[OpClass::attention].flops));
        QCOMPARE(kv_bytes_per_token(m, Precision::f32), double(engine->model().config.kv_bytes_per_token()));
    }

    // The counters' groups: attention's three parts sum to the attention op's FLOPs, and attention +
    // weights + other is the step's total.
    void flopGroupsAddUp() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        auto s = make_session(engine, SessionMode::cached, TraceOptions::off());
        const std::vector<int32_t> prompt{3, 1, 4, 1, 5, 9, 2};
        auto pre = s->prefill(prompt);
        QVERIFY(pre.is_ok());
        const Counters& c = pre.value()->counters;
        const ModelConfig& mc = engine->model().config;
        const uint64_t head_keys =
            uint64_t(mc.n_layers) * mc.n_heads * (7 * 8 / 2);  // rows 0..6 see 1..7 keys
        QCOMPARE(attention_part(c, AttentionPart::scores, mc.head_dim), head_keys * 2 * mc.head_dim);
        QCOMPARE(attention_part(c, AttentionPart::softmax, mc.head_dim), head_keys * 5);
        QCOMPARE(attention_part(c, AttentionPart::values, mc.head_dim), head_keys * 2 * mc.head_dim);
        QCOMPARE(attention_part(c, AttentionPart::scores, mc.head_dim) +
                     attention_part(c, AttentionPart::softmax, mc.head_dim) +
                     attention_part(c, AttentionPart::values, mc.head_dim),
                 c[OpClass::attention].flops);
        QCOMPARE(flops_in(c, FlopGroup::attention) + flops_in(c, FlopGroup::weights) +
                     flops_in(c, FlopGroup::other),
                 c.flops());
        auto d = s->decode(6);
        QVERIFY(d.is_ok());
        QCOMPARE(attention_part(d.value()->cumulative, AttentionPart::softmax, mc.head_dim),
                 head_keys * 5 + uint64_t(mc.n_layers) * mc.n_heads * 8 * 5);
    }

    // Slopes fitted on log-log axes over a real run: attention per token 1 (cached) vs 2 (uncached),
    // cumulative attention 2 vs 3; the measured crossover is the formula's.
    void fittedSlopes() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        auto cached = make_session(engine, SessionMode::cached, TraceOptions::off());
        auto uncached = make_session(engine, SessionMode::uncached, TraceOptions::off());
        const std::vector<int32_t> prompt{3};
        QVERIFY(cached->prefill(prompt).is_ok() && uncached->prefill(prompt).is_ok());
        std::vector<double> x, ca, ua, cc, uc;
        Counters last_cached;
        for (int i = 1; i < 96; ++i) {
            auto a = cached->decode(7);
            auto b = uncached->decode(7);
            QVERIFY(a.is_ok() && b.is_ok());
            if (i < 24) continue;  // the far end, where the leading power shows
            x.push_back(double(a.value()->pos_end));
            ca.push_back(double(flops_in(a.value()->counters, FlopGroup::attention)));
            ua.push_back(double(flops_in(b.value()->counters, FlopGroup::attention)));
            cc.push_back(double(flops_in(a.value()->cumulative, FlopGroup::attention)));
            uc.push_back(double(flops_in(b.value()->cumulative, FlopGroup::attention)));
            last_cached = a.value()->counters;
        }
        const double s_ca = loglog_slope(x, ca), s_ua = loglog_slope(x, ua), s_cc = loglog_slope(x, cc),
                     s_uc = loglog_slope(x, uc);
        qInfo("attention slopes: per token cached %.3f uncached %.3f; cumulative cached %.3f uncached %.3f",
              s_ca, s_ua, s_cc, s_uc);
        QVERIFY(std::abs(s_ca - 1) < 0.02);
        QVERIFY(std::abs(s_ua - 2) < 0.05);
        QVERIFY(std::abs(s_cc - 2) < 0.1);
        QVERIFY(std::abs(s_uc - 3) < 0.15);
        const ModelShape m = shape_of(engine->model(), "fixture");
        QVERIFY(
            std::abs(measured_attention_crossover(last_cached, x.back()) / attention_crossover_context(m) -
                     1) < 1e-9);
        const std::vector<double> line_x{1, 10, 100}, line_y{3, 300, 30000};
        QVERIFY(std::abs(loglog_slope(line_x, line_y) - 2) < 1e-12);
        QCOMPARE(loglog_slope(std::vector<double>{5}, std::vector<double>{1}), 0.0);
    }

    // The roofline's x axis from counted bytes and FLOPs (no timing): on the embedded model a 256-token
    // prefill reuses each weight 256 times, so its intensity is far above one decode step's (>= 10x).
    void prefillIntensityAboveDecode() {
        std::string error;
        auto engine = make_cpu_engine(find_default_model(""), error);
        QVERIFY2(engine, error.c_str());
        auto s = make_session(engine, SessionMode::cached, TraceOptions::off());
        std::vector<int32_t> prompt(256);
        for (size_t i = 0; i < prompt.size(); ++i)
            prompt[i] = int32_t((i * 37) % 1000);
        auto pre = s->prefill(prompt);
        QVERIFY(pre.is_ok());
        auto dec = s->decode(5);
        QVERIFY(dec.is_ok());
        const RooflinePoint p = roofline_point(pre.value()->counters),
                            d = roofline_point(dec.value()->counters);
        const Counters& pc = pre.value()->counters;
        QCOMPARE(p.bytes, double(pc.total().weight_bytes + pc.total().kv_read + pc.total().kv_written));
        QCOMPARE(p.flops, double(pc.flops()));
        qInfo("intensity: prefill of 256 tokens %.1f FLOPs/byte, decode %.2f: %.0fx", p.intensity(),
              d.intensity(), p.intensity() / d.intensity());
        QVERIFY(p.intensity() >= 10 * d.intensity());
        // The roofs as a formula: min(peak, I · bandwidth), and the ladder's roof for a working set.
        MachinePeaks m;
        m.peak_flops = 100e9;
        m.bandwidth = 20e9;
        m.ladder = {{4 << 20, 60e9}, {64 << 20, 25e9}};
        QCOMPARE(m.ridge(), 5.0);
        QCOMPARE(m.attainable(1.0), 20e9);
        QCOMPARE(m.attainable(50.0), 100e9);
        QCOMPARE(m.bandwidth_for(3 << 20), 60e9);
        QCOMPARE(m.bandwidth_for(5 << 20), 25e9);
        QCOMPARE(m.bandwidth_for(1e9), 20e9);
        QVERIFY(m.cache_resident(3 << 20));
        QVERIFY(!m.cache_resident(1e9));
        QCOMPARE(m.attainable(1.0, 3 << 20), 60e9);
    }

    // The time-to-first-token sweep: one prefill per length (all its rows run once), then decode steps.
    void promptSweep() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        std::vector<int32_t> tokens(40);
        for (size_t i = 0; i < tokens.size(); ++i)
            tokens[i] = int32_t(i % 50);
        const std::vector<int> lengths{4, 16, 32};
        int seen = 0;
        auto rows =
            run_prompt_sweep(engine, lengths, 3, tokens, nullptr, [&](const PromptSweepRow&) { ++seen; });
        QVERIFY2(rows.is_ok(), rows.message().c_str());
        QCOMPARE(int(rows->size()), 3);
        QCOMPARE(seen, 3);
        for (size_t i = 0; i < lengths.size(); ++i) {
            const PromptSweepRow& r = rows.value()[i];
            QCOMPARE(r.prompt, lengths[i]);
            QCOMPARE(r.prefill.tokens_processed, uint64_t(lengths[i]));
            QCOMPARE(r.decode.tokens_processed, uint64_t(1));
            QVERIFY(r.ttft_seconds > 0 && r.decode_seconds > 0);
        }
        // Prefill FLOPs grow with the prompt; a decode step's barely do.
        QVERIFY(rows.value()[2].prefill.flops() > 7 * rows.value()[0].prefill.flops());
        auto bad = run_prompt_sweep(engine, std::vector<int>{39}, 3, tokens);
        QVERIFY(!bad.is_ok());
        QVERIFY2(bad.message().find("only 40 tokens given") != std::string::npos, bad.message().c_str());
    }

    void parsesTokenCounts() {
        QCOMPARE(parse_token_count("128K").value(), 131072.0);
        QCOMPARE(parse_token_count("1M").value(), 1048576.0);
        QCOMPARE(parse_token_count("4096").value(), 4096.0);
        QVERIFY(!parse_token_count("12Q"));
        QVERIFY(!parse_token_count(""));
        QVERIFY(!parse_token_count("0"));
        QCOMPARE(format_token_count(131072), std::string("128K"));
        QCOMPARE(format_token_count(1048576), std::string("1M"));
        QCOMPARE(format_token_count(1000), std::string("1000"));
    }

    void brokenCatalogsSayWhere_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("needle");
        const QString accel = R"("accelerators": [{"name": "X", "memory_GB": 1, "bandwidth_GBps": 1}])";
        QTest::newRow("not json") << "{"
                                  << "not valid JSON";
        QTest::newRow("no models") << "{}"
                                   << "'models' array";
        QTest::newRow("missing layers")
            << R"({"models": [{"name": "M", "params": 1, "d_model": 8, "n_heads": 2, "n_kv_heads": 2,
                   "head_dim": 4, "attention": "mha"}], )" +
                   accel + "}"
            << "models[0] (M): 'layers' is missing";
        QTest::newRow("unknown attention")
            << R"({"models": [{"name": "M", "params": 1, "layers": 2, "d_model": 8, "attention": "rnn"}], )" +
                   accel + "}"
            << "'attention' is 'rnn'";
        QTest::newRow("mla without rank")
            << R"({"models": [{"name": "D", "params": 1, "layers": 2, "d_model": 8, "n_heads": 2,
                   "attention": "mla", "qk_rope_head_dim": 4, "qk_nope_head_dim": 4, "v_head_dim": 4}], )" +
                   accel + "}"
            << "models[0] (D): 'kv_lora_rank' is missing";
        QTest::newRow("text bandwidth")
            << R"({"models": [], "accelerators": [{"name": "G", "memory_GB": 1, "bandwidth_GBps": "fast"}]})"
            << "accelerators[0] (G): 'bandwidth_GBps' is not a number";
    }
    void brokenCatalogsSayWhere() {
        QFETCH(QString, json);
        QFETCH(QString, needle);
        auto r = parse_reference_catalog(json.toStdString(), "bad.json");
        QVERIFY(!r.is_ok());
        QVERIFY2(r.message().find(needle.toStdString()) != std::string::npos, r.message().c_str());
        QVERIFY2(r.message().rfind("bad.json", 0) == 0, r.message().c_str());
    }

    void cliScale() {
        QProcess p;
        p.start(QStringLiteral(KVSCOPE_CLI), {"scale", "--select", "Llama-3.1-8B", "--accelerator", "H100",
                                              "--context", "128K", "--json", "--no-loaded"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QJsonObject j = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        const QJsonObject m = j["models"].toArray().at(0).toObject();
        QCOMPARE(m["name"].toString(), QString("Llama-3.1-8B"));
        QCOMPARE(m["kv_bytes_per_token"].toDouble(), 131072.0);
        QCOMPARE(m["kv_bytes_per_conversation"].toDouble(), 16 * GiB);
        const QJsonObject h100 = m["accelerators"].toArray().at(0).toObject();
        QCOMPARE(h100["conversations_fit"].toDouble(), 3.0);

        // The loaded model is a row of the text table; a bad context is one clear line and exit 1.
        p.start(QStringLiteral(KVSCOPE_CLI), {"scale", "--context", "4096"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QVERIFY(QString::fromUtf8(p.readAllStandardOutput()).contains("kvscope-shakespeare.gguf (loaded)"));
        // The sweep from the command line: one row per prompt length, as JSON.
        const QString json = QDir::temp().filePath("kvscope-test-sweep.json");
        p.start(QStringLiteral(KVSCOPE_CLI),
                {"bench", QString::fromStdString(model_fixture_path("tiny-llama-gqa")), "--prompt-lengths",
                 "4,16", "--decode-steps", "2", "--json", json});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QFile f(json);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonArray sweep = QJsonDocument::fromJson(f.readAll()).object()["prompt_sweep"].toArray();
        QCOMPARE(sweep.size(), 2);
        QCOMPARE(sweep.at(1).toObject()["prompt"].toInt(), 16);
        QVERIFY(sweep.at(1).toObject()["ttft_ms"].toDouble() > 0);
        f.remove();
        p.start(QStringLiteral(KVSCOPE_CLI), {"scale", "--context", "lots", "--no-loaded"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains("--context 'lots'"));
    }
};

QTEST_GUILESS_MAIN(ScaleTest)
#include "test_scale.moc"
