// kvscope-cli end to end: it is what scripts and the benchmarks use, so its output and exit codes are
// tested like an API: generate reproduces the fixtures' greedy ids, trace writes valid JSON with the
// recorded rows, info describes the model, and bad input gives a clear error and a non-zero exit.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "support/fixtures.h"

using namespace kvscope::test;

namespace {

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

QString ids_csv(const std::vector<int32_t>& ids) {
    QStringList parts;
    for (int32_t id : ids)
        parts << QString::number(id);
    return parts.join(',');
}

}  // namespace

class CliTest : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
    }

    void generateReproducesTheReference_data() {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<bool>("uncached");
        for (const QString& name : model_fixture_names()) {
            QTest::newRow(qPrintable(name + "/cached")) << name << false;
            QTest::newRow(qPrintable(name + "/uncached")) << name << true;
        }
    }

    void generateReproducesTheReference() {
        QFETCH(QString, fixture);
        QFETCH(bool, uncached);
        const std::string dir = model_fixture_path(fixture);
        auto ref = load_reference(dir);
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        QStringList args{"generate",
                         QString::fromStdString(dir),
                         "--tokens",
                         ids_csv(ref->input_ids),
                         "--steps",
                         QString::number(ref->generated.size()),
                         "--print-ids",
                         "--threads",
                         "1"};
        if (uncached) args << "--uncached";
        const Run r = cli(args);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(r.out.trimmed(), ids_csv(ref->generated));
        QVERIFY2(r.err.contains(uncached ? "[uncached" : "[cached"), qPrintable(r.err));
    }

    void traceWritesTheSteps() {
        QTemporaryDir tmp;
        const QString json = tmp.filePath("trace.json");
        const Run r = cli({"trace", QString::fromStdString(model_fixture_path("tiny-llama-gqa")), "--tokens",
                           "1,2,3,4,5", "--steps", "3", "--json", json, "--threads", "1"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QFile f(json);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &error);
        QVERIFY2(!doc.isNull(), qPrintable(error.errorString()));
        const QJsonArray steps = doc.object()["steps"].toArray();
        QCOMPARE(steps.size(), 3);
        const QJsonObject prefill = steps[0].toObject();
        QCOMPARE(prefill["phase"].toString(), QString("prefill"));
        QCOMPARE(prefill["pos_end"].toInt(), 5);
        const QJsonArray att = prefill["attention"].toArray();
        QCOMPARE(att.size(), 2);  // layers
        QCOMPARE(att[0].toObject()["probs"].toArray().size(), 4 * 5 * 5);
        const QJsonObject decode = steps[2].toObject();
        QCOMPARE(decode["pos_begin"].toInt(), 6);
        QCOMPARE(decode["kv"].toArray()[0].toObject()["k"].toArray().size(),
                 2 * 1 * 16);  // KV heads x 1 row x hd
        QVERIFY(decode["counters"].toObject()["flops"].toDouble() > 0);
        QVERIFY(!QFile::exists(json + ".tmp"));
    }

    // roofline: the roofs, then prefill, cached and uncached decode as points (the prefill far to the right
    // of cached decode), and --paired: each round the roof's read measured again beside one more cached step.
    void rooflinePlacesTheSteps() {
        QTemporaryDir tmp;
        const QString json = tmp.filePath("roofline.json");
        const Run r = cli({"roofline", QString::fromStdString(model_fixture_path("tiny-llama-gqa")),
                           "--prompt", "16", "--decode-steps", "3", "--uncached-steps", "1", "--paired", "2",
                           "--threads", "1", "--json", json});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("paired     2 rounds"), qPrintable(r.out));
        QFile f(json);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject doc = QJsonDocument::fromJson(f.readAll()).object();
        QVERIFY(doc["bandwidth"].toDouble() > 0 && doc["peak_flops"].toDouble() > 0);
        const QJsonArray steps = doc["steps"].toArray();
        QCOMPARE(steps.size(), 3);
        QCOMPARE(steps[0].toObject()["step"].toString(), QString("prefill"));
        QCOMPARE(steps[0].toObject()["tokens"].toInt(), 16);
        QCOMPARE(steps[1].toObject()["step"].toString(), QString("cached decode"));
        QCOMPARE(steps[1].toObject()["tokens"].toInt(), 1);
        QCOMPARE(steps[2].toObject()["tokens"].toInt(), 16 + 1);  // uncached: its first step recomputes all
        QVERIFY(steps[0].toObject()["intensity"].toDouble() >
                5 * steps[1].toObject()["intensity"].toDouble());
        const QJsonArray paired = doc["paired"].toArray();
        QCOMPARE(paired.size(), 2);
        for (const QJsonValue& round : paired) {
            const QJsonObject o = round.toObject();
            QVERIFY(o["roof_bandwidth"].toDouble() > 0 && o["decode_bandwidth"].toDouble() > 0);
            QCOMPARE(o["of_roof"].toDouble(),
                     o["decode_bandwidth"].toDouble() / o["roof_bandwidth"].toDouble());
        }
    }

    void infoDescribesTheModel() {
        const Run r = cli({"info", QString::fromStdString(model_fixture_path("tiny-qwen2"))});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("qwen2"));
        QVERIFY(r.out.contains("4 query, 1 KV (multi-query attention"));
        QVERIFY(r.out.contains("KV per token  256 bytes"));  // 2 x 2 layers x 1 KV head x 16 dims x 4 bytes
    }

    void badInputFailsClearly_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        const QString gqa = QString::fromStdString(model_fixture_path("tiny-llama-gqa"));
        QTest::newRow("no such model") << QStringList{"info", "/nonexistent/model"} << "no such file";
        QTest::newRow("token outside vocabulary")
            << QStringList{"generate", gqa, "--tokens", "1,2,999"} << "outside the vocabulary";
        QTest::newRow("not a token list") << QStringList{"generate", gqa, "--tokens", "1,x"} << "item 1";
        QTest::newRow("prompt without tokenizer")
            << QStringList{"generate", gqa, "--prompt", "hello"} << "carries no tokenizer";
        QTest::newRow("bad top-p") << QStringList{"generate", gqa, "--tokens", "1", "--top-p", "2"}
                                   << "top-p";
        QTest::newRow("context too small for bench")
            << QStringList{"bench", gqa, "--contexts", "300", "--no-triad"} << "leaves no room";
        QTest::newRow("unwritable trace")
            << QStringList{"trace", gqa, "--tokens", "1", "--json", "/nonexistent/dir/t.json"}
            << "cannot open";
    }

    void badInputFailsClearly() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const Run r = cli(args);
        QVERIFY2(r.code != 0, qPrintable("expected a failure, got: " + r.out));
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(CliTest)
#include "test_cli.moc"
