// Model loading: every fixture loads with the right configuration; llama2.c checkpoints (written here
// from a fixture's weights, both format versions) load and run to the reference; F16 safetensors load;
// and every kind of bad input gets a clear error that names the problem, never a crash.
#include <QtTest>

#include <QTemporaryDir>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "kvscope/writers.h"
#include "model/formats/hf_folder.h"
#include "model/formats/safetensors.h"
#include "support/engine_helpers.h"
#include "support/fixtures.h"

using namespace kvscope;
using namespace kvscope::test;
namespace fs = std::filesystem;

namespace {

std::string copy_fixture(const QTemporaryDir& tmp, const QString& name) {
    const std::string dst = tmp.path().toStdString() + "/" + name.toStdString();
    fs::copy(model_fixture_path(name), dst, fs::copy_options::recursive);
    for (auto& e : fs::directory_iterator(dst))
        fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add);
    fs::permissions(dst, fs::perms::owner_all, fs::perm_options::add);
    return dst;
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), std::streamsize(bytes.size()));
}

std::vector<char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Hugging Face stores Q and K rows of each head as [first halves | second halves] (rotate-half RoPE);
// Meta and llama2.c interleave the pairs. Row 2i+j of a Meta head is row j·hd/2 + i of the HF head.
std::vector<float> hf_to_interleaved(const Tensor& w, int n_heads, int hd) {
    const int64_t cols = w.cols();
    std::vector<float> out(size_t(w.numel()));
    for (int h = 0; h < n_heads; ++h)
        for (int i = 0; i < hd / 2; ++i)
            for (int j = 0; j < 2; ++j) {
                const float* src = w.data() + (int64_t(h) * hd + j * hd / 2 + i) * cols;
                std::memcpy(out.data() + (int64_t(h) * hd + 2 * i + j) * cols, src, size_t(cols) * 4);
            }
    return out;
}

// Writes a llama2.c checkpoint of a llama-family model (version 0: legacy, version 1: "ak42").
void write_llama2c(const Model& m, const std::string& path, int version, bool shared) {
    const ModelConfig& c = m.config;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    auto put = [&](const float* p, size_t n) {
        out.write(reinterpret_cast<const char*>(p), std::streamsize(n * 4));
    };
    auto put_v = [&](const std::vector<float>& v) { put(v.data(), v.size()); };
    const int32_t vocab = shared ? c.vocab_size : -c.vocab_size;
    const int32_t header[7] = {c.d_model,    c.d_ff, c.n_layers,      c.n_heads,
                               c.n_kv_heads, vocab,  c.context_length};
    if (version == 1) {
        const uint32_t magic = 0x616b3432;
        const int32_t v = 1;
        out.write(reinterpret_cast<const char*>(&magic), 4);
        out.write(reinterpret_cast<const char*>(&v), 4);
        out.write(reinterpret_cast<const char*>(header), sizeof header);
        const char shared_flag = shared ? 1 : 0;
        out.write(&shared_flag, 1);
        std::vector<char> pad(256 - 4 - 4 - sizeof header - 1, 0);
        out.write(pad.data(), std::streamsize(pad.size()));
    } else {
        out.write(reinterpret_cast<const char*>(header), sizeof header);
    }
    const int d = c.d_model, qd = c.q_dim(), kvd = c.kv_dim();
    auto part = [&](const LayerWeights& L, int which) {
        // rows of the fused QKV: q [0, qd), k [qd, qd + kvd), v after
        Tensor t = L.wqkv;
        const int begin = which == 0 ? 0 : which == 1 ? qd : qd + kvd;
        const int rows = which == 0 ? qd : kvd;
        Tensor s;
        s.shape = {rows, d};
        auto v = std::make_shared<std::vector<float>>(t.data() + int64_t(begin) * d,
                                                      t.data() + int64_t(begin + rows) * d);
        s.storage = std::shared_ptr<const float>(v, v->data());
        return s;
    };
    auto each_layer = [&](auto f) {
        for (const auto& L : m.layers)
            f(L);
    };
    auto norms = [&] {
        each_layer([&](const LayerWeights& L) { put(L.attn_norm.data(), size_t(d)); });
        each_layer([&](const LayerWeights& L) { put(L.ffn_norm.data(), size_t(d)); });
        put(m.out_norm.data(), size_t(d));
    };
    auto matrices = [&] {
        each_layer(
            [&](const LayerWeights& L) { put_v(hf_to_interleaved(part(L, 0), c.n_heads, c.head_dim)); });
        each_layer(
            [&](const LayerWeights& L) { put_v(hf_to_interleaved(part(L, 1), c.n_kv_heads, c.head_dim)); });
        each_layer([&](const LayerWeights& L) {
            Tensor v = part(L, 2);
            put(v.data(), size_t(v.numel()));
        });
        each_layer([&](const LayerWeights& L) { put(L.wo.data(), size_t(L.wo.numel())); });
    };
    auto mlp = [&] {
        each_layer([&](const LayerWeights& L) { put(L.w_gate.data(), size_t(L.w_gate.numel())); });
        each_layer([&](const LayerWeights& L) { put(L.w_down.data(), size_t(L.w_down.numel())); });
        each_layer([&](const LayerWeights& L) { put(L.w_up.data(), size_t(L.w_up.numel())); });
    };
    if (version == 1) {
        norms();
        put(m.tok_embd.data(), size_t(m.tok_embd.numel()));
        matrices();
        mlp();
    } else {
        put(m.tok_embd.data(), size_t(m.tok_embd.numel()));
        each_layer([&](const LayerWeights& L) { put(L.attn_norm.data(), size_t(d)); });
        matrices();
        each_layer([&](const LayerWeights& L) { put(L.ffn_norm.data(), size_t(d)); });
        mlp();
        put(m.out_norm.data(), size_t(d));
        std::vector<float> freq(size_t(c.context_length) * c.head_dim / 2, 0.0f);
        put_v(freq);
        put_v(freq);
    }
    if (!shared) put(m.lm_head.data(), size_t(m.lm_head.numel()));
}

}  // namespace

