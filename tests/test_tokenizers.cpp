// Tokenizers: every case of the fixtures' cases.json (ids from Hugging Face tokenizers and sentencepiece)
// encodes to exactly those ids and decodes back, through every route each vocabulary loads by
// (gpt2: tokenizer.json, vocab.json + merges.txt; llama2: tokenizer.bin, tokenizer.model; both: rebuilt
// from data() as a GGUF reader rebuilds them); streaming decode never breaks a character; invalid UTF-8 is
// an error naming its offset; the corpus round-trips; BOS and special tokens; pre-tokenizer splits; and
// every kind of bad tokenizer file gets a clear error.
#include <QtTest>

#include <QTemporaryDir>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "kvscope/session.h"
#include "kvscope/tokenizer.h"
#include "support/engine_helpers.h"
#include "support/fixtures.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/utf8.h"

using namespace kvscope;
using namespace kvscope::test;
namespace fs = std::filesystem;
using nlohmann::json;

Q_DECLARE_METATYPE(std::vector<int32_t>)

namespace {

std::string tokenizers_dir() {
    return fixtures_dir() + "/tokenizers";
}

// The routes each fixture vocabulary loads by. "data:" rebuilds the tokenizer from another route's data(),
// which is what a GGUF reader does with the tokenizer.ggml.* keys a GGUF writer wrote from data().
struct Route {
    const char* family;  // "gpt2" / "llama2": which cases.json
    const char* name;
};
const Route kRoutes[] = {
    {"gpt2", "tokenizer.json"},
    {"gpt2", "vocab.json"},
    {"gpt2", "merges.txt"},
    {"gpt2", "data:tokenizer.json"},
    {"gpt2", "folder"},
    {"llama2", "tokenizer.bin"},
    {"llama2", "tokenizer.model"},
    {"llama2", "data:tokenizer.bin"},
    {"llama2", "folder"},
};

// Loads (once per run) the tokenizer a route names.
Result<std::shared_ptr<const Tokenizer>> route_tokenizer(const std::string& family,
                                                         const std::string& route) {
    static std::map<std::string, std::shared_ptr<const Tokenizer>> cache;
    const std::string key = family + "/" + route;
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    Result<std::shared_ptr<const Tokenizer>> tok = Status::error("unknown route " + key);
    if (route.starts_with("data:")) {
        auto base = route_tokenizer(family, route.substr(5));
        if (!base) return base.status();
        tok = make_tokenizer(base.value()->data());
    } else if (route == "folder") {
        tok = load_tokenizer(tokenizers_dir() + "/" + family);
    } else {
        tok = load_tokenizer(tokenizers_dir() + "/" + family + "/" + route);
    }
    if (tok) cache[key] = tok.value();
    return tok;
}

json load_cases(const std::string& family) {
    return json::parse(read_file(tokenizers_dir() + "/" + family + "/cases.json"));
}

std::vector<int32_t> ids_of(const json& j) {
    return j.get<std::vector<int32_t>>();
}

// The first `n` characters (not bytes) of a UTF-8 text.
std::string first_characters(const std::string& text, size_t n) {
    size_t at = 0;
    for (size_t count = 0; count < n && at < text.size(); ++count) {
        const Utf8Sequence seq = utf8_sequence_at(text, at);
        at += size_t(seq.length);
    }
    return text.substr(0, at);
}

std::string hex(std::string_view s) {
    std::string out;
    static const char* d = "0123456789abcdef";
    for (unsigned char c : s)
        (out += d[c >> 4]) += d[c & 15];
    return out;
}

#define REQUIRE_FIXTURES() \
    if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str())

// `result` is an error whose message contains `expected`.
#define QVERIFY_ERROR(result, expected)                                                               \
    do {                                                                                              \
        QVERIFY2(!(result).is_ok(), "expected an error, got a value");                                \
        QVERIFY2((result).message().find(expected) != std::string::npos, (result).message().c_str()); \
    } while (0)

#define LOAD_OR_FAIL(var, expr)                                     \
    auto var##_result = (expr);                                     \
    QVERIFY2(var##_result.is_ok(), var##_result.message().c_str()); \
    const std::shared_ptr<const Tokenizer> var = var##_result.value()

// A Hugging Face folder at `dir` with tiny-gpt2's weights (320 embedding rows) and, unless given, its config.
void make_tiny_gpt2_folder(const std::string& dir, const json& config = json()) {
    const std::string src = model_fixture_path("tiny-gpt2");
    fs::create_directories(dir);
    fs::create_symlink(src + "/model.safetensors", dir + "/model.safetensors");
    write_file(dir + "/config.json", config.is_null() ? read_file(src + "/config.json") : config.dump());
}

// A byte-level vocabulary of the 256 byte characters only, no merges: each byte is its own token, so ids
// show exactly how a text was split and normalized.
TokenizerData bytes_only_vocabulary() {
    TokenizerData d;
    d.kind = TokenizerData::Kind::byte_bpe;
    for (int b = 0; b < 256; ++b)
        d.tokens.push_back(ByteLevelAlphabet::get().byte_to_utf8[size_t(b)]);
    return d;
}

// The case and the route's tokenizer of the current row of a cases_data() table.
Result<std::shared_ptr<const Tokenizer>> current_case(json& c) {
    QFETCH(QString, family);
    QFETCH(QString, route);
    QFETCH(int, index);
    c = load_cases(family.toStdString())["cases"][size_t(index)];
    return route_tokenizer(family.toStdString(), route.toStdString());
}

}  // namespace

