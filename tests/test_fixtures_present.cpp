// The fixtures must be there: CI runs with ../shared beside the clone, and a missing folder is a failure.
#include <QtTest>

#include "support/fixtures.h"

class FixturesPresent : public QObject {
    Q_OBJECT
  private slots:
    void fixturesFolderExists() {
        if (kvscope::test::fixtures_dir().empty()) QFAIL(kvscope::test::fixtures_missing_message().c_str());
        for (const QString& name : kvscope::test::model_fixture_names())
            QVERIFY2(QFile::exists(QString::fromStdString(kvscope::test::model_fixture_path(name)) +
                                   "/config.json"),
                     qPrintable(name + " has no config.json"));
    }
};

QTEST_APPLESS_MAIN(FixturesPresent)
#include "test_fixtures_present.moc"
