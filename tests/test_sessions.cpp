// Sessions: the cached and the uncached run agree at every step up to the model's full context; stepping
// back with truncate() and stepping again reproduces the original run; bad requests get clear errors.
#include <QtTest>

#include "support/engine_helpers.h"
#include "support/fixtures.h"

using namespace kvscope;
using namespace kvscope::test;

namespace {
std::span<const float> last_row(const Session& s, int vocab) {
    auto l = s.logits();
    return l.subspan(l.size() - size_t(vocab));
}
}  // namespace

class SessionsTest : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        if (fixtures_dir().empty()) QFAIL(fixtures_missing_message().c_str());
    }

    void cachedEqualsUncachedToFullContext_data() {
        QTest::addColumn<QString>("fixture");
        for (const QString& name : model_fixture_names())
            QTest::newRow(qPrintable(name)) << name;
    }

    void cachedEqualsUncachedToFullContext() {
        QFETCH(QString, fixture);
        const std::string dir = model_fixture_path(fixture);
        auto ref = load_reference(dir);
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        std::string error;
        auto engine = make_cpu_engine(dir, error);
        QVERIFY2(engine, error.c_str());
        const int V = engine->config().vocab_size, context = engine->config().context_length;
        auto cached = make_session(engine, SessionMode::cached, TraceOptions::off());
        auto uncached = make_session(engine, SessionMode::uncached, TraceOptions::off());
        QVERIFY(cached && uncached);

        auto a = cached->prefill(ref->input_ids);
        auto b = uncached->prefill(ref->input_ids);
        QVERIFY(a.is_ok() && b.is_ok());
        float worst = 0.0f;
        int steps = 0;
        while (true) {
            worst = std::max(
                worst, max_abs_diff(last_row(*cached, V).data(), last_row(*uncached, V).data(), size_t(V)));
            QCOMPARE(a.value()->chosen, b.value()->chosen);
            if (cached->position() == context) break;
            const int32_t next = a.value()->chosen;
            a = cached->decode(next);
            b = uncached->decode(next);
            QVERIFY2(a.is_ok(), a.message().c_str());
            QVERIFY2(b.is_ok(), b.message().c_str());
            ++steps;
        }
        qInfo("%s: %d decode steps to the full context of %d; cached vs uncached logits max |diff| = %.3g",
              qPrintable(fixture), steps, context, double(worst));
        QCOMPARE(steps, context - int(ref->input_ids.size()));
        QVERIFY2(worst <= 1e-4f, qPrintable(QString("cached and uncached logits differ by %1").arg(worst)));
        // One more token does not fit: a clear error, and the cache is not overrun.
        auto past = cached->decode(0);
        QVERIFY(!past.is_ok());
        QVERIFY2(past.message().find("context of " + std::to_string(context)) != std::string::npos,
                 past.message().c_str());
        QCOMPARE(cached->position(), context);
    }

    void truncateThenDecodeReproducesLogits_data() {
        QTest::addColumn<int>("mode");
        QTest::newRow("cached") << int(SessionMode::cached);
        QTest::newRow("uncached") << int(SessionMode::uncached);
    }

    void truncateThenDecodeReproducesLogits() {
        QFETCH(int, mode);
        const std::string dir = model_fixture_path("tiny-llama-gqa");
        auto ref = load_reference(dir);
        QVERIFY2(ref.is_ok(), ref.message().c_str());
        std::string error;
        auto engine = make_cpu_engine(dir, error);
        QVERIFY2(engine, error.c_str());
        const int V = engine->config().vocab_size;
        SessionOptions o;
        o.mode = SessionMode(mode);
        o.sampler = {0.9f, 40, 0.95f, 7};  // sampled, so the test also covers the sampler's determinism
        auto s = Session::create(engine, o);
        QVERIFY(s.is_ok());
        Session& session = *s.value();

        auto step = session.prefill(ref->input_ids);
        QVERIFY(step.is_ok());
        std::vector<std::vector<float>> logits;  // after each step, the last row
        std::vector<int32_t> fed, chosen;
        logits.emplace_back(last_row(session, V).begin(), last_row(session, V).end());
        chosen.push_back(step.value()->chosen);
        for (int i = 0; i < 30; ++i) {
            fed.push_back(chosen.back());
            step = session.decode(fed.back());
            QVERIFY(step.is_ok());
            logits.emplace_back(last_row(session, V).begin(), last_row(session, V).end());
            chosen.push_back(step.value()->chosen);
        }
        const Counters before = session.cumulative();

        // Step back to the position of decode step 10 and take it again: bit-identical logits and the same
        // sampled tokens from there on.
        const int T = int(ref->input_ids.size());
        const int back_to = T + 9;  // decode step 10 ran at position T + 9
        QVERIFY(session.truncate(back_to).is_ok());
        QCOMPARE(session.position(), back_to);
        QCOMPARE(session.steps_taken(), int64_t(10));
        for (int i = 9; i < 30; ++i) {
            step = session.decode(fed[size_t(i)]);
            QVERIFY(step.is_ok());
            QCOMPARE(step.value()->step, int64_t(i + 1));
            auto row = last_row(session, V);
            QVERIFY2(std::equal(row.begin(), row.end(), logits[size_t(i + 1)].begin()),
                     qPrintable(QString("logits at step %1 differ after truncate").arg(i + 1)));
            QCOMPARE(step.value()->chosen, chosen[size_t(i + 1)]);
        }
        const Counters after = session.cumulative();
        QCOMPARE(after.flops(), before.flops());
        QCOMPARE(after.kv_bytes_resident, before.kv_bytes_resident);

        // Into the prompt: position 10 of the prompt, fed its prompt token, gives the prefill's row 10
        // (computed as a matrix product there and a matrix-vector product here: equal to float rounding).
        QVERIFY(session.truncate(10).is_ok());
        step = session.decode(ref->input_ids[10]);
        QVERIFY(step.is_ok());
        const float d =
            max_abs_diff(last_row(session, V).data(), ref->logits.values.data() + size_t(10) * V, size_t(V));
        QVERIFY2(d <= 1e-4f, qPrintable(QString("row 10 differs from the reference by %1").arg(d)));

        QVERIFY(!session.truncate(session.position() + 1).is_ok());
    }

    void badRequestsGetClearErrors() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-gpt2"), error);
        QVERIFY2(engine, error.c_str());
        const int V = engine->config().vocab_size, context = engine->config().context_length;
        auto s = make_session(engine, SessionMode::cached, TraceOptions::off());
        QVERIFY(s);

        auto r = s->decode(1);
        QVERIFY(!r.is_ok());
        QVERIFY2(r.message().find("before prefill") != std::string::npos, r.message().c_str());

        r = s->prefill(std::vector<int32_t>{});
        QVERIFY(!r.is_ok());
        QVERIFY2(r.message().find("empty") != std::string::npos, r.message().c_str());

        r = s->prefill(std::vector<int32_t>{1, 2, V});
        QVERIFY(!r.is_ok());
        QVERIFY2(r.message().find("token id " + std::to_string(V) +
                                  " at index 2 is outside the vocabulary") != std::string::npos,
                 r.message().c_str());
        r = s->prefill(std::vector<int32_t>{-1});
        QVERIFY(!r.is_ok());

        std::vector<int32_t> too_long(size_t(context + 1), 5);
        r = s->prefill(too_long);
        QVERIFY(!r.is_ok());
        QVERIFY2(
            r.message().find("past the model's context of " + std::to_string(context)) != std::string::npos,
            r.message().c_str());
        QCOMPARE(s->position(), 0);

        QVERIFY(s->prefill(std::vector<int32_t>{1, 2, 3}).is_ok());
        r = s->prefill(std::vector<int32_t>{1});
        QVERIFY(!r.is_ok());
        r = s->decode(V + 5);
        QVERIFY(!r.is_ok());
        QCOMPARE(s->position(), 3);
        QVERIFY(s->decode(4).is_ok());  // the session still works after refused requests

        SessionOptions big;
        big.capacity = context + 1;
        QVERIFY(!Session::create(engine, big).is_ok());
        SessionOptions bad_sampler;
        bad_sampler.sampler.top_p = 1.5f;
        auto bs = Session::create(engine, bad_sampler);
        QVERIFY(!bs.is_ok());
        QVERIFY2(bs.message().find("top-p") != std::string::npos, bs.message().c_str());
    }

    void cancelLeavesTheSessionUsable() {
        std::string error;
        auto engine = make_cpu_engine(model_fixture_path("tiny-llama-gqa"), error);
        QVERIFY2(engine, error.c_str());
        auto s = make_session(engine, SessionMode::cached);
        std::atomic<bool> cancel{true};
        s->set_cancel_flag(&cancel);
        auto r = s->prefill(std::vector<int32_t>{1, 2, 3, 4});
        QVERIFY(!r.is_ok());
        QCOMPARE(s->position(), 0);
        cancel = false;
        QVERIFY(s->prefill(std::vector<int32_t>{1, 2, 3, 4}).is_ok());
        QCOMPARE(s->cache()->length(), 4);
    }
};

QTEST_APPLESS_MAIN(SessionsTest)
#include "test_sessions.moc"