class TestTokenizers : public QObject {
    Q_OBJECT
  private slots:
    // --- every fixture case, through every route -----------------------------------------------------------
    void cases_data() {
        QTest::addColumn<QString>("family");
        QTest::addColumn<QString>("route");
        QTest::addColumn<int>("index");
        if (fixtures_dir().empty()) return;
        for (const Route& r : kRoutes) {
            const json cases = load_cases(r.family)["cases"];
            for (size_t i = 0; i < cases.size(); ++i) {
                std::string label = std::string(r.family) + " " + r.name + " #" + std::to_string(i) + " ";
                for (char ch : first_characters(cases[i]["text"].get<std::string>(), 24))
                    label += ch == '\n'   ? std::string("\\n")
                             : ch == '\t' ? std::string("\\t")
                                          : std::string(1, ch);
                QTest::newRow(label.c_str()) << r.family << r.name << int(i);
            }
        }
    }
    void cases() {
        REQUIRE_FIXTURES();
        json c;
        LOAD_OR_FAIL(tok, current_case(c));
        const std::string text = c["text"].get<std::string>();
        auto ids = tok->encode(text, false);
        QVERIFY2(ids.is_ok(), ids.message().c_str());
        QCOMPARE(ids.value(), ids_of(c["ids"]));
        QCOMPARE(QString::fromStdString(tok->decode(ids.value())),
                 QString::fromStdString(c["decoded"].get<std::string>()));
        if (c.contains("pieces")) {  // sentencepiece's own pieces: the vocabulary is spelled as in the model
            const auto pieces = c["pieces"].get<std::vector<std::string>>();
            for (size_t k = 0; k < pieces.size(); ++k)
                QCOMPARE(QString::fromStdString(tok->data().tokens[size_t(ids.value()[k])]),
                         QString::fromStdString(pieces[k]));
        }
    }

    // Streaming: every chunk is whole characters and the chunks add up to decode(), for every case.
    void streaming_data() { cases_data(); }
    void streaming() {
        REQUIRE_FIXTURES();
        json c;
        LOAD_OR_FAIL(tok, current_case(c));
        std::vector<int32_t> ids = ids_of(c["ids"]);
        if (tok->data().bos_id >= 0) ids.insert(ids.begin(), tok->data().bos_id);  // BOS prints nothing
        StreamingDecoder stream(*tok);
        std::string joined;
        for (int32_t id : ids) {
            const std::string chunk = stream.push(id);
            QVERIFY2(utf8_first_invalid(chunk) == std::string_view::npos,
                     ("broken character in chunk " + hex(chunk)).c_str());
            joined += chunk;
        }
        joined += stream.flush();
        QCOMPARE(QString::fromStdString(joined), QString::fromStdString(tok->decode(ids)));
        QCOMPARE(QString::fromStdString(joined), QString::fromStdString(c["decoded"].get<std::string>()));
    }

    // Bytes that never complete a character: streaming and decode() agree, one U+FFFD per maximal subpart.
    void streaming_invalid_bytes() {
        REQUIRE_FIXTURES();
        LOAD_OR_FAIL(tok, route_tokenizer("llama2", "tokenizer.bin"));
        const auto byte = [](int b) { return int32_t(3 + b); };  // <0x00> is id 3 in Llama 2
        const int32_t a = 29874;                                 // "a"
        struct Case {
            std::vector<int32_t> ids;
            std::string expected;
        };
        const Case cases[] = {
            {{byte(0xE2), byte(0x82), a},
             "\xEF\xBF\xBD"
             "a"},                                                   // E2 82 is one subpart
            {{byte(0xE2), byte(0x82), byte(0xAC)}, "\xE2\x82\xAC"},  // completes "€"
            {{byte(0xFF), a, byte(0xF0), byte(0x9F)},
             "\xEF\xBF\xBD"
             "a"
             "\xEF\xBF\xBD"},                                        // cut off at the end
            {{byte(0x80), byte(0x80)}, "\xEF\xBF\xBD\xEF\xBF\xBD"},  // lone continuation bytes
        };
        for (const Case& c : cases) {
            StreamingDecoder stream(*tok);
            std::string joined;
            for (int32_t id : c.ids) {
                const std::string chunk = stream.push(id);
                QVERIFY(utf8_first_invalid(chunk) == std::string_view::npos);
                joined += chunk;
            }
            joined += stream.flush();
            QCOMPARE(hex(joined), hex(c.expected));
            QCOMPARE(hex(tok->decode(c.ids)), hex(c.expected));
        }
    }

