// test_export_counters — the counters CSV and JSON of real runs (a fixture model, cached and uncached)
// read back and compared with the StepTraces' counters number for number: a spreadsheet chart made from
// the CSV shows exactly what the engine counted.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <charconv>

#include "export/exporter.h"
#include "support/engine_helpers.h"
#include "support/fixtures.h"

using namespace kvscope;
using namespace kvscope::app;

namespace {

// Runs the prompt and `decodes` greedy steps; every step's trace.
CountersRun runSteps(const std::shared_ptr<Engine>& engine, SessionMode mode, int decodes) {
    CountersRun run;
    run.mode = mode;
    auto session = test::make_session(engine, mode, TraceOptions::off());
    if (!session) return run;
    const std::vector<int32_t> prompt{1, 15, 27, 99};
    auto step = session->prefill(prompt);
    for (int i = 0; step && i <= decodes; ++i) {
        run.steps.push_back(step.value());
        if (i < decodes) step = session->decode(step.value()->chosen);
    }
    return run;
}

// Exports the runs as `format` into `dir` and returns the file's bytes (empty, with a failure, on error).
QByteArray exportedBytes(const std::vector<CountersRun>& runs, ExportFormat format,
                         const QTemporaryDir& dir) {
    ExportRequest r;
    r.format = format;
    r.outPath = dir.filePath(QStringLiteral("counters.") + formatSuffix(format));
    const ExportResult result = exportCounters(runs, r);
    if (!result.ok()) {
        QTest::qFail(qPrintable(result.error), __FILE__, __LINE__);
        return {};
    }
    QFile file(r.outPath);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

uint64_t u64(const QString& text) {
    uint64_t v = 0;
    const QByteArray b = text.toLatin1();
    const auto r = std::from_chars(b.constData(), b.constData() + b.size(), v);
    return r.ec == std::errc() && r.ptr == b.constData() + b.size() ? v : ~uint64_t(0);
}

double f64(const QString& text) {
    double v = 0;
    const QByteArray b = text.toLatin1();
    const auto r = std::from_chars(b.constData(), b.constData() + b.size(), v);
    return r.ec == std::errc() && r.ptr == b.constData() + b.size() ? v : -1.0;
}

}  // namespace

class TestExportCounters : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void csvEqualsTraceCounters();
    void jsonEqualsTraceCounters();
    void refusesEmptyRuns();

  private:
    std::vector<CountersRun> m_runs;
};

void TestExportCounters::initTestCase() {
    if (test::fixtures_dir().empty()) QFAIL(test::fixtures_missing_message().c_str());
    std::string error;
    auto engine = test::make_cpu_engine(test::model_fixture_path(QStringLiteral("tiny-llama-gqa")), error);
    QVERIFY2(engine, error.c_str());
    m_runs = {runSteps(engine, SessionMode::cached, 4), runSteps(engine, SessionMode::uncached, 4)};
    QCOMPARE(int(m_runs[0].steps.size()), 5);
    QCOMPARE(int(m_runs[1].steps.size()), 5);
}

void TestExportCounters::csvEqualsTraceCounters() {
    QTemporaryDir dir;
    const QByteArray csv = exportedBytes(m_runs, ExportFormat::csv, dir);
    QVERIFY(!csv.isEmpty());
    const QStringList lines = QString::fromUtf8(csv).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    const QStringList header = lines[0].split(QLatin1Char(','));
    QCOMPARE(header.size(), 17);
    QCOMPARE(lines.size(), 1 + 2 * 5 * (kOpClassCount + 1));
    auto column = [&](const char* name) { return int(header.indexOf(QLatin1String(name))); };

    int line = 1;
    for (const CountersRun& run : m_runs)
        for (const StepTracePtr& step : run.steps) {
            const Counters& c = step->counters;
            for (int op = 0; op <= kOpClassCount; ++op, ++line) {
                const QStringList f = lines[line].split(QLatin1Char(','));
                QCOMPARE(f.size(), 17);
                const bool total = op == kOpClassCount;
                const OpCounters o = total ? c.total() : c.by_op[size_t(op)];
                const QString where = QStringLiteral("line %1").arg(line + 1);
                QCOMPARE(f[column("mode")], QString::fromLatin1(session_mode_name(run.mode)));
                QCOMPARE(u64(f[column("step")]), uint64_t(step->step));
                QCOMPARE(f[column("phase")], QString::fromLatin1(phase_name(step->phase)));
                QCOMPARE(u64(f[column("pos_begin")]), uint64_t(step->pos_begin));
                QCOMPARE(u64(f[column("pos_end")]), uint64_t(step->pos_end));
                QCOMPARE(f[column("op_class")],
                         total ? QStringLiteral("total") : QString::fromLatin1(op_class_name(OpClass(op))));
                QVERIFY2(u64(f[column("flops")]) == o.flops, qPrintable(where));
                QVERIFY2(u64(f[column("weight_bytes")]) == o.weight_bytes, qPrintable(where));
                QVERIFY2(u64(f[column("kv_read")]) == o.kv_read, qPrintable(where));
                QVERIFY2(u64(f[column("kv_written")]) == o.kv_written, qPrintable(where));
                QVERIFY2(f64(f[column("seconds")]) == o.seconds,
                         qPrintable(where));  // exact: round-trip text
                QVERIFY2(u64(f[column("calls")]) == o.calls, qPrintable(where));
                QVERIFY2(u64(f[column("tokens_processed")]) == c.tokens_processed, qPrintable(where));
                QVERIFY2(u64(f[column("tokens_recomputed")]) == c.tokens_recomputed, qPrintable(where));
                QVERIFY2(u64(f[column("kv_bytes_resident")]) == c.kv_bytes_resident, qPrintable(where));
                QVERIFY2(u64(f[column("kv_bytes_peak")]) == c.kv_bytes_peak, qPrintable(where));
                QVERIFY2(f64(f[column("wall_seconds")]) == c.wall_seconds, qPrintable(where));
            }
        }
    // The runs differ where they should: the uncached decode steps recompute the whole sequence.
    QVERIFY(m_runs[1].steps[4]->counters.flops() > m_runs[0].steps[4]->counters.flops());
}

