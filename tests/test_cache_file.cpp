// Saved caches: on every fixture, a run saved after its prompt and 5 decode steps and resumed in a fresh
// session gives the same next 32 greedy ids and the same logits (bit for bit) as the uninterrupted run; the
// file is exactly the K/V bytes plus the header and the token ids; a cache of another shape or other
// weights, a truncated, padded or corrupt file each get a message naming what differs; and the command
// line's --save-cache / --load-cache continue a generation exactly. The same holds for a cache variant that
// stores fewer bits (f16, bf16, int8, int4): its encoded rows are saved as stored, scales included, and a
// session of that variant resumes bit for bit.
#include <zlib.h>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <fstream>
#include <limits>

#include "kvscope/cache_file.h"
#include "support/engine_helpers.h"
#include "support/fixtures.h"

using namespace kvscope;
using namespace kvscope::test;

namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
// Recomputes the header's CRC after an edit, so that the check behind it is reached.
void fix_header_crc(std::vector<uint8_t>& b) {
    const uint32_t c = uint32_t(crc32_z(0, b.data(), 84));
    std::memcpy(b.data() + 84, &c, 4);
}
// Recomputes both CRCs after an edit of the tokens or K/V.
void fix_crcs(std::vector<uint8_t>& b) {
    const uint32_t c =
        uint32_t(crc32_z(0, b.data() + kCacheFileHeaderBytes, b.size() - kCacheFileHeaderBytes));
    std::memcpy(b.data() + 80, &c, 4);
    fix_header_crc(b);
}
std::unique_ptr<Session> variant_session(const std::shared_ptr<Engine>& engine, const std::string& spec) {
    SessionOptions o;
    o.mode = SessionMode::cached;
    o.trace = TraceOptions::off();
    auto p = parse_cache_variant(spec);
    if (!p) return nullptr;
    o.cache = p.value();
    auto s = Session::create(engine, o);
    return s ? std::move(s.value()) : nullptr;
}

}  // namespace

class CacheFileTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string path(const char* name) const { return (m_dir.path() + "/" + name).toStdString(); }

    // A saved cache of tiny-llama-gqa (prompt + 5 steps), and the engine that made it.
    std::shared_ptr<Engine> m_engine;
    std::string m_good;

    void expect_refused(const std::string& file, const std::string& needle) {
        auto s = make_session(m_engine, SessionMode::cached, TraceOptions::off());
        auto r = load_cache_file(*s, file);
        QVERIFY2(!r.is_ok(), ("loading " + file + " should have failed").c_str());
        QVERIFY2(r.message().find(needle) != std::string::npos,
                 ("error \"" + r.message() + "\" does not mention \"" + needle + "\"").c_str());
        QCOMPARE(s->position(), 0);  // nothing was half-loaded
        qInfo("%s", r.message().c_str());
    }

  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
        QVERIFY(m_dir.isValid());
        std::string error;
        m_engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(m_engine, error.c_str());
        auto ref = load_reference(model_fixture_path("tiny-llama-gqa"));
        QVERIFY(ref.is_ok());
        auto s = make_session(m_engine, SessionMode::cached, TraceOptions::off());
        auto t = s->prefill(ref->input_ids);
        QVERIFY(t.is_ok());
        m_good = path("good.kvcache");
        QVERIFY(save_cache_file(*s, t.value()->chosen, m_good).is_ok());
    }

    void resumeContinuesExactly_data() {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("variant");
        for (const QString& name : model_fixture_names())
            for (const char* variant : {"exact", "f16", "bf16", "int8", "int4", "int4:group=5"})
                QTest::newRow(qPrintable(name + " " + variant)) << name << QString(variant);
    }

    void resumeContinuesExactly() {
        QFETCH(QString, fixture);
        QFETCH(QString, variant);
        const std::string dir = model_fixture_path(fixture);
        auto ref = load_reference(dir);
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        std::string error;
        auto engine = make_cpu_engine(dir, error);
        QVERIFY2(engine, error.c_str());
        const int V = engine->config().vocab_size;

        auto first = variant_session(engine, variant.toStdString());
        QVERIFY(first);
        auto t = first->prefill(ref->input_ids);
        QVERIFY(t.is_ok());
        for (int i = 0; i < 5; ++i) {
            t = first->decode(t.value()->chosen);
            QVERIFY(t.is_ok());
        }
        const std::string file =
            path(qPrintable(fixture + "-" + QString(variant).replace(':', '_') + ".kvcache"));
        QVERIFY(save_cache_file(*first, t.value()->chosen, file).is_ok());
        // Size: the fixed header, the token ids, and exactly the K/V bytes the cache holds (scales included).
        const uint64_t size = read_bytes(file).size();
        const uint64_t kv = first->cache()->bytes_resident();
        qInfo("%s, %s: %d tokens, file %llu bytes = %llu header + %d x 4 token ids + %llu K/V",
              qPrintable(fixture), qPrintable(variant), first->position(), (unsigned long long)size,
              (unsigned long long)kCacheFileHeaderBytes, first->position(), (unsigned long long)kv);
        QCOMPARE(size, kCacheFileHeaderBytes + 4ull * uint64_t(first->position()) + kv);

        // The file names its element type; a session of that variant takes it.
        auto parsed = read_cache_file(file);
        QVERIFY2(parsed.is_ok(), parsed.message().c_str());
        QCOMPARE(parsed->storage.describe(), first->cache()->storage().describe());
        auto resumed = variant_session(engine, variant.toStdString());
        auto next = restore_cache_file(*resumed, parsed.value(), file);
        QVERIFY2(next.is_ok(), next.message().c_str());
        QCOMPARE(next.value(), t.value()->chosen);
        QCOMPARE(resumed->tokens(), first->tokens());

        // The uninterrupted run and the resumed one, 32 greedy steps each.
        int32_t a = t.value()->chosen, b = next.value();
        float worst = 0.0f;
        for (int i = 0; i < 32; ++i) {
            auto ta = first->decode(a);
            auto tb = resumed->decode(b);
            QVERIFY2(ta.is_ok() && tb.is_ok(), "decode failed");
            auto la = first->logits(), lb = resumed->logits();
            worst = std::max(worst,
                             max_abs_diff(la.data() + la.size() - V, lb.data() + lb.size() - V, size_t(V)));
            QCOMPARE(tb.value()->chosen, ta.value()->chosen);
            a = ta.value()->chosen;
            b = tb.value()->chosen;
        }
        qInfo("%s, %s: resumed vs uninterrupted over 32 steps: ids identical, max |dlogit| = %g",
              qPrintable(fixture), qPrintable(variant), double(worst));
        QVERIFY(worst <= 1e-6f);
    }

    void anotherModelIsRefused() {
        std::string error;
        auto qwen = make_cpu_engine(model_fixture_path("tiny-qwen2"), error);
        QVERIFY2(qwen, error.c_str());
        auto s = make_session(qwen, SessionMode::cached, TraceOptions::off());
        auto r = load_cache_file(*s, m_good);
        QVERIFY(!r.is_ok());
        qInfo("%s", r.message().c_str());
        QVERIFY(r.message().find("another model shape: n_kv_heads 2 in the file, 1 in this model") !=
                std::string::npos);

        auto gpt2 = make_cpu_engine(model_fixture_path("tiny-gpt2"), error);
        QVERIFY2(gpt2, error.c_str());
        auto s2 = make_session(gpt2, SessionMode::cached, TraceOptions::off());
        auto r2 = load_cache_file(*s2, m_good);
        QVERIFY(!r2.is_ok());
        QVERIFY2(r2.message().find("computed by a llama model, this model is gpt2") != std::string::npos,
                 r2.message().c_str());
    }

    // Same shapes, one weight changed: the weight CRC tells them apart.
    void otherWeightsAreRefused() {
        auto copy = std::make_shared<Model>(m_engine->model());
        Tensor& w = copy->layers[0].wo;
        auto values = std::shared_ptr<float>(new float[size_t(w.numel())], std::default_delete<float[]>());
        std::memcpy(values.get(), w.data(), size_t(w.numel()) * 4);
        values.get()[7] += 0.25f;
        w.storage = values;
        auto engine = Engine::create(copy, make_cpu_backend(1));
        QVERIFY2(engine.is_ok(), engine.message().c_str());
        auto s = make_session(engine.value(), SessionMode::cached, TraceOptions::off());
        auto r = load_cache_file(*s, m_good);
        QVERIFY(!r.is_ok());
        qInfo("%s", r.message().c_str());
        QVERIFY(r.message().find("other weights of the same shape") != std::string::npos);
    }

    void badFilesAreRefused_data() {
        QTest::addColumn<QString>("edit");
        QTest::addColumn<QString>("needle");
        QTest::newRow("missing") << "missing"
                                 << "cannot open";
        QTest::newRow("empty") << "empty"
                               << "shorter than the 88-byte header";
        QTest::newRow("not a cache") << "magic"
                                     << "not a KVScope cache file";
        QTest::newRow("truncated in the header") << "cut 40"
                                                 << "shorter than the 88-byte header";
        QTest::newRow("truncated in the tokens") << "cut 100"
                                                 << "truncated";
        QTest::newRow("truncated in the K/V") << "cut -1"
                                              << "truncated";
        QTest::newRow("trailing bytes") << "pad"
                                        << "unexpected bytes after the K/V data";
        QTest::newRow("corrupt header") << "flip 30"
                                        << "corrupt header";
        QTest::newRow("corrupt K/V") << "flip -9"
                                     << "corrupt tokens or K/V data";
        QTest::newRow("newer version") << "version"
                                       << "version 2 is not supported";
        QTest::newRow("unknown element type") << "element"
                                              << "element type 7 at offset 56 is not one of 0 f32";
        QTest::newRow("a group size for float32") << "group"
                                                  << "group size 32 at offset 52 for f32 values";
        QTest::newRow("a value that is not a number")
            << "nan"
            << "K of layer 0, head 1, token 2 holds a value that is "
               "not a finite number";
        QTest::newRow("tokens past the context") << "tokens"
                                                 << "n_tokens 100000 at offset 64 is outside";
        QTest::newRow("sizes disagree") << "kvbytes"
                                        << "do not match the shapes";
    }

    void badFilesAreRefused() {
        QFETCH(QString, edit);
        QFETCH(QString, needle);
        std::vector<uint8_t> b = read_bytes(m_good);
        QVERIFY(b.size() > 200);
        const std::string file = path("bad.kvcache");
        std::remove(file.c_str());
        auto set32 = [&](size_t at, uint32_t v) {
            std::memcpy(b.data() + at, &v, 4);
            fix_header_crc(b);
        };
        if (edit == "missing") {
            expect_refused(file, needle.toStdString());
            return;
        }
        if (edit == "empty")
            b.clear();
        else if (edit == "magic")
            b[0] = 'X';
        else if (edit.startsWith("cut ")) {
            const int at = edit.mid(4).toInt();
            b.resize(at >= 0 ? size_t(at) : b.size() + size_t(at));
        } else if (edit == "pad")
            b.push_back(0);
        else if (edit.startsWith("flip ")) {
            const int at = edit.mid(5).toInt();
            b[at >= 0 ? size_t(at) : b.size() + size_t(at)] ^= 0x40;
        } else if (edit == "version")
            set32(8, 2);
        else if (edit == "element")
            set32(56, 7);
        else if (edit == "group")
            set32(52, 32);
        else if (edit == "nan") {
            // Layer 0's K: [n_kv_heads][n_tokens][head_dim] float32 after the token ids.
            uint32_t n = 0, head_dim = 0;
            std::memcpy(&n, b.data() + 64, 4);
            std::memcpy(&head_dim, b.data() + 32, 4);
            const float nan = std::numeric_limits<float>::quiet_NaN();
            std::memcpy(b.data() + kCacheFileHeaderBytes + 4 * n + ((1 * n + 2) * head_dim + 3) * 4, &nan, 4);
            fix_crcs(b);
        } else if (edit == "tokens")
            set32(64, 100000);
        else if (edit == "kvbytes")
            set32(72, 12345);
        write_bytes(file, b);
        expect_refused(file, needle.toStdString());
    }

    // The reader against every single-byte change of the header, a byte change every 61 bytes of the data,
    // and every length the file could be cut to: each is refused with a message, none crashes or parses.
    void everyMutationIsRefused() {
        const std::vector<uint8_t> good = read_bytes(m_good);
        QVERIFY(parse_cache_file(good, "good").is_ok());
        int refused = 0;
        for (size_t at = 0; at < good.size(); at += at < kCacheFileHeaderBytes ? 1 : 61)
            for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
                std::vector<uint8_t> b = good;
                b[at] ^= mask;
                auto r = parse_cache_file(b, "mutated");
                QVERIFY2(!r.is_ok(), qPrintable(QString("a change at byte %1 was accepted").arg(at)));
                QVERIFY(!r.message().empty());
                ++refused;
            }
        for (size_t len = 0; len < good.size(); len += len < 200 ? 1 : 97) {
            auto r = parse_cache_file(std::span<const uint8_t>(good.data(), len), "cut");
            QVERIFY2(!r.is_ok(), qPrintable(QString("a file cut to %1 bytes was accepted").arg(len)));
            ++refused;
        }
        qInfo("%d mutated or cut files refused", refused);
    }

    // A cache stored in one element type goes only into a session that stores the same; a variant that
    // drops rows is not saved at all.
    void elementTypesMustMatch() {
        auto int4 = variant_session(m_engine, "int4");
        auto t = int4->prefill(std::vector<int32_t>{1, 15, 27, 99, 4});
        QVERIFY(t.is_ok());
        const std::string file = path("int4.kvcache");
        QVERIFY(save_cache_file(*int4, t.value()->chosen, file).is_ok());
        expect_refused(file,
                       "the cache holds int4 (groups of 32) rows; this session stores f32 (resume it "
                       "with the cache variant \"int4:group=32\")");
        auto int8 = variant_session(m_engine, "int8");
        auto r = load_cache_file(*int8, file);
        QVERIFY(!r.is_ok());
        QVERIFY2(r.message().find("this session stores int8 (groups of 32)") != std::string::npos,
                 r.message().c_str());
        auto exact_into_f16 = variant_session(m_engine, "f16");
        auto r2 = load_cache_file(*exact_into_f16, m_good);
        QVERIFY(!r2.is_ok());
        QVERIFY2(r2.message().find("the cache holds f32 rows; this session stores f16") != std::string::npos,
                 r2.message().c_str());

        auto window = variant_session(m_engine, "window:W=4");
        auto tw = window->prefill(std::vector<int32_t>{1, 15, 27, 99, 4, 8});
        QVERIFY(tw.is_ok());
        Status st = save_cache_file(*window, tw.value()->chosen, path("window.kvcache"));
        QVERIFY(!st.is_ok());
        QVERIFY2(st.message().find("which drops rows") != std::string::npos, st.message().c_str());
        auto into_window = variant_session(m_engine, "window:W=4");
        auto r3 = load_cache_file(*into_window, m_good);
        QVERIFY(!r3.is_ok());
        QVERIFY2(r3.message().find("which drops rows") != std::string::npos, r3.message().c_str());
    }

    void loadNeedsAnEmptyCachedSession() {
        auto s = make_session(m_engine, SessionMode::cached, TraceOptions::off());
        QVERIFY(s->prefill(std::vector<int32_t>{1, 2, 3}).is_ok());
        auto r = load_cache_file(*s, m_good);
        QVERIFY(!r.is_ok());
        QVERIFY2(r.message().find("already holds 3 tokens") != std::string::npos, r.message().c_str());
        auto u = make_session(m_engine, SessionMode::uncached, TraceOptions::off());
        QVERIFY(!save_cache_file(*u, 0, path("u.kvcache")).is_ok());
    }

    // kvscope-cli generate: 6 steps saved, then 10 more from the file, equal 16 steps in one run.
    void commandLineSaveAndResume() {
        const QString model = QString::fromStdString(model_fixture_path("tiny-llama-gqa"));
        const QString file = m_dir.path() + "/cli.kvcache";
        auto run = [](const QStringList& args) {
            QProcess p;
            p.start(QStringLiteral(KVSCOPE_CLI), args);
            p.waitForFinished(120000);
            return std::pair{p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()).trimmed() + "|" +
                                               QString::fromUtf8(p.readAllStandardError())};
        };
        auto whole = run({"generate", model, "--tokens", "1,15,27,99", "--steps", "16"});
        QCOMPARE(whole.first, 0);
        auto part1 = run({"generate", model, "--tokens", "1,15,27,99", "--steps", "6", "--save-cache", file});
        QCOMPARE(part1.first, 0);
        auto part2 = run({"generate", model, "--load-cache", file, "--steps", "10"});
        QVERIFY2(part2.first == 0, qPrintable(part2.second));
        const QString ids_whole = whole.second.section('|', 0, 0);
        const QString ids_joined = part1.second.section('|', 0, 0) + "," + part2.second.section('|', 0, 0);
        qInfo("whole: %s; saved + resumed: %s", qPrintable(ids_whole), qPrintable(ids_joined));
        QCOMPARE(ids_joined, ids_whole);
        // An int4 cache: saved with --variant, resumed without one (the file says how it is stored).
        const QString file4 = m_dir.path() + "/cli-int4.kvcache";
        auto whole4 =
            run({"generate", model, "--tokens", "1,15,27,99", "--steps", "16", "--variant", "int4"});
        QCOMPARE(whole4.first, 0);
        auto part41 = run({"generate", model, "--tokens", "1,15,27,99", "--steps", "6", "--variant", "int4",
                           "--save-cache", file4});
        QCOMPARE(part41.first, 0);
        auto part42 = run({"generate", model, "--load-cache", file4, "--steps", "10"});
        QVERIFY2(part42.first == 0, qPrintable(part42.second));
        QVERIFY2(part42.second.contains("restored (int4 (groups of 32))"), qPrintable(part42.second));
        QCOMPARE(part41.second.section('|', 0, 0) + "," + part42.second.section('|', 0, 0),
                 whole4.second.section('|', 0, 0));
        auto wrong = run({"generate", model, "--load-cache", file4, "--steps", "3", "--variant", "int8"});
        QVERIFY(wrong.first != 0);
        QVERIFY2(wrong.second.contains("the cache holds int4 (groups of 32) rows; this session stores int8"),
                 qPrintable(wrong.second));
        // Another model refuses the file, naming the difference.
        auto other = run({"generate", QString::fromStdString(model_fixture_path("tiny-qwen2")),
                          "--load-cache", file, "--steps", "3"});
        QVERIFY(other.first != 0);
        QVERIFY2(other.second.contains("n_kv_heads 2 in the file, 1 in this model"),
                 qPrintable(other.second));
    }
};

QTEST_GUILESS_MAIN(CacheFileTest)
#include "test_cache_file.moc"