    // --- errors on bad prompts and bad ids
    // -------------------------------------------------------------------
    void invalid_utf8_names_the_offset_data() {
        QTest::addColumn<QString>("family");
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("expected");
        for (const char* family : {"gpt2", "llama2"}) {
            QTest::newRow((std::string(family) + " lone 0xFF").c_str()) << family
                                                                        << QByteArray(
                                                                               "ab\xFF"
                                                                               "cd")
                                                                        << "byte 0xFF at offset 2";
            QTest::newRow((std::string(family) + " continuation").c_str())
                << family << QByteArray("x\x80") << "byte 0x80 at offset 1";
            QTest::newRow((std::string(family) + " cut off").c_str())
                << family << QByteArray("caf\xC3") << "byte 0xC3 at offset 3";
            QTest::newRow((std::string(family) + " overlong").c_str())
                << family << QByteArray("\xC0\xAF") << "byte 0xC0 at offset 0";
            QTest::newRow((std::string(family) + " surrogate").c_str())
                << family << QByteArray("ok \xED\xA0\x80") << "offset 3";
        }
    }
    void invalid_utf8_names_the_offset() {
        REQUIRE_FIXTURES();
        QFETCH(QString, family);
        QFETCH(QByteArray, text);
        QFETCH(QString, expected);
        LOAD_OR_FAIL(tok, route_tokenizer(family.toStdString(),
                                          family == "gpt2" ? "tokenizer.json" : "tokenizer.bin"));
        auto ids = tok->encode(std::string_view(text.constData(), size_t(text.size())));
        QVERIFY_ERROR(ids, "not valid UTF-8");
        QVERIFY_ERROR(ids, expected.toStdString());
    }

    void unknown_ids_are_visible_not_fatal() {
        REQUIRE_FIXTURES();
        for (const Route& route : {Route{"gpt2", "tokenizer.json"}, Route{"llama2", "tokenizer.bin"}}) {
            LOAD_OR_FAIL(tok, route_tokenizer(route.family, route.name));
            const std::vector<int32_t> ids = {-1, tok->vocab_size(), 1 << 30};
            QCOMPARE(QString::fromStdString(tok->decode(ids)), QString::fromUtf8("\uFFFD\uFFFD\uFFFD"));
            StreamingDecoder stream(*tok);
            QCOMPARE(QString::fromStdString(stream.push(-5)), QString::fromUtf8("\uFFFD"));
        }
    }

    // --- the corpus round-trips ----------------------------------------------------------------------------
    void corpus_round_trip_data() {
        QTest::addColumn<QString>("family");
        QTest::addColumn<QString>("route");
        QTest::newRow("gpt2 tokenizer.json") << "gpt2"
                                             << "tokenizer.json";
        QTest::newRow("gpt2 vocab.json") << "gpt2"
                                         << "vocab.json";
        QTest::newRow("llama2 tokenizer.bin") << "llama2"
                                              << "tokenizer.bin";
    }
    void corpus_round_trip() {
        REQUIRE_FIXTURES();
        QFETCH(QString, family);
        QFETCH(QString, route);
        const std::string corpus = read_file(KVSCOPE_CORPUS);
        QVERIFY2(corpus.size() > 100000, "corpus missing: " KVSCOPE_CORPUS);
        const std::string text = first_characters(corpus, 10000);
        LOAD_OR_FAIL(tok, route_tokenizer(family.toStdString(), route.toStdString()));
        auto ids = tok->encode(text, true);
        QVERIFY2(ids.is_ok(), ids.message().c_str());
        QVERIFY(ids->size() > 1000 && ids->size() < text.size());  // merged, not one id per byte
        for (int32_t id : ids.value())
            QVERIFY(id >= 0 && id < tok->vocab_size());
        QVERIFY(tok->decode(ids.value()) == text);
    }

    // The whole corpus through GPT-2: nanoGPT's data/shakespeare/prepare.py (tiktoken's GPT-2 encoding)
    // reports 301,966 + 36,059 = 338,025 tokens for its 90%/10% split of this file, which splits at a
    // newline.
    void gpt2_whole_corpus_token_count() {
        REQUIRE_FIXTURES();
        const std::string corpus = read_file(KVSCOPE_CORPUS);
        QCOMPARE(corpus.size(), size_t(1115394));
        LOAD_OR_FAIL(tok, route_tokenizer("gpt2", "tokenizer.json"));
        const size_t split = size_t(double(corpus.size()) * 0.9);
        auto train = tok->encode(std::string_view(corpus).substr(0, split), false);
        auto val = tok->encode(std::string_view(corpus).substr(split), false);
        QVERIFY(train.is_ok() && val.is_ok());
        QCOMPARE(train->size(), size_t(301966));
        QCOMPARE(val->size(), size_t(36059));
    }

