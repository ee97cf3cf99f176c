#include "util/files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kvscope {

Result<std::string> read_text_file(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return Status::error(path + ": no such file");
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::error(path + ": cannot open for reading");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return Status::error(path + ": read error");
    return ss.str();
}

bool is_directory(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_directory(path, ec);
}

bool is_regular_file(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_regular_file(path, ec);
}

std::string path_join(const std::string& dir, const std::string& name) {
    return (std::filesystem::path(dir) / name).string();
}

std::string parent_dir(const std::string& path) {
    auto p = std::filesystem::path(path).parent_path();
    return p.empty() ? std::string(".") : p.string();
}

std::string file_name(const std::string& path) {
    return std::filesystem::path(path).filename().string();
}

}  // namespace kvscope
