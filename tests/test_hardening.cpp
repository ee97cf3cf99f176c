// Malformed input of every loader class ends in one clear error, never a crash: JSON values of the wrong
// type or null (config.json, tokenizer.json, tokenizer_config.json, the shard index, safetensors headers),
// safetensors headers that must be refused (element counts past 64 bits, shared byte ranges, duplicate
// keys), PyTorch pickle checkpoints, and the command line's own checks (numeric options, --decode,
// tokenize --file's cap, convert's refusal to overwrite). Through kvscope-cli each ends in exit 1 or 2 and
// one "error:" line.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "kvscope/model.h"
#include "kvscope/tokenizer.h"
#include "model/formats/hf_folder.h"
#include "model/formats/safetensors.h"
#include "support/fixtures.h"
#include "util/json_value.h"

using namespace kvscope;
using namespace kvscope::test;
namespace fs = std::filesystem;

namespace {

std::string tokenizers_dir() {
    return fixtures_dir() + "/tokenizers";
}

std::string copy_fixture(const QTemporaryDir& tmp, const char* name) {
    return copy_model_fixture(tmp.path().toStdString(), QString::fromUtf8(name));
}

// A safetensors file from a header written by hand and `data_bytes` zero bytes.
std::string safetensors_bytes(const std::string& header, size_t data_bytes) {
    std::string out(8, '\0');
    const uint64_t n = header.size();
    std::memcpy(out.data(), &n, 8);
    return out + header + std::string(data_bytes, '\0');
}

struct Run {
    int code = -1;
    QString out, err;
};

Run cli(const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(KVSCOPE_CLI), args);
    Run r;
    if (!p.waitForFinished(120000)) {
        p.kill();
        r.err = "timed out";
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

// The CLI failed cleanly: exit 1 or 2 (not a signal, not CLI11's 100+), the message on stderr, and no
// crash output.
#define QVERIFY_CLI_ERROR(run, needle)                                                              \
    do {                                                                                            \
        const Run& r_ = (run);                                                                      \
        QVERIFY2(r_.code == 1 || r_.code == 2,                                                      \
                 qPrintable(QStringLiteral("exit %1, stderr: %2").arg(r_.code).arg(r_.err)));       \
        QVERIFY2(r_.err.contains(needle),                                                           \
                 qPrintable("stderr does not mention '" + QString(needle) + "': " + r_.err));       \
        QVERIFY2(!r_.err.contains("terminate") && !r_.err.contains("Aborted"), qPrintable(r_.err)); \
    } while (0)

}  // namespace

class HardeningTest : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
    }

    // --- the checked JSON accessor ------------------------------------------------------------------------
    void jsonAccessorSaysFileKeyExpectedAndFound() {
        auto doc = parse_json(R"({"a": {"b": [1, "two", null]}, "flag": "yes", "big": 1e300})", "f.json");
        QVERIFY2(doc.is_ok(), doc.message().c_str());
        const JsonRef root = JsonRef::root(doc.value(), "f.json");
        QCOMPARE(
            root["a"]["b"][1].integer(0, 10).message(),
            std::string("f.json: key a.b[1]: expected an integer from 0 to 10, found the string \"two\""));
        QCOMPARE(root["flag"].boolean().message(),
                 std::string("f.json: key flag: expected true or false, found the string \"yes\""));
        QCOMPARE(root["missing"].string().message(),
                 std::string("f.json: key missing: expected a string, found nothing (the key is missing)"));
        QCOMPARE(root["a"]["b"][2].integer_or(7, 0, 10).value(), int64_t{7});  // null means the default
        QCOMPARE(root["nope"].boolean_or(true).value(), true);
        QVERIFY(!root["big"].integer(0, 100).is_ok());
        QVERIFY(!root["a"].string().is_ok());
        QVERIFY(root["a"]["b"][9].absent());
        QVERIFY(root["flag"]["x"]["y"].absent());  // members of a non-object are absent, never a throw
    }

    void jsonParserRefusesDuplicatesAndDeepNesting() {
        auto dup = parse_json(R"({"a": 1, "b": {"c": 1, "c": 2}})", "d.json");
        QVERIFY(!dup.is_ok());
        QVERIFY2(dup.message().find("d.json: key \"c\" appears twice") != std::string::npos,
                 dup.message().c_str());
        QVERIFY(parse_json(R"({"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]})", "ok.json").is_ok());
        const std::string deep = std::string(100000, '[') + std::string(100000, ']');
        auto nested = parse_json(deep, "deep.json");
        QVERIFY(!nested.is_ok());
        QVERIFY2(nested.message().find("deeper than") != std::string::npos, nested.message().c_str());
        auto bad_utf8 = parse_json("{\"a\": \"\xFF\"}", "u.json");
        QVERIFY(!bad_utf8.is_ok());
        QVERIFY(bad_utf8.message().find("u.json: does not parse as JSON") != std::string::npos);
    }

    // --- config.json -------------------------------------------------------------------------------------
    void configJsonValuesOfTheWrongType_data() {
        QTest::addColumn<QString>("from");
        QTest::addColumn<QString>("to");
        QTest::addColumn<QString>("message");
        QTest::newRow("string for a bool") << "\"tie_word_embeddings\": false"
                                           << "\"tie_word_embeddings\": \"no\""
                                           << "key tie_word_embeddings: expected true or false, found the "
                                              "string \"no\"";
        QTest::newRow("object for a string")
            << "\"hidden_act\": \"silu\""
            << "\"hidden_act\": {\"name\": \"silu\"}"
            << "key hidden_act: expected a string, found an object with 1 keys";
        QTest::newRow("null where required") << "\"hidden_size\": 64"
                                             << "\"hidden_size\": null"
                                             << "key hidden_size: expected an integer";
        QTest::newRow("array for a number") << "\"rms_norm_eps\": 1e-05"
                                            << "\"rms_norm_eps\": [1e-05]"
                                            << "key rms_norm_eps: expected a number, found an array of 1";
        QTest::newRow("number for model_type") << "\"model_type\": \"llama\""
                                               << "\"model_type\": 7"
                                               << "key model_type: expected a string, found the number 7";
        QTest::newRow("negative size") << "\"num_attention_heads\": 4"
                                       << "\"num_attention_heads\": -4"
                                       << "key num_attention_heads: expected an integer from 0 to";
        QTest::newRow("rope_parameters a string")
            << "\"rope_parameters\": {"
            << "\"rope_parameters\": \"x\", \"unused\": {"
            << "key rope_parameters: expected an object, found the string \"x\"";
        QTest::newRow("duplicate key") << "\"hidden_size\": 64"
                                       << "\"hidden_size\": 64, \"hidden_size\": 32"
                                       << "key \"hidden_size\" appears twice";
    }
    void configJsonValuesOfTheWrongType() {
        QFETCH(QString, from);
        QFETCH(QString, to);
        QFETCH(QString, message);
        QTemporaryDir tmp;
        const std::string dir = copy_fixture(tmp, "tiny-llama-gqa");
        std::string text = read_file(dir + "/config.json");
        const size_t at = text.find(from.toStdString());
        QVERIFY2(at != std::string::npos, qPrintable(from));
        text.replace(at, size_t(from.size()), to.toStdString());
        write_file(dir + "/config.json", text);
        auto model = load_model(dir);
        QVERIFY(!model.is_ok());
        QVERIFY2(model.message().find(message.toStdString()) != std::string::npos, model.message().c_str());
        QVERIFY2(model.message().find(dir + "/config.json") != std::string::npos, model.message().c_str());
        const Run r = cli({"info", QString::fromStdString(dir)});
        QVERIFY_CLI_ERROR(r, message);
        QCOMPARE(r.err.count('\n'), 1);  // one line
    }

    void configJsonNullsMeanTheDefault() {
        // Real configs write null for what has a default (GPT-2's n_inner; eos ids; rope settings).
        const std::string gpt2 = R"({"model_type": "gpt2", "n_embd": 8, "n_layer": 1, "n_head": 2,
            "n_positions": 16, "n_inner": null, "vocab_size": 32, "layer_norm_epsilon": null,
            "activation_function": null, "scale_attn_weights": null})";
        auto c = parse_hf_config(gpt2, "config.json");
        QVERIFY2(c.is_ok(), c.message().c_str());
        QCOMPARE(c->d_ff, 32);
        const std::string llama = R"({"model_type": "llama", "hidden_size": 8, "intermediate_size": 16,
            "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": null,
            "max_position_embeddings": 16.0, "vocab_size": 32, "rope_theta": null, "rope_scaling": null,
            "tie_word_embeddings": null, "head_dim": null, "hidden_act": null})";
        auto l = parse_hf_config(llama, "config.json");
        QVERIFY2(l.is_ok(), l.message().c_str());
        QCOMPARE(l->n_kv_heads, 2);
        QCOMPARE(l->context_length, 16);
        QCOMPARE(l->rope_theta, 10000.0f);
    }

    // --- tokenizer files ---------------------------------------------------------------------------------
    void tokenizerJsonValuesOfTheWrongType_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("message");
        const QString ok_model =
            R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";
        QTest::newRow("add_prefix_space a string")
            << "{" + ok_model + R"(, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": "no"}})"
            << "key pre_tokenizer.add_prefix_space: expected true or false, found the string \"no\"";
        QTest::newRow("pre_tokenizer a string")
            << "{" + ok_model + R"(, "pre_tokenizer": "ByteLevel"})"
            << "key pre_tokenizer: expected an object, found the string \"ByteLevel\"";
        QTest::newRow("special a string")
            << "{" + ok_model +
                   R"(, "added_tokens": [{"id": 3, "content": "<x>", "special": "yes"}], "pre_tokenizer": {"type": "ByteLevel"}})"
            << "key added_tokens[0].special: expected true or false";
        QTest::newRow("merges an object")
            << R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": {}}, "pre_tokenizer": {"type": "ByteLevel"}})"
            << "key model.merges: expected an array, found an empty object";
        QTest::newRow("normalizer type a number")
            << "{" + ok_model + R"(, "normalizer": {"type": 5}, "pre_tokenizer": {"type": "ByteLevel"}})"
            << "key normalizer.type: expected a string, found the number 5";
        QTest::newRow("template ids not integers")
            << "{" + ok_model +
                   R"(, "pre_tokenizer": {"type": "ByteLevel"}, "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}], "special_tokens": {"<s>": {"ids": ["0"]}}}})"
            << "key post_processor.special_tokens[\"<s>\"].ids[0]: expected an integer";
        QTest::newRow("duplicate vocabulary key")
            << R"({"model": {"type": "BPE", "vocab": {"a": 0, "a": 1}, "merges": []}})"
            << "key \"a\" appears twice";
        QTest::newRow("model null") << R"({"model": null})"
                                    << "has no \"model\" object";
    }
    void tokenizerJsonValuesOfTheWrongType() {
        QFETCH(QString, json);
        QFETCH(QString, message);
        QTemporaryDir tmp;
        const std::string path = tmp.path().toStdString() + "/tokenizer.json";
        write_file(path, json.toStdString());
        auto tok = load_tokenizer(path);
        QVERIFY(!tok.is_ok());
        QVERIFY2(tok.message().find(message.toStdString()) != std::string::npos, tok.message().c_str());
        QVERIFY2(tok.message().find(path) != std::string::npos, tok.message().c_str());
        const Run r = cli({"tokenize", QString::fromStdString(path), "--text", "ab"});
        QVERIFY_CLI_ERROR(r, message);
    }

    void folderSpecialTokensOfTheWrongType_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("message");
        QTest::newRow("add_bos_token a string")
            << "tokenizer_config.json"
            << R"({"add_bos_token": "true"})"
            << "tokenizer_config.json: key add_bos_token: expected true or false, found the string \"true\"";
        QTest::newRow("bos_token a number") << "tokenizer_config.json"
                                            << R"({"bos_token": 5})"
                                            << "key bos_token: expected a string, {\"content\": ...} or null";
        QTest::newRow("added_tokens_decoder key not an id")
            << "tokenizer_config.json"
            << R"({"added_tokens_decoder": {"x": {"content": "<x>"}}})"
            << "the key must be a token id";
        QTest::newRow("pad_token_id a string") << "config.json"
                                               << R"({"pad_token_id": "2"})"
                                               << "config.json: key pad_token_id: expected an integer";
        QTest::newRow("special_tokens_map a list") << "special_tokens_map.json"
                                                   << R"([1, 2])"
                                                   << "special_tokens_map.json: expected an object";
    }
    void folderSpecialTokensOfTheWrongType() {
        QFETCH(QString, file);
        QFETCH(QString, json);
        QFETCH(QString, message);
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        fs::copy_file(tokenizers_dir() + "/gpt2/vocab.json", dir + "/vocab.json");
        fs::copy_file(tokenizers_dir() + "/gpt2/merges.txt", dir + "/merges.txt");
        write_file(dir + "/" + file.toStdString(), json.toStdString());
        auto tok = load_tokenizer(dir);
        QVERIFY(!tok.is_ok());
        QVERIFY2(tok.message().find(message.toStdString()) != std::string::npos, tok.message().c_str());
    }

    // --- safetensors headers ---------------------------------------------------------------------------
    void safetensorsHeadersRefused_data() {
        QTest::addColumn<QString>("header");
        QTest::addColumn<int>("data");
        QTest::addColumn<QString>("message");
        // 2^32 x 2^32 elements wrap to 0 in 64 bits: a wrapped count would "fit" an empty range.
        QTest::newRow("element count past 64 bits")
            << R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})" << 0
            << "tensor 'w': shape [4294967296, 4294967296]... has more elements than 64 bits can count";
        QTest::newRow("bytes past 64 bits")
            << R"({"w": {"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 0]}})" << 0
            << "needs more bytes than 64 bits can count";
        QTest::newRow("overlapping ranges")
            << R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})"
            << 24 << "tensors 'a' (data_offsets [0, 16]) and 'b' (data_offsets [8, 24]) share bytes";
        QTest::newRow("aliased ranges")
            << R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})"
            << 8 << "share bytes";
        QTest::newRow("duplicate key")
            << R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})"
            << 16 << "key \"a\" appears twice";
        QTest::newRow("shape of strings")
            << R"({"a": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}})" << 8
            << "header: key a.shape[0]: expected an integer";
        QTest::newRow("dtype null") << R"({"a": {"dtype": null, "shape": [2], "data_offsets": [0, 8]}})" << 8
                                    << "key a.dtype: expected a string, found null";
        QTest::newRow("offsets negative")
            << R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}})" << 8
            << "expected an integer from 0 to";
        QTest::newRow("entry not an object")
            << R"({"a": [1, 2]})" << 0 << "key a: expected an object, found an array of 2";
    }
    void safetensorsHeadersRefused() {
        QFETCH(QString, header);
        QFETCH(int, data);
        QFETCH(QString, message);
        QTemporaryDir tmp;
        const std::string path = tmp.path().toStdString() + "/model.safetensors";
        write_file(path, safetensors_bytes(header.toStdString(), size_t(data)));
        auto st = open_safetensors(path);
        QVERIFY(!st.is_ok());
        QVERIFY2(st.message().find(message.toStdString()) != std::string::npos, st.message().c_str());
        QVERIFY2(st.message().find(path) != std::string::npos, st.message().c_str());
    }

    void emptyTensorsShareNoBytes() {
        QTemporaryDir tmp;
        const std::string path = tmp.path().toStdString() + "/model.safetensors";
        write_file(
            path,
            safetensors_bytes(
                R"({"e": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
                8));
        auto st = open_safetensors(path);
        QVERIFY2(st.is_ok(), st.message().c_str());
    }

    void unusedTensorsAreReported() {
        QTemporaryDir tmp;
        const std::string dir = copy_fixture(tmp, "tiny-llama-gqa");
        auto clean = load_model(dir);
        QVERIFY2(clean.is_ok(), clean.message().c_str());
        QVERIFY2(clean.value()->notes.empty(),
                 clean.value()->notes.empty() ? "" : clean.value()->notes.front().c_str());

        append_unused_tensors(dir);  // a float one and an integer one
        auto model = load_model(dir);
        QVERIFY2(model.is_ok(), model.message().c_str());
        QCOMPARE(model.value()->notes.size(), size_t(1));
        const std::string& note = model.value()->notes.front();
        QVERIFY2(note.find("2 tensors are in the file but not used by the model") != std::string::npos,
                 note.c_str());
        QVERIFY2(note.find("'extra.scale' (F32 [2])") != std::string::npos, note.c_str());
        QVERIFY2(note.find("'extra.steps' (I64, not a float type)") != std::string::npos, note.c_str());
        const Run r = cli({"info", QString::fromStdString(dir)});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains("note: ") && r.err.contains("extra.scale"), qPrintable(r.err));
    }

    void shardIndexValuesOfTheWrongType() {
        QTemporaryDir tmp;
        const std::string dir = copy_fixture(tmp, "tiny-llama-bf16-sharded");
        write_file(dir + "/model.safetensors.index.json",
                   R"({"metadata": {}, "weight_map": {"model.norm.weight": 3}})");
        auto model = load_model(dir);
        QVERIFY(!model.is_ok());
        QVERIFY2(model.message().find("model.safetensors.index.json: key weight_map[\"model.norm.weight\"]: "
                                      "expected a string, found the number 3") != std::string::npos,
                 model.message().c_str());
        write_file(dir + "/model.safetensors.index.json", R"({"weight_map": null})");
        model = load_model(dir);
        QVERIFY(!model.is_ok());
        QVERIFY2(model.message().find("key weight_map: expected an object, found null") != std::string::npos,
                 model.message().c_str());
    }

    // --- PyTorch pickles -----------------------------------------------------------------------------------
    void pytorchPicklesAreRecognised_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("bytes");
        // torch.save's zip: a local file header naming archive/data.pkl; the legacy format: a protocol-2
        // pickle starting with the magic number as a LONG1.
        QByteArray zip(
            "PK\x03\x04\x00\x00\x08\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
            "\x00\x00\x00\x00\x10\x00\x00\x00"
            "archive/data.pkl\x80\x02}q\x00.",
            30 + 16 + 6);
        // (Every byte as an escape: "\x9cF" would read as one escape, and the literal come out short.)
        QByteArray legacy(
            "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e"
            "\x80\x02\x4d\xe9\x03\x2e",
            21);
        QTest::newRow("pytorch_model.bin (zip)") << "pytorch_model.bin" << zip;
        QTest::newRow("model.pt (zip)") << "model.pt" << zip;
        QTest::newRow("legacy .bin") << "old.bin" << legacy;
        QTest::newRow("legacy .pth") << "weights.pth" << legacy;
    }
    void pytorchPicklesAreRecognised() {
        QFETCH(QString, name);
        QFETCH(QByteArray, bytes);
        QTemporaryDir tmp;
        const std::string path = tmp.path().toStdString() + "/" + name.toStdString();
        write_file(path, bytes.toStdString());
        auto model = load_model(path);
        QVERIFY(!model.is_ok());
        QVERIFY2(model.message().find("not loaded, because unpickling can run code; convert it to "
                                      "safetensors") != std::string::npos,
                 model.message().c_str());
        QVERIFY2(model.message().find("dim must be") == std::string::npos, model.message().c_str());
        const Run r = cli({"info", QString::fromStdString(path)});
        QVERIFY_CLI_ERROR(r, "unpickling can run code");
    }

    void folderWithOnlyAPickle() {
        QTemporaryDir tmp;
        const std::string dir = copy_fixture(tmp, "tiny-gpt2");
        fs::rename(dir + "/model.safetensors", dir + "/pytorch_model.bin");
        auto model = load_model(dir);
        QVERIFY(!model.is_ok());
        QVERIFY2(model.message().find("pytorch_model.bin") != std::string::npos, model.message().c_str());
        QVERIFY2(model.message().find("unpickling can run code") != std::string::npos,
                 model.message().c_str());
    }

    // --- the command line ----------------------------------------------------------------------------------
    void numericOptionsSayWhatTheyWant_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        const QString gqa = QString::fromStdString(model_fixture_path("tiny-llama-gqa"));
        QTest::newRow("steps 0") << QStringList{"generate", gqa, "--tokens", "1", "--steps", "0"}
                                 << "--steps: expected a whole number from 1 to 1000000, found '0'";
        QTest::newRow("steps not a number")
            << QStringList{"generate", gqa, "--tokens", "1", "--steps", "ten"}
            << "--steps: expected a whole number from 1 to 1000000, found 'ten'";
        QTest::newRow("threads negative") << QStringList{"generate", gqa, "--tokens", "1", "--threads", "-1"}
                                          << "--threads: expected a whole number from 0 to 1024";
        QTest::newRow("top-p 0") << QStringList{"generate", gqa, "--tokens", "1", "--top-p", "0"}
                                 << "--top-p: expected a number in (0, 1], found '0'";
        QTest::newRow("temperature nan")
            << QStringList{"generate", gqa, "--tokens", "1", "--temperature", "nan"}
            << "--temperature: expected a number in [0, 100]";
        QTest::newRow("seed negative") << QStringList{"generate", gqa, "--tokens", "1", "--seed", "-3"}
                                       << "--seed: expected a whole number from 0 to";
        QTest::newRow("bench decode-steps 0")
            << QStringList{"bench", gqa, "--decode-steps", "0"} << "--decode-steps: expected a whole number";
        QTest::newRow("bench contexts") << QStringList{"bench", gqa, "--contexts", "16,x"}
                                        << "--contexts: expected a whole number from 1 to";
        QTest::newRow("make-model layers 0") << QStringList{"make-model", "/tmp/never", "--layers", "0"}
                                             << "--layers: expected a whole number from 1 to 1024";
        QTest::newRow("decode labelled --decode")
            << QStringList{"tokenize", QString::fromStdString(tokenizers_dir() + "/gpt2/tokenizer.json"),
                           "--decode", "1,x"}
            << "--decode: item 1 (\"x\") is not a non-negative token id";
    }
    void numericOptionsSayWhatTheyWant() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const Run r = cli(args);
        QVERIFY_CLI_ERROR(r, message);
        QVERIFY2(!r.err.contains("1.79769") && !r.err.contains("not in range"), qPrintable(r.err));
    }

    void tokenizeFileIsCapped() {
        QTemporaryDir tmp;
        const QString big = tmp.path() + "/big.txt";
        {
            QFile f(big);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QVERIFY(f.resize((64 << 20) + 1));  // sparse: one byte past the cap
        }
        const QString tok = QString::fromStdString(tokenizers_dir() + "/gpt2/tokenizer.json");
        const Run r = cli({"tokenize", tok, "--file", big});
        QVERIFY_CLI_ERROR(r, "longer than 64 MiB, the most tokenize reads");
        const QString small = tmp.path() + "/small.txt";
        write_file(small.toStdString(), "Hello world");
        const Run ok = cli({"tokenize", tok, "--file", small});
        QVERIFY2(ok.code == 0, qPrintable(ok.err));
        QCOMPARE(ok.out.trimmed(), QStringLiteral("15496,995"));
    }

    void convertRefusesToOverwrite() {
        QTemporaryDir tmp;
        const std::string dir = copy_fixture(tmp, "tiny-llama-gqa");
        const QString in = QString::fromStdString(dir);
        const QString out = tmp.path() + "/out.gguf";
        QVERIFY2(cli({"convert", in, out}).code == 0, "first conversion");
        Run again = cli({"convert", in, out});
        QVERIFY_CLI_ERROR(again, "exists; add --force to replace it");
        Run forced = cli({"convert", in, out, "--force"});
        QVERIFY2(forced.code == 0, qPrintable(forced.err));
        // Never onto the input, not even with --force: the GGUF itself, or a file of the input folder.
        const std::string before = read_file(out.toStdString());
        Run self = cli({"convert", out, out, "--force"});
        QVERIFY_CLI_ERROR(self, "is the input");
        QVERIFY(read_file(out.toStdString()) == before);
        const std::string config = read_file(dir + "/config.json");
        Run into = cli({"convert", in, in + "/config.json", "--force"});
        QVERIFY_CLI_ERROR(into, "is a file of the input folder");
        QVERIFY(read_file(dir + "/config.json") == config);
    }

    void noExceptionEscapesTheLoaders() {
        // Inputs that once threw (nlohmann's type_error, std::stoll) now come back as errors.
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        write_file(dir + "/config.json", R"({"model_type": "gpt2", "n_positions": null, "n_ctx": "x"})");
        write_file(dir + "/model.safetensors", safetensors_bytes("{}", 0));
        auto model = load_model(dir);
        QVERIFY(!model.is_ok());
        QVERIFY2(model.message().find("config.json: key n_embd") != std::string::npos,
                 model.message().c_str());
        write_file(
            dir + "/config.json",
            R"({"model_type": "gpt2", "n_embd": 8, "n_layer": 1, "n_head": 2, "n_ctx": "x", "vocab_size": 4})");
        model = load_model(dir);
        QVERIFY(!model.is_ok());
        QVERIFY2(model.message().find("key n_ctx: expected an integer") != std::string::npos,
                 model.message().c_str());
        write_file(dir + "/config.json", R"({"architectures": [{"a": 1}]})");
        model = load_model(dir);
        QVERIFY(!model.is_ok());
        QVERIFY2(model.message().find("key architectures[0]: expected a string, found an object") !=
                     std::string::npos,
                 model.message().c_str());
    }
};

QTEST_GUILESS_MAIN(HardeningTest)
#include "test_hardening.moc"
