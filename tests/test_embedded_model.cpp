// The embedded model (assets/models/kvscope-shakespeare.gguf, trained by tools/train): it loads from where
// the app and kvscope-cli look for it, is the Llama with grouped-query attention the model card describes,
// carries a tokenizer that round-trips the corpus's first 10,000 characters exactly, and generates the
// same 256 greedy tokens from "ROMEO:" through the Cached and the Uncached session.
#include <QFile>
#include <QtTest>

#include "kvscope/default_model.h"
#include "kvscope/tokenizer.h"
#include "support/engine_helpers.h"
#include "support/fixtures.h"

using namespace kvscope;
using namespace kvscope::test;

class EmbeddedModelTest : public QObject {
    Q_OBJECT
    std::string m_path;
    std::shared_ptr<Engine> m_engine;

  private slots:
    void initTestCase() {
        m_path = find_default_model("");
        QVERIFY2(!m_path.empty(), "assets/models/kvscope-shakespeare.gguf is missing from the checkout");
        QVERIFY2(m_path.ends_with("assets/models/kvscope-shakespeare.gguf"), m_path.c_str());
        std::string error;
        m_engine = make_cpu_engine(m_path, error);
        QVERIFY2(m_engine, error.c_str());
    }

    void isTheModelOfTheCard() {
        const Model& m = m_engine->model();
        const ModelConfig& c = m.config;
        QCOMPARE(c.arch, Architecture::llama);
        QVERIFY(c.n_layers >= 4);
        QVERIFY(c.n_heads >= 4);
        QCOMPARE(c.n_kv_heads, 2);  // query heads share KV heads: the app shows the sharing
        QCOMPARE(c.context_length, 512);
        QVERIFY(c.vocab_size >= 512 && c.vocab_size <= 1024);
        QVERIFY2(m.tokenizer, "the GGUF carries its tokenizer");
        QFileInfo file(QString::fromStdString(m_path));
        QVERIFY2(file.size() <= 8 * 1024 * 1024, qPrintable(QString("%1 bytes").arg(file.size())));
    }

    void tokenizerRoundTripsTheCorpus() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
        QFile f(QString::fromStdString(fixtures_dir() + "/../corpora/tinyshakespeare.txt"));
        QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(f.fileName() + ": " + f.errorString()));
        const QByteArray head = f.read(10000);  // the corpus is ASCII: 10,000 bytes are 10,000 characters
        QCOMPARE(head.size(), 10000);
        const std::string text = head.toStdString();
        const Tokenizer& tok = *m_engine->model().tokenizer;
        auto ids = tok.encode(text, false);
        QVERIFY2(ids, ids.message().c_str());
        QVERIFY(ids->size() < text.size());  // merges were learned: fewer tokens than bytes
        const std::string back = tok.decode(ids.value());
        QCOMPARE(back.size(), text.size());
        QVERIFY2(back == text, "decode(encode(text)) differs from the text");
        // The same tokenizer read from the GGUF's header alone (kvscope-cli tokenize MODEL.gguf).
        auto alone = load_tokenizer(m_path);
        QVERIFY2(alone, alone.message().c_str());
        auto ids_alone = alone.value()->encode(text, false);
        QVERIFY2(ids_alone, ids_alone.message().c_str());
        QCOMPARE(ids_alone.value(), ids.value());
        qInfo("10,000 characters -> %zu tokens (%.2f characters per token)", ids->size(),
              10000.0 / double(ids->size()));
    }

    void greedyFromRomeoCachedEqualsUncached() {
        const Tokenizer& tok = *m_engine->model().tokenizer;
        auto prompt = tok.encode("ROMEO:", false);
        QVERIFY2(prompt, prompt.message().c_str());
        std::vector<int32_t> produced[2];
        const SessionMode modes[2] = {SessionMode::cached, SessionMode::uncached};
        for (int m = 0; m < 2; ++m) {
            auto s = make_session(m_engine, modes[m], TraceOptions::off());
            QVERIFY(s);
            auto step = s->prefill(prompt.value());
            for (int i = 0; i < 256; ++i) {
                QVERIFY2(step, step.message().c_str());
                produced[m].push_back(step.value()->chosen);
                if (i + 1 < 256) step = s->decode(produced[m].back());
            }
        }
        QCOMPARE(produced[0].size(), size_t(256));
        QCOMPARE(produced[0], produced[1]);
        std::string text = tok.decode(produced[0]);
        for (char& c : text)
            if (c == '\n') c = '|';  // one log line
        qInfo("greedy from \"ROMEO:\": %s", text.substr(0, 200).c_str());
    }
};

QTEST_GUILESS_MAIN(EmbeddedModelTest)
#include "test_embedded_model.moc"