class ModelLoadingTest : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
    }

    void fixturesLoadWithTheirConfig_data() {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("arch");
        QTest::addColumn<int>("layers");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kv_heads");
        QTest::addColumn<int>("head_dim");
        QTest::addColumn<int>("context");
        QTest::addColumn<bool>("tied");
        QTest::addColumn<bool>("qkv_bias");
        QTest::addColumn<int>("rope");
        QTest::addColumn<float>("theta");
        QTest::newRow("tiny-gpt2") << "tiny-gpt2"
                                   << "gpt2" << 2 << 4 << 4 << 16 << 128 << true << true
                                   << int(RopeLayout::none) << 10000.0f;
        QTest::newRow("tiny-llama-gqa") << "tiny-llama-gqa"
                                        << "llama" << 2 << 4 << 2 << 16 << 256 << false << false
                                        << int(RopeLayout::rotate_half) << 10000.0f;
        QTest::newRow("tiny-qwen2") << "tiny-qwen2"
                                    << "qwen2" << 2 << 4 << 1 << 16 << 256 << true << true
                                    << int(RopeLayout::rotate_half) << 1000000.0f;
        QTest::newRow("tiny-llama-bf16-sharded") << "tiny-llama-bf16-sharded"
                                                 << "llama" << 3 << 8 << 2 << 8 << 256 << false << false
                                                 << int(RopeLayout::rotate_half) << 10000.0f;
    }

    void fixturesLoadWithTheirConfig() {
        QFETCH(QString, fixture);
        QFETCH(QString, arch);
        QFETCH(int, layers);
        QFETCH(int, heads);
        QFETCH(int, kv_heads);
        QFETCH(int, head_dim);
        QFETCH(int, context);
        QFETCH(bool, tied);
        QFETCH(bool, qkv_bias);
        QFETCH(int, rope);
        QFETCH(float, theta);
        auto m = load_model(model_fixture_path(fixture));
        QVERIFY2(m.is_ok(), m.message().c_str());
        const ModelConfig& c = m.value()->config;
        QCOMPARE(QString::fromStdString(c.arch_name), arch);
        QCOMPARE(c.n_layers, layers);
        QCOMPARE(c.n_heads, heads);
        QCOMPARE(c.n_kv_heads, kv_heads);
        QCOMPARE(c.head_dim, head_dim);
        QCOMPARE(c.context_length, context);
        QCOMPARE(c.vocab_size, 320);
        QCOMPARE(c.tied_embeddings, tied);
        QCOMPARE(c.qkv_bias, qkv_bias);
        QCOMPARE(int(c.rope_layout), rope);
        QCOMPARE(c.rope_theta, theta);
        QCOMPARE(m.value()->format, std::string("safetensors"));
        if (tied) QCOMPARE(m.value()->lm_head.data(), m.value()->tok_embd.data());
        // Loading the same folder through one of its files works too.
        auto again = load_model(model_fixture_path(fixture) + "/config.json");
        QVERIFY2(again.is_ok(), again.message().c_str());
        QCOMPARE(again.value()->n_params(), m.value()->n_params());
    }

    void ropeThetaInEitherPlace() {
        const std::string base = R"("model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
            "num_hidden_layers": 1, "num_attention_heads": 4, "max_position_embeddings": 64, "vocab_size": 10)";
        auto top = parse_hf_config("{" + base + R"(, "rope_theta": 500000.0})", "config.json");
        QVERIFY2(top.is_ok(), top.message().c_str());
        QCOMPARE(top->rope_theta, 500000.0f);
        auto nested = parse_hf_config(
            "{" + base + R"(, "rope_parameters": {"rope_theta": 250000.0, "rope_type": "default"}})",
            "config.json");
        QVERIFY2(nested.is_ok(), nested.message().c_str());
        QCOMPARE(nested->rope_theta, 250000.0f);
        QCOMPARE(nested->n_kv_heads, 4);  // defaults to the query heads
        auto scaled = parse_hf_config(
            "{" + base + R"(, "rope_scaling": {"rope_type": "llama3", "factor": 8.0}})", "config.json");
        QVERIFY(!scaled.is_ok());
        QVERIFY2(scaled.message().find("llama3") != std::string::npos, scaled.message().c_str());
    }

    void llama2cCheckpointsRunToTheReference_data() {
        QTest::addColumn<int>("version");
        QTest::newRow("legacy") << 0;
        QTest::newRow("version 1 (ak42)") << 1;
    }

    void llama2cCheckpointsRunToTheReference() {
        QFETCH(int, version);
        QTemporaryDir tmp;
        const std::string src = model_fixture_path("tiny-llama-gqa");
        auto hf = load_model(src);
        QVERIFY2(hf.is_ok(), hf.message().c_str());
        const std::string path = tmp.path().toStdString() + "/model.bin";
        write_llama2c(*hf.value(), path, version, /*shared=*/false);

        auto m = load_model(path);
        QVERIFY2(m.is_ok(), m.message().c_str());
        QCOMPARE(m.value()->format, std::string("llama2.c"));
        QCOMPARE(int(m.value()->config.rope_layout), int(RopeLayout::interleaved));
        QCOMPARE(m.value()->config.n_kv_heads, 2);
        QVERIFY(!m.value()->config.tied_embeddings);

        auto ref = load_reference(src);
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        auto engine = Engine::create(m.value(), make_cpu_backend());
        QVERIFY2(engine.is_ok(), engine.message().c_str());
        auto s = make_session(engine.value(), SessionMode::cached, TraceOptions::off());
        auto step = s->prefill(ref->input_ids, true);
        QVERIFY2(step.is_ok(), step.message().c_str());
        const float d =
            max_abs_diff(s->logits().data(), ref->logits.values.data(), ref->logits.values.size());
        qInfo("llama2.c v%d: logits max |diff| vs transformers = %.3g", version, double(d));
        QVERIFY2(d <= 1e-4f, qPrintable(QString("logits differ by %1").arg(d)));
        for (size_t i = 0; i < ref->generated.size(); ++i) {
            QCOMPARE(step.value()->chosen, ref->generated[i]);
            step = s->decode(step.value()->chosen);
            QVERIFY(step.is_ok());
        }

        // A shared classifier (vocab_size > 0) ties lm_head to the embedding.
        const std::string shared = tmp.path().toStdString() + "/shared.bin";
        write_llama2c(*hf.value(), shared, version, /*shared=*/true);
        auto ms = load_model(shared);
        QVERIFY2(ms.is_ok(), ms.message().c_str());
        QVERIFY(ms.value()->config.tied_embeddings);
        QCOMPARE(ms.value()->lm_head.data(), ms.value()->tok_embd.data());
    }

    void f16SafetensorsLoad() {
        QTemporaryDir tmp;
        const std::string dir = copy_fixture(tmp, "tiny-llama-gqa");
        auto st = open_safetensors(dir + "/model.safetensors");
        QVERIFY2(st.is_ok(), st.message().c_str());
        std::vector<SafetensorsTensor> tensors;
        for (const auto& e : st->entries) {
            SafetensorsTensor t{e.name, e.shape, DType::f16, std::vector<float>(e.nbytes / 4)};
            std::memcpy(t.values.data(), e.data, e.nbytes);
            tensors.push_back(std::move(t));
        }
        QVERIFY(write_safetensors(dir + "/model.safetensors", tensors).is_ok());
        auto m = load_model(dir);
        QVERIFY2(m.is_ok(), m.message().c_str());
        QCOMPARE(m.value()->main_dtype(), DType::f16);
        QCOMPARE(m.value()->stored_bytes(), m.value()->n_params() * 2);
        auto ref = load_reference(model_fixture_path("tiny-llama-gqa"));
        auto engine = Engine::create(m.value(), make_cpu_backend());
        auto s = make_session(engine.value(), SessionMode::cached, TraceOptions::off());
        QVERIFY(s->prefill(ref->input_ids, true).is_ok());
        const float d =
            max_abs_diff(s->logits().data(), ref->logits.values.data(), ref->logits.values.size());
        qInfo("F16 weights: logits max |diff| vs float32 reference = %.3g", double(d));
        QVERIFY(d < 2e-2f);
    }

    // ---- bad input -----------------------------------------------------------------------------------

    void truncatedSafetensors() {
        QTemporaryDir tmp;
        const std::string dir = copy_fixture(tmp, "tiny-llama-gqa");
        const std::string file = dir + "/model.safetensors";
        auto bytes = read_bytes(file);
        bytes.resize(bytes.size() / 2);
        write_bytes(file, bytes);
        expect_load_error(dir, "point past the end");
        bytes.resize(5);
        write_bytes(file, bytes);
        expect_load_error(dir, "too short");
    }

    void headerOffsetsPastTheEnd() {
        QTemporaryDir tmp;
        const std::string dir = copy_fixture(tmp, "tiny-gpt2");
        const std::string file = dir + "/model.safetensors";
        auto bytes = read_bytes(file);
        // A header length larger than the file.
        auto big = bytes;
        const uint64_t huge = bytes.size() + 100;
        std::memcpy(big.data(), &huge, 8);
        write_bytes(file, big);
        expect_load_error(dir, "runs past the end");
        // A tensor whose data_offsets point past the data.
        uint64_t n;
        std::memcpy(&n, bytes.data(), 8);
        std::string header(bytes.data() + 8, n);
        const std::string needle = "\"data_offsets\":[0,";
        auto at = header.find(needle);
        QVERIFY(at != std::string::npos);
        header.replace(at, needle.size(), "\"data_offsets\":[9000000,");
        std::vector<char> bad(8);
        const uint64_t len = header.size();
        std::memcpy(bad.data(), &len, 8);
        bad.insert(bad.end(), header.begin(), header.end());
        bad.insert(bad.end(), bytes.begin() + 8 + long(n), bytes.end());
        write_bytes(file, bad);
        expect_load_error(dir, "data_offsets");
        // Garbage JSON.
        std::vector<char> garbage(8);
        const uint64_t gl = 4;
        std::memcpy(garbage.data(), &gl, 8);
        for (char ch : std::string("{{{{"))
            garbage.push_back(ch);
        write_bytes(file, garbage);
        expect_load_error(dir, "does not parse");
    }

    void missingShard() {
        QTemporaryDir tmp;
        const std::string dir = copy_fixture(tmp, "tiny-llama-bf16-sharded");
        fs::remove(dir + "/model-00003-of-00008.safetensors");
        expect_load_error(dir, "model-00003-of-00008.safetensors");
    }

    void configProblems() {
        QTemporaryDir tmp;
        const std::string dir = copy_fixture(tmp, "tiny-llama-gqa");
        auto text = read_bytes(dir + "/config.json");
        const std::string original(text.begin(), text.end());
        auto with = [&](const std::string& from, const std::string& to) {
            std::string s = original;
            auto at = s.find(from);
            QVERIFY2(at != std::string::npos, from.c_str());
            s.replace(at, from.size(), to);
            write_text(dir + "/config.json", s);
        };
        with("\"model_type\": \"llama\"", "\"model_type\": \"mamba\"");
        expect_load_error(dir, "unknown architecture \"mamba\"");
        with("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3");
        expect_load_error(dir, "not a multiple of n_kv_heads");
        with("\"hidden_size\": 64", "\"hidden_size\": 48");
        expect_load_error(dir, "model.embed_tokens.weight");  // the first tensor whose shape disagrees
        with("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
        expect_load_error(dir, "model.layers.2.input_layernorm.weight' not found");
        with("\"num_hidden_layers\": 2", "\"num_hidden_layers\": \"two\"");
        expect_load_error(
            dir, "key num_hidden_layers: expected an integer from 0 to 1073741824, found the string \"two\"");
        write_text(dir + "/config.json", "{ not json");
        expect_load_error(dir, "does not parse as JSON");
        fs::remove(dir + "/config.json");
        expect_load_error(dir, "no config.json");
    }

    void tensorWithTheWrongShape() {
        QTemporaryDir tmp;
        const std::string dir = copy_fixture(tmp, "tiny-llama-gqa");
        auto st = open_safetensors(dir + "/model.safetensors");
        QVERIFY(st.is_ok());
        std::vector<SafetensorsTensor> tensors;
        for (const auto& e : st->entries) {
            SafetensorsTensor t{e.name, e.shape, DType::f32, std::vector<float>(e.nbytes / 4)};
            std::memcpy(t.values.data(), e.data, e.nbytes);
            if (e.name == "model.layers.1.self_attn.k_proj.weight") {
                t.shape = {16, 64};
                t.values.resize(16 * 64);
            }
            tensors.push_back(std::move(t));
        }
        QVERIFY(write_safetensors(dir + "/model.safetensors", tensors).is_ok());
        expect_load_error(dir, "tensor 'model.layers.1.self_attn.k_proj.weight' in " + dir +
                                   "/model.safetensors has shape [16, 64], expected [32, 64]");
    }

    void llama2cImpossibleAndTruncated() {
        QTemporaryDir tmp;
        const std::string path = tmp.path().toStdString() + "/bad.bin";
        const int32_t impossible[7] = {64, 176, 2, 5, 2, -320, 256};  // 64 not a multiple of 5 heads
        write_bytes(path, std::vector<char>(reinterpret_cast<const char*>(impossible),
                                            reinterpret_cast<const char*>(impossible) + 28));
        expect_load_error(path, "impossible sizes");
        const int32_t negative[7] = {-64, 176, 2, 4, 2, 320, 256};
        write_bytes(path, std::vector<char>(reinterpret_cast<const char*>(negative),
                                            reinterpret_cast<const char*>(negative) + 28));
        expect_load_error(path, "impossible sizes");
        const int32_t fine[7] = {64, 176, 2, 4, 2, -320, 256};
        std::vector<char> truncated(reinterpret_cast<const char*>(fine),
                                    reinterpret_cast<const char*>(fine) + 28);
        truncated.resize(28 + 4000);
        write_bytes(path, truncated);
        expect_load_error(path, "needs");
        write_bytes(path, std::vector<char>{'x'});
        expect_load_error(path, "too short");
        const uint32_t v2[2] = {0x616b3432, 2};
        std::vector<char> q80(reinterpret_cast<const char*>(v2), reinterpret_cast<const char*>(v2) + 8);
        q80.resize(300);
        write_bytes(path, q80);
        expect_load_error(path, "version 2 is not supported");
    }

    void notAModel() {
        QTemporaryDir tmp;
        const std::string path = tmp.path().toStdString() + "/notes.txt";
        write_text(path, "hello, this is not a model");
        expect_load_error(path, "not a model KVScope can read");
        expect_load_error(tmp.path().toStdString() + "/nothing-here", "no such file");
    }
};

QTEST_APPLESS_MAIN(ModelLoadingTest)
#include "test_model_loading.moc"
