#include "support/fixtures.h"

#include <QDir>

namespace kvscope::test {

std::string fixtures_dir() {
    const QString dir = QString::fromUtf8(KVSCOPE_FIXTURES_DIR);
    if (!QDir(dir).exists() || !QFile::exists(dir + "/README.md")) return {};
    return QDir(dir).canonicalPath().toStdString();
}

std::string fixtures_missing_message() {
    return std::string("reference fixtures not found at ") + KVSCOPE_FIXTURES_DIR +
           " (clone the project with ../shared beside it, or configure with -DKVSCOPE_FIXTURES_DIR=...)";
}

QStringList model_fixture_names() {
    return {"tiny-gpt2", "tiny-llama-gqa", "tiny-qwen2", "tiny-llama-bf16-sharded"};
}

std::string model_fixture_path(const QString& name) {
    return fixtures_dir() + "/" + name.toStdString();
}

}  // namespace kvscope::test
