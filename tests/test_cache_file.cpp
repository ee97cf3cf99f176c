// Saved caches: on every fixture, a run saved after its prompt and 5 decode steps and resumed in a fresh
// session gives the same next 32 greedy ids and the same logits (bit for bit) as the uninterrupted run; the
// file is exactly the K/V bytes plus the header and the token ids; a cache of another shape or other
// weights, a truncated, padded or corrupt file each get a message naming what differs; and the command
// line's --save-cache / --load-cache continue a generation exactly.
#include <zlib.h>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <fstream>

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
        for (const QString& name : model_fixture_names())
            QTest::newRow(qPrintable(name)) << name;
    }

    void resumeContinuesExactly() {
        QFETCH(QString, fixture);
        const std::string dir = model_fixture_path(fixture);
        auto ref = load_reference(dir);
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        std::string error;
        auto engine = make_cpu_engine(dir, error);
        QVERIFY2(engine, error.c_str());
        const int V = engine->config().vocab_size;

        auto first = make_session(engine, SessionMode::cached, TraceOptions::off());
        auto t = first->prefill(ref->input_ids);
        QVERIFY(t.is_ok());
        for (int i = 0; i < 5; ++i) {
            t = first->decode(t.value()->chosen);
            QVERIFY(t.is_ok());
        }
        const std::string file = path(qPrintable(fixture + ".kvcache"));
        QVERIFY(save_cache_file(*first, t.value()->chosen, file).is_ok());
        // Size: the fixed header, the token ids, and exactly the K/V bytes the cache holds.
        const uint64_t size = read_bytes(file).size();
        const uint64_t kv = first->cache()->bytes_resident();
        qInfo("%s: %d tokens, file %llu bytes = %llu header + %d x 4 token ids + %llu K/V",
              qPrintable(fixture), first->position(), (unsigned long long)size,
              (unsigned long long)kCacheFileHeaderBytes, first->position(), (unsigned long long)kv);
        QCOMPARE(size, kCacheFileHeaderBytes + 4ull * uint64_t(first->position()) + kv);

        auto resumed = make_session(engine, SessionMode::cached, TraceOptions::off());
        auto next = load_cache_file(*resumed, file);
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
        qInfo("%s: resumed vs uninterrupted over 32 steps: ids identical, max |dlogit| = %g",
              qPrintable(fixture), double(worst));
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
                                              << "element type 3 at offset 56 is not supported";
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
            set32(56, 3);
        else if (edit == "tokens")
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