    // --- BOS, control and added tokens ---------------------------------------------------------------------
    void bos_handling() {
        REQUIRE_FIXTURES();
        LOAD_OR_FAIL(llama, route_tokenizer("llama2", "tokenizer.bin"));
        QCOMPARE(llama->data().bos_id, 1);
        QCOMPARE(llama->data().eos_id, 2);
        QCOMPARE(llama->data().unk_id, 0);
        QVERIFY(llama->data().add_bos);
        QCOMPARE(llama->encode("Hello world", true).value(), (std::vector<int32_t>{1, 15043, 3186}));
        QCOMPARE(llama->encode("Hello world", false).value(), (std::vector<int32_t>{15043, 3186}));
        QCOMPARE(llama->encode("", true).value(), (std::vector<int32_t>{1}));
        // Control tokens print nothing, and the dummy-prefix space is dropped after BOS as at the start.
        QCOMPARE(QString::fromStdString(llama->decode(std::vector<int32_t>{1, 15043, 3186, 2})),
                 QString("Hello world"));
        QCOMPARE(QString::fromStdString(llama->decode(std::vector<int32_t>{3186})), QString("world"));
        QCOMPARE(QString::fromStdString(llama->decode(std::vector<int32_t>{15043, 3186})),
                 QString("Hello world"));
        // Only the first piece loses its dummy-prefix space, even when it is a lone "▁" (sentencepiece).
        for (const char* text : {" x", "  x", " Hello", " \xF0\x9F\xA4\x96", "\n x"}) {
            auto ids = llama->encode(text, true);
            QVERIFY2(ids.is_ok(), ids.message().c_str());
            QCOMPARE(QString::fromStdString(llama->decode(ids.value())), QString::fromUtf8(text));
            StreamingDecoder stream(*llama);
            std::string joined;
            for (int32_t id : ids.value())
                joined += stream.push(id);
            QCOMPARE(QString::fromStdString(joined + stream.flush()), QString::fromUtf8(text));
        }
        QCOMPARE(llama->encode(" x", false).value(), (std::vector<int32_t>{29871, 921}));  // "▁" "▁x"
        // "<s>" written in a prompt is text to sentencepiece, not BOS.
        auto literal = llama->encode("<s>", false);
        QVERIFY(literal.is_ok() && !literal->empty());
        QVERIFY(std::find(literal->begin(), literal->end(), 1) == literal->end());
        QCOMPARE(QString::fromStdString(llama->decode(literal.value())), QString("<s>"));

        LOAD_OR_FAIL(gpt2, route_tokenizer("gpt2", "tokenizer.json"));
        QVERIFY(!gpt2->data().add_bos);
        QCOMPARE(gpt2->encode("Hello world", true).value(), (std::vector<int32_t>{15496, 995}));
    }

    void gpt2_endoftext_from_vocab_json() {
        REQUIRE_FIXTURES();
        // transformers' GPT2Tokenizer: <|endoftext|> is BOS, EOS and unk, and is matched whole in a text.
        LOAD_OR_FAIL(tok, route_tokenizer("gpt2", "vocab.json"));
        QCOMPARE(tok->data().eos_id, 50256);
        QCOMPARE(tok->data().bos_id, 50256);
        QVERIFY(tok->token_type(50256) == TokenType::control);
        QCOMPARE(tok->encode("Hello<|endoftext|> world", true).value(),
                 (std::vector<int32_t>{15496, 50256, 995}));
        QCOMPARE(QString::fromStdString(tok->decode(std::vector<int32_t>{15496, 50256, 995})),
                 QString("Hello world"));
        // The bare tokenizer.json of the fixture has no added tokens: there it is plain text, as in
        // tokenizers.
        LOAD_OR_FAIL(plain, route_tokenizer("gpt2", "tokenizer.json"));
        QVERIFY(plain->encode("<|endoftext|>", false)->size() > 1);
    }

    void added_tokens_from_tokenizer_json() {
        REQUIRE_FIXTURES();
        QTemporaryDir tmp;
        json j = json::parse(read_file(tokenizers_dir() + "/gpt2/tokenizer.json"));
        j["added_tokens"] = json::array({{{"id", 50256}, {"content", "<|endoftext|>"}, {"special", true}},
                                         {{"id", 50257}, {"content", "<think>"}, {"special", false}}});
        const std::string path = tmp.path().toStdString() + "/tokenizer.json";
        write_file(path, j.dump());
        LOAD_OR_FAIL(tok, load_tokenizer(path));
        QCOMPARE(tok->vocab_size(), 50258);
        QCOMPARE(tok->encode("a<|endoftext|>b<think>", false).value(),
                 (std::vector<int32_t>{64, 50256, 65, 50257}));
        // Control tokens print nothing; user-defined ones print themselves.
        QCOMPARE(QString::fromStdString(tok->decode(std::vector<int32_t>{64, 50256, 65, 50257})),
                 QString("ab<think>"));
        // Rebuilt from data() (the GGUF route), the added tokens keep their meaning.
        LOAD_OR_FAIL(again, make_tokenizer(tok->data()));
        QCOMPARE(again->encode("a<|endoftext|>b<think>", false).value(),
                 (std::vector<int32_t>{64, 50256, 65, 50257}));
    }

    // ByteLevel's add_prefix_space (RoBERTa-style): the text, and each stretch after an added token, gets a
    // leading space unless it has one.
    void byte_level_add_prefix_space() {
        REQUIRE_FIXTURES();
        QTemporaryDir tmp;
        json j = json::parse(read_file(tokenizers_dir() + "/gpt2/tokenizer.json"));
        j["pre_tokenizer"]["add_prefix_space"] = true;
        j["added_tokens"] = json::array({{{"id", 50256}, {"content", "<|endoftext|>"}, {"special", true}}});
        const std::string path = tmp.path().toStdString() + "/tokenizer.json";
        write_file(path, j.dump());
        LOAD_OR_FAIL(tok, load_tokenizer(path));
        QVERIFY(tok->data().add_space_prefix);
        QCOMPARE(tok->encode("Hello world", false).value(), (std::vector<int32_t>{18435, 995}));
        QCOMPARE(tok->encode(" Hello", false).value(), (std::vector<int32_t>{18435}));
        QCOMPARE(tok->encode("Hello<|endoftext|>world", false).value(),
                 (std::vector<int32_t>{18435, 50256, 995}));
        LOAD_OR_FAIL(again, make_tokenizer(tok->data()));
        QCOMPARE(again->encode("Hello world", false).value(), (std::vector<int32_t>{18435, 995}));
    }