void TestExportCounters::jsonEqualsTraceCounters() {
    QTemporaryDir dir;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(exportedBytes(m_runs, ExportFormat::json, dir), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    QCOMPARE(doc[QStringLiteral("format")].toString(), QStringLiteral("kvscope-counters"));
    QCOMPARE(doc[QStringLiteral("version")].toInt(), 1);
    const QJsonArray runs = doc[QStringLiteral("runs")].toArray();
    QCOMPARE(runs.size(), 2);
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(runs[i][QStringLiteral("mode")].toString(),
                 QString::fromLatin1(session_mode_name(m_runs[size_t(i)].mode)));
        const QJsonArray steps = runs[i][QStringLiteral("steps")].toArray();
        QCOMPARE(steps.size(), 5);
        for (int s = 0; s < 5; ++s) {
            const StepTrace& t = *m_runs[size_t(i)].steps[size_t(s)];
            const QJsonValue js = steps[s];
            QCOMPARE(js[QStringLiteral("step")].toInteger(), qint64(t.step));
            QCOMPARE(js[QStringLiteral("chosen")].toInt(), t.chosen);
            // Counts here are far below 2^53, so QJsonDocument's doubles hold them exactly.
            for (const char* key : {"counters", "cumulative"}) {
                const Counters& c = std::string(key) == "counters" ? t.counters : t.cumulative;
                const QJsonValue jc = js[QLatin1String(key)];
                QCOMPARE(uint64_t(jc[QStringLiteral("flops")].toDouble()), c.flops());
                QCOMPARE(uint64_t(jc[QStringLiteral("kv_bytes_resident")].toDouble()), c.kv_bytes_resident);
                QCOMPARE(jc[QStringLiteral("wall_seconds")].toDouble(), c.wall_seconds);
                for (int op = 0; op < kOpClassCount; ++op) {
                    const QJsonValue jo =
                        jc[QStringLiteral("by_op")][QLatin1String(op_class_name(OpClass(op)))];
                    QCOMPARE(uint64_t(jo[QStringLiteral("flops")].toDouble()), c.by_op[size_t(op)].flops);
                    QCOMPARE(uint64_t(jo[QStringLiteral("kv_read")].toDouble()), c.by_op[size_t(op)].kv_read);
                    QCOMPARE(jo[QStringLiteral("seconds")].toDouble(), c.by_op[size_t(op)].seconds);
                }
            }
        }
    }
}

void TestExportCounters::refusesEmptyRuns() {
    QTemporaryDir dir;
    ExportRequest r;
    r.format = ExportFormat::csv;
    r.outPath = dir.filePath(QStringLiteral("empty.csv"));
    QCOMPARE(exportCounters({}, r).error, QStringLiteral("nothing to export: no steps have been run"));
    r.format = ExportFormat::mp4;
    QCOMPARE(exportCounters(m_runs, r).error, QStringLiteral("counters cannot be exported as mp4"));
    QVERIFY(QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot).isEmpty());
}

QTEST_GUILESS_MAIN(TestExportCounters)
#include "test_export_counters.moc"
