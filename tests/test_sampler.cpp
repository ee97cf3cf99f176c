// The sampler: greedy is argmax, draws depend only on (seed, position), top-k and top-p cut where they
// should, and the frequencies follow the softmax.
#include <QtTest>
#include <cmath>

#include "kvscope/sampler.h"

using namespace kvscope;

class SamplerTest : public QObject {
    Q_OBJECT
  private slots:
    void greedyIsArgmaxFirstOfTies() {
        const std::vector<float> logits{0.5f, 2.0f, -1.0f, 2.0f};
        QCOMPARE(sample_token(logits, SamplerConfig{}, 0), 1);
    }

    void drawsDependOnSeedAndPositionOnly() {
        std::vector<float> logits(50);
        for (size_t i = 0; i < logits.size(); ++i)
            logits[i] = std::sin(float(i));
        SamplerConfig c{1.0f, 0, 1.0f, 42};
        std::vector<int32_t> first, again;
        for (int p = 0; p < 200; ++p)
            first.push_back(sample_token(logits, c, p));
        for (int p = 199; p >= 0; --p)
            again.insert(again.begin(), sample_token(logits, c, p));  // any order
        QCOMPARE(first, again);
        c.seed = 43;
        std::vector<int32_t> other;
        for (int p = 0; p < 200; ++p)
            other.push_back(sample_token(logits, c, p));
        QVERIFY(first != other);
    }

    void frequenciesFollowTheSoftmax() {
        // p = (0.25, 0.75) at temperature 1; at temperature 0.5 the odds square: (0.1, 0.9).
        const std::vector<float> logits{0.0f, std::log(3.0f)};
        for (auto [t, expect1] : {std::pair{1.0f, 0.75}, std::pair{0.5f, 0.9}}) {
            SamplerConfig c{t, 0, 1.0f, 1};
            int ones = 0;
            const int n = 20000;
            for (int p = 0; p < n; ++p)
                ones += sample_token(logits, c, p) == 1;
            QVERIFY2(std::fabs(double(ones) / n - expect1) < 0.015,
                     qPrintable(QString("temperature %1: %2 of draws were token 1, expected %3")
                                    .arg(t)
                                    .arg(double(ones) / n)
                                    .arg(expect1)));
        }
    }

    void topKAndTopPCut() {
        const std::vector<float> logits{1.0f, 3.0f, 2.0f, 0.0f, 2.5f};
        SamplerConfig k1{1.0f, 1, 1.0f, 5};
        SamplerConfig k2{1.0f, 2, 1.0f, 5};
        SamplerConfig p_small{1.0f, 0, 0.01f, 5};
        for (int p = 0; p < 500; ++p) {
            QCOMPARE(sample_token(logits, k1, p), 1);
            const int32_t t = sample_token(logits, k2, p);
            QVERIFY(t == 1 || t == 4);
            QCOMPARE(sample_token(logits, p_small, p), 1);
        }
    }

    void topTokensAreSortedWithProbabilities() {
        const std::vector<float> logits{0.0f, 1.0f, 2.0f};
        auto top = top_k_tokens(logits, 5);
        QCOMPARE(int(top.size()), 3);
        QCOMPARE(top[0].id, 2);
        QCOMPARE(top[2].id, 0);
        double sum = 0;
        for (auto& t : top)
            sum += t.prob;
        QVERIFY(std::fabs(sum - 1.0) < 1e-6);
        QVERIFY(std::fabs(top[0].prob - std::exp(2.0) / (1 + std::exp(1.0) + std::exp(2.0))) < 1e-6);
    }

    void invalidSettingsAreNamed() {
        QVERIFY(!(SamplerConfig{-1.0f, 0, 1.0f, 0}.validate().is_ok()));
        QVERIFY(!(SamplerConfig{1.0f, -2, 1.0f, 0}.validate().is_ok()));
        auto st = SamplerConfig{1.0f, 0, 0.0f, 0}.validate();
        QVERIFY(!st.is_ok());
        QVERIFY(QString::fromStdString(st.message()).contains("top-p"));
        QVERIFY((SamplerConfig{0.8f, 40, 0.95f, 3}.validate().is_ok()));
    }
};

QTEST_APPLESS_MAIN(SamplerTest)
#include "test_sampler.moc"