    // tokenizer.json files of the Qwen2 and Llama 3 kinds (Split with the model's regex, then ByteLevel
    // without its own regex) are recognised by their regex and named as llama.cpp names them.
    void tokenizer_json_pre_tokenizer_kinds_data() {
        QTest::addColumn<QString>("regex");
        QTest::addColumn<bool>("ignore_merges");
        QTest::addColumn<QString>("pre");
        QTest::addColumn<QString>("text");
        QTest::addColumn<std::vector<int32_t>>("ids");
        const char* qwen2 =
            R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
        const char* llama3 =
            R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
        QTest::newRow("qwen2") << qwen2 << false << "qwen2"
                               << "x 12345" << std::vector<int32_t>{87, 220, 16, 17, 18, 19, 20};
        QTest::newRow("llama3") << llama3 << true << "llama-bpe"
                                << "12345" << std::vector<int32_t>{10163, 2231};
    }
    void tokenizer_json_pre_tokenizer_kinds() {
        REQUIRE_FIXTURES();
        QFETCH(QString, regex);
        QFETCH(bool, ignore_merges);
        QFETCH(QString, pre);
        QFETCH(QString, text);
        QFETCH(std::vector<int32_t>, ids);
        json j = json::parse(read_file(tokenizers_dir() + "/gpt2/tokenizer.json"));
        j["pre_tokenizer"] = json::parse(
            R"({"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": ""}, "behavior": "Isolated",
                "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]})");
        j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = regex.toStdString();
        j["model"]["ignore_merges"] = ignore_merges;
        QTemporaryDir tmp;
        const std::string path = tmp.path().toStdString() + "/tokenizer.json";
        write_file(path, j.dump());
        LOAD_OR_FAIL(tok, load_tokenizer(path));
        QCOMPARE(QString::fromStdString(tok->data().pre), pre);
        QCOMPARE(tok->encode(text.toStdString(), false).value(), ids);
        // A GGUF keeps only the name: ignore_merges must be what that name implies.
        j["model"]["ignore_merges"] = !ignore_merges;
        write_file(path, j.dump());
        auto mismatch = load_tokenizer(path);
        QVERIFY_ERROR(mismatch, "ignore_merges");
    }

    // --- pre-tokenizers ------------------------------------------------------------------------------------
    void pre_tokenizer_splits_data() {
        QTest::addColumn<QString>("pre");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("words");
        QTest::newRow("gpt-2 contractions") << "gpt-2"
                                            << "I'm  don't" << QStringList{"I", "'m", " ", " don", "'t"};
        QTest::newRow("gpt-2 numbers") << "gpt-2"
                                       << "a 12345!" << QStringList{"a", " 12345", "!"};
        QTest::newRow("gpt-2 trailing spaces") << "gpt-2"
                                               << "x  \n"
                                               << QStringList{"x", "  \n"};
        // Oniguruma's \s (HF's engine) is Unicode's White_Space: U+0085 is in it, U+180E (a format character
        // since Unicode 6.3) is not, though PCRE2's own \s counts it as a horizontal space.
        QTest::newRow("gpt-2 NEL is whitespace")
            << "gpt-2" << QString::fromUtf8("!\u0085\u0085b")
            << QStringList{"!", QString::fromUtf8("\u0085"), QString::fromUtf8("\u0085"), "b"};
        QTest::newRow("gpt-2 U+180E is not whitespace")
            << "gpt-2" << QString::fromUtf8("!\u180E\u180E b")
            << QStringList{QString::fromUtf8("!\u180E\u180E"), " b"};
        QTest::newRow("qwen2 digits alone") << "qwen2"
                                            << "x 12345" << QStringList{"x", " ", "1", "2", "3", "4", "5"};
        QTest::newRow("qwen2 case-insensitive 's") << "qwen2"
                                                   << "IT'S" << QStringList{"IT", "'S"};
        QTest::newRow("qwen2 newlines") << "qwen2"
                                        << "a\n\nb" << QStringList{"a", "\n\n", "b"};
        QTest::newRow("llama-bpe three digits") << "llama-bpe"
                                                << "12345" << QStringList{"123", "45"};
        QTest::newRow("llama-bpe letters absorb punctuation") << "llama-bpe"
                                                              << "(hello" << QStringList{"(hello"};
        QTest::newRow("smollm digits then gpt-2") << "smollm"
                                                  << "a 12" << QStringList{"a", " ", "1", "2"};
        QTest::newRow("gpt2 alias") << "gpt2"
                                    << "Hello world" << QStringList{"Hello", " world"};
    }
    void pre_tokenizer_splits() {
        QFETCH(QString, pre);
        QFETCH(QString, text);
        QFETCH(QStringList, words);
        const PreTokenizerSpec* spec = find_pre_tokenizer(pre.toStdString());
        QVERIFY(spec);
        auto splitter = RegexSplitter::compile(spec->regexes);
        QVERIFY2(splitter.is_ok(), splitter.message().c_str());
        const std::string utf8 = text.toStdString();
        std::vector<std::string_view> found;
        QVERIFY(splitter.value()->split(utf8, found).is_ok());
        QStringList got;
        for (auto w : found)
            got << QString::fromUtf8(w.data(), qsizetype(w.size()));
        QCOMPARE(got, words);
    }

