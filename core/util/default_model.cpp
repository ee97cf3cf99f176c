#include "kvscope/default_model.h"

#include <filesystem>
#include <system_error>

namespace kvscope {

namespace fs = std::filesystem;

std::vector<std::string> default_model_candidates(const std::string& executable_dir) {
    std::vector<fs::path> places;
    if (!executable_dir.empty())
        places.push_back(fs::path(executable_dir) / ".." / "share" / "kvscope" / "models" /
                         kDefaultModelFile);
    places.push_back(fs::path(KVSCOPE_INSTALL_DATA_DIR) / "models" / kDefaultModelFile);
    places.push_back(fs::path(KVSCOPE_SOURCE_ASSETS_DIR) / "models" / kDefaultModelFile);
    std::vector<std::string> out;
    for (const fs::path& p : places) {
        const std::string s = p.lexically_normal().string();
        bool seen = false;
        for (const std::string& o : out)
            seen = seen || o == s;
        if (!seen) out.push_back(s);
    }
    return out;
}

std::string find_default_model(const std::string& executable_dir) {
    for (const std::string& p : default_model_candidates(executable_dir)) {
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) return p;
    }
    return {};
}

std::string executable_dir() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : exe.parent_path().string();
}

}  // namespace kvscope
