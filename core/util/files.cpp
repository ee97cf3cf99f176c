#include "util/files.h"

#include <cstdio>
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

Status write_file_atomically(const std::string& path, const std::function<Status(std::ostream&)>& fill) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return Status::error(tmp + ": cannot open for writing");
        Status st = fill(out);
        if (st) {
            out.flush();
            if (!out) st = Status::error(tmp + ": write failed (disk full?)");
        }
        if (!st) {
            out.close();
            std::remove(tmp.c_str());
            return st;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        return Status::error(path + ": cannot rename the finished file into place: " + ec.message());
    }
    return Status::ok();
}

}  // namespace kvscope
