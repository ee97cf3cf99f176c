#include "support/fixtures.h"

#include <QDir>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

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

std::string copy_model_fixture(const std::string& parent, const QString& name) {
    namespace fs = std::filesystem;
    const std::string dst = parent + "/" + name.toStdString();
    fs::copy(model_fixture_path(name), dst, fs::copy_options::recursive);
    for (auto& e : fs::directory_iterator(dst))
        fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add);
    fs::permissions(dst, fs::perms::owner_all, fs::perm_options::add);
    return dst;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), std::streamsize(bytes.size()));
}

void append_unused_tensors(const std::string& dir) {
    const std::string path = dir + "/model.safetensors";
    const std::string bytes = read_file(path);
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    std::string header = bytes.substr(8, n);
    const uint64_t data_size = bytes.size() - 8 - n;
    header.pop_back();  // the closing brace
    header += ",\"extra.scale\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" +
              std::to_string(data_size) + "," + std::to_string(data_size + 8) +
              "]},\"extra.steps\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[" +
              std::to_string(data_size + 8) + "," + std::to_string(data_size + 16) + "]}}";
    std::string out(8, '\0');
    const uint64_t len = header.size();
    std::memcpy(out.data(), &len, 8);
    write_file(path, out + header + bytes.substr(8 + n) + std::string(16, '\0'));
}

}  // namespace kvscope::test