    void data_names_the_pre_tokenizer_llama_cpp_knows() {
        TokenizerData d = bytes_only_vocabulary();
        d.pre = "gpt2";
        LOAD_OR_FAIL(tok, make_tokenizer(d));
        QCOMPARE(QString::fromStdString(tok->data().pre), QString("gpt-2"));  // GGUF's tokenizer.ggml.pre
        d.pre = "no-such-pre";
        auto bad = make_tokenizer(d);
        QVERIFY_ERROR(bad, "\"no-such-pre\" is not supported");
        QVERIFY_ERROR(bad, "qwen2");
    }

    void nfc_normalizer() {
        TokenizerData d = bytes_only_vocabulary();
        d.normalizer = "nfc";
        LOAD_OR_FAIL(tok, make_tokenizer(d));
        const auto composed = tok->encode("caf\xC3\xA9", false);     // é as one code point
        const auto decomposed = tok->encode("cafe\xCC\x81", false);  // e + combining acute
        QVERIFY(composed.is_ok() && decomposed.is_ok());
        QCOMPARE(decomposed.value(), composed.value());
        d.normalizer = "";
        LOAD_OR_FAIL(raw, make_tokenizer(d));
        QVERIFY(raw->encode("cafe\xCC\x81", false).value() != composed.value());
    }

    // --- bad files and bad descriptions
    // ---------------------------------------------------------------------
    void bad_files_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("tokenizer.json not JSON")
            << "tokenizer.json" << QByteArray("{\"model\": [") << "does not parse as JSON";
        QTest::newRow("tokenizer.json no model")
            << "tokenizer.json" << QByteArray("{\"version\": \"1.0\"}") << "has no \"model\" object";
        QTest::newRow("tokenizer.json unigram")
            << "tokenizer.json" << QByteArray(R"({"model": {"type": "Unigram", "vocab": []}})")
            << "model type \"Unigram\" is not supported";
        QTest::newRow("tokenizer.json vocab id not integer")
            << "tokenizer.json"
            << QByteArray(
                   R"({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}})")
            << "key model.vocab.a: expected an integer from 0 to 16777215, found the string \"x\"";
        QTest::newRow("tokenizer.json duplicate id")
            << "tokenizer.json"
            << QByteArray(
                   R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}})")
            << "id 0 is given to both";
        QTest::newRow("tokenizer.json merge of unknown token")
            << "tokenizer.json"
            << QByteArray(
                   R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a zz"]}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}})")
            << "merge 1 (\"a zz\") names \"zz\", which is not in the vocabulary";
        QTest::newRow("tokenizer.json merge result unknown")
            << "tokenizer.json"
            << QByteArray(
                   R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}, "pre_tokenizer": {"type": "ByteLevel"}})")
            << "makes \"ab\", which is not in the vocabulary";
        QTest::newRow("tokenizer.json unknown regex")
            << "tokenizer.json"
            << QByteArray(
                   R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\w+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]}})")
            << "are not those of a pre-tokenizer KVScope knows";
        QTest::newRow("tokenizer.json prefix space after digits")
            << "tokenizer.json"
            << QByteArray(
                   R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, {"type": "ByteLevel", "add_prefix_space": true}]}})")
            << "add_prefix_space after another splitting step is not supported";
        QTest::newRow("tokenizer.json sentencepiece-style")
            << "tokenizer.json"
            << QByteArray(
                   R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "byte_fallback": true}})")
            << "load tokenizer.model instead";
        QTest::newRow("tokenizer.json added token collides")
            << "tokenizer.json"
            << QByteArray(
                   R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "added_tokens": [{"id": 0, "content": "<x>", "special": true}], "pre_tokenizer": {"type": "ByteLevel"}})")
            << "added token 0 is \"<x>\" but the vocabulary has \"a\"";
        QTest::newRow("tokenizer.bin empty") << "tokenizer.bin" << QByteArray() << "too short";
        QTest::newRow("tokenizer.bin bad max length")
            << "tokenizer.bin" << QByteArray("\xFF\xFF\xFF\xFF", 4) << "max_token_length = -1";
        QTest::newRow("tokenizer.bin no tokens")
            << "tokenizer.bin" << QByteArray("\x04\0\0\0", 4) << "no tokens";
        QTest::newRow("tokenizer.model garbage")
            << "tokenizer.model" << QByteArray("\x0A\xFF\xFF\xFF\xFF\x0F", 6)
            << "truncated or malformed protobuf";
    }
    void bad_files() {
        QFETCH(QString, file);
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        QTemporaryDir tmp;
        const std::string path = tmp.path().toStdString() + "/" + file.toStdString();
        write_file(path, content.toStdString());
        auto tok = load_tokenizer(path);
        QVERIFY_ERROR(tok, expected.toStdString());
        QVERIFY2(tok.message().find(path) != std::string::npos,
                 ("error does not name the file: " + tok.message()).c_str());
    }

    void truncated_tokenizer_bin_data() {
        QTest::addColumn<int>("keep");
        QTest::addColumn<QString>("expected");
        QTest::newRow("inside a score")
            << 4 + 8 + 5 + 3 << "truncated: token 1 needs an 8-byte score and length";
        QTest::newRow("inside a piece")
            << 4 + 8 + 5 + 8 + 3 << "truncated: token 1 needs 5 bytes";  // "\n<s>\n"
        QTest::newRow("half the file") << 200000 << "truncated";
    }
    void truncated_tokenizer_bin() {
        REQUIRE_FIXTURES();
        QFETCH(int, keep);
        QFETCH(QString, expected);
        const std::string full = read_file(tokenizers_dir() + "/llama2/tokenizer.bin");
        QTemporaryDir tmp;
        std::string path = tmp.path().toStdString() + "/tokenizer.bin";
        // Cut 200000 bytes down to the middle of whatever token is there.
        std::string cut = full.substr(0, size_t(keep));
        if (keep == 200000) {
            size_t at = 4;
            while (at + 8 <= cut.size()) {
                int32_t len;
                std::memcpy(&len, full.data() + at + 4, 4);
                if (at + 8 + size_t(len) > cut.size()) break;
                at += 8 + size_t(len);
            }
            cut = full.substr(0, at + 6);
        }
        write_file(path, cut);
        auto tok = load_tokenizer(path);
        QVERIFY_ERROR(tok, expected.toStdString());
        QVERIFY_ERROR(tok, "offset");
    }

    void merges_txt_naming_unknown_tokens() {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        write_file(dir + "/vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
        write_file(dir + "/merges.txt", "#version: 0.2\na b\nab c\n");
        auto tok = load_tokenizer(dir + "/vocab.json");
        QVERIFY_ERROR(tok, "merge 1 (\"ab c\") names \"c\", which is not in the vocabulary");
        write_file(dir + "/merges.txt", "a b c\n");
        tok = load_tokenizer(dir + "/merges.txt");
        QVERIFY_ERROR(tok, "merges.txt: line 1 (\"a b c\") is not two tokens");
        fs::remove(dir + "/merges.txt");
        tok = load_tokenizer(dir + "/vocab.json");
        QVERIFY_ERROR(tok, "needs merges.txt beside it");
    }

    void bad_descriptions_data() {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("expected");
        QTest::newRow("empty") << 0 << "the vocabulary is empty";
        QTest::newRow("bos out of range") << 1 << "bos_id 300 is outside the vocabulary (256 tokens)";
        QTest::newRow("add_bos without bos") << 2 << "add_bos is set but the vocabulary has no BOS token";
        QTest::newRow("bad token type") << 3 << "has token type 9";
        QTest::newRow("types miscounted") << 4 << "3 token types for 256 tokens";
        QTest::newRow("sentencepiece without scores")
            << 5 << "needs one score per token: 0 scores for 256 tokens";
        QTest::newRow("merge without space")
            << 6 << "merge 0 (\"ab\") is not two tokens separated by a space";
        QTest::newRow("unknown normalizer") << 7 << "normalizer \"nfkc\" is not supported";
        QTest::newRow("byte type not <0xNN>") << 8 << "is typed as a byte but is not written <0xNN>";
    }
    void bad_descriptions() {
        QFETCH(int, which);
        QFETCH(QString, expected);
        TokenizerData d = bytes_only_vocabulary();
        switch (which) {
            case 0:
                d.tokens.clear();
                break;
            case 1:
                d.bos_id = 300;
                break;
            case 2:
                d.add_bos = true;
                break;
            case 3:
                d.token_types.assign(256, 1), d.token_types[7] = 9;
                break;
            case 4:
                d.token_types = {1, 1, 1};
                break;
            case 5:
                d.kind = TokenizerData::Kind::sentencepiece_bpe;
                break;
            case 6:
                d.merges = {"ab"};
                break;
            case 7:
                d.normalizer = "nfkc";
                break;
            case 8:
                d.kind = TokenizerData::Kind::sentencepiece_bpe;
                d.scores.assign(256, 0.0f);
                d.token_types.assign(256, 1), d.token_types[65] = 6;
                break;
        }
        auto tok = make_tokenizer(d);
        QVERIFY_ERROR(tok, expected.toStdString());
    }

    // A byte with no token and no unknown token is an error naming the offset, never a silently dropped byte.
    void missing_byte_token() {
        TokenizerData d = bytes_only_vocabulary();
        d.tokens[size_t('z')] = "[not z]";
        LOAD_OR_FAIL(tok, make_tokenizer(d));
        auto ids = tok->encode("abz", false);
        QVERIFY_ERROR(ids, "byte 0x7A at offset 2 has no token");
    }

    // --- Hugging Face folders: the tokenizer comes with the model
    // ---------------------------------------------
    void hf_folder_attaches_its_tokenizer() {
        REQUIRE_FIXTURES();
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString() + "/gpt2-with-tokenizer";
        // tiny-gpt2's weights (320 embedding rows) with the first 319 GPT-2 tokens (the 256 byte characters
        // and the pieces of GPT-2's first 63 merges) and <|endoftext|> as token 319.
        json config = json::parse(read_file(model_fixture_path("tiny-gpt2") + "/config.json"));
        config["bos_token_id"] = 319;
        config["eos_token_id"] = 319;
        make_tiny_gpt2_folder(dir, config);
        json full = json::parse(read_file(tokenizers_dir() + "/gpt2/tokenizer.json"));
        json vocab = json::object();
        for (auto it = full["model"]["vocab"].begin(); it != full["model"]["vocab"].end(); ++it)
            if (it.value().get<int>() < 319) vocab[it.key()] = it.value();
        full["model"]["vocab"] = vocab;
        full["model"]["merges"] =
            json(std::vector<json>(full["model"]["merges"].begin(), full["model"]["merges"].begin() + 63));
        full["added_tokens"] = json::array({{{"id", 319}, {"content", "<|endoftext|>"}, {"special", true}}});
        write_file(dir + "/tokenizer.json", full.dump());
        write_file(dir + "/tokenizer_config.json",
                   R"({"eos_token": "<|endoftext|>", "bos_token": "<|endoftext|>", "add_bos_token": false})");

        std::string error;
        auto engine = make_cpu_engine(dir, error);
        QVERIFY2(engine, error.c_str());
        auto model = load_model(dir);
        QVERIFY2(model.is_ok(), model.message().c_str());
        const std::shared_ptr<const Tokenizer> tok = model.value()->tokenizer;
        QVERIFY2(tok, "the folder's tokenizer.json was not attached");
        QCOMPARE(tok->vocab_size(), 320);
        QCOMPARE(tok->data().eos_id, 319);
        QVERIFY(!tok->data().add_bos);
        QVERIFY(QString::fromStdString(tok->describe()).contains("gpt-2"));

        const std::string prompt = "The KV cache stores keys and values. The end";
        auto ids = tok->encode(prompt, true);
        QVERIFY2(ids.is_ok(), ids.message().c_str());
        QCOMPARE(tok->decode(ids.value()), prompt);
        for (int32_t id : ids.value())
            QVERIFY(id < 320);

        // Generate a few tokens greedily and stream them: the streamed text is decode() of what was
        // generated.
        auto session = make_session(engine, SessionMode::cached);
        QVERIFY(session);
        auto step = session->prefill(ids.value());
        StreamingDecoder stream(*tok);
        std::string streamed;
        std::vector<int32_t> generated;
        for (int i = 0; i < 8; ++i) {
            QVERIFY2(step.is_ok(), step.message().c_str());
            const int32_t next = step.value()->chosen;
            generated.push_back(next);
            const std::string chunk = stream.push(next);
            QVERIFY(utf8_first_invalid(chunk) == std::string_view::npos);
            streamed += chunk;
            step = session->decode(next);
        }
        streamed += stream.flush();
        QCOMPARE(QString::fromStdString(streamed), QString::fromStdString(tok->decode(generated)));
    }

    void hf_folder_special_tokens() {
        REQUIRE_FIXTURES();
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        fs::create_symlink(tokenizers_dir() + "/gpt2/vocab.json", dir + "/vocab.json");
        fs::create_symlink(tokenizers_dir() + "/gpt2/merges.txt", dir + "/merges.txt");
        write_file(
            dir + "/tokenizer_config.json",
            R"({"bos_token": {"content": "<|endoftext|>"}, "eos_token": "<|endoftext|>", "pad_token": null,
                       "add_bos_token": true,
                       "added_tokens_decoder": {"50257": {"content": "<|im_start|>", "special": true}}})");
        LOAD_OR_FAIL(tok, load_tokenizer(dir));
        QCOMPARE(tok->vocab_size(), 50258);
        QCOMPARE(tok->data().bos_id, 50256);
        QCOMPARE(tok->data().pad_id, -1);
        QCOMPARE(tok->encode("<|im_start|>Hello", true).value(), (std::vector<int32_t>{50256, 50257, 15496}));

        write_file(dir + "/tokenizer_config.json", R"({"eos_token": "<|nope|>"})");
        auto bad = load_tokenizer(dir);
        QVERIFY_ERROR(bad,
                      "tokenizer_config.json: eos_token \"<|nope|>\" is not in the tokenizer's vocabulary");
    }

    void hf_folder_tokenizer_larger_than_model() {
        REQUIRE_FIXTURES();
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        make_tiny_gpt2_folder(dir);
        fs::create_symlink(tokenizers_dir() + "/gpt2/vocab.json", dir + "/vocab.json");
        fs::create_symlink(tokenizers_dir() + "/gpt2/merges.txt", dir + "/merges.txt");
        auto model = load_model(dir);
        QVERIFY_ERROR(model, "the tokenizer has 50257 tokens but the model's embedding has only 320 rows");
    }

    void fixture_folders_without_tokenizer_still_load() {
        REQUIRE_FIXTURES();
        for (const QString& name : model_fixture_names()) {
            auto model = load_model(model_fixture_path(name));
            QVERIFY2(model.is_ok(), model.message().c_str());
            QVERIFY(!model.value()->tokenizer);
        }
    }
};

QTEST_APPLESS_MAIN(TestTokenizers)
#include "test_tokenizers.moc"
