#include "kvscope/module_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

#include "kvscope/default_model.h"

namespace kvscope {

OpenedModule open_module(const ModulePlaces& places) {
    OpenedModule opened;
    if (const char* env = std::getenv(places.env); env && *env) {
        opened.looked = {env};
    } else {
        if (const std::string exe = executable_dir(); !exe.empty())
            opened.looked.push_back(
                (std::filesystem::path(exe) / places.from_bin).lexically_normal().string());
        opened.looked.push_back(places.build_path);
        opened.looked.push_back(places.install_path);
    }
    std::error_code ec;
    for (const std::string& path : opened.looked) {
        if (!std::filesystem::is_regular_file(path, ec)) continue;
        opened.path = path;
        opened.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!opened.handle) {
            const char* why = dlerror();  // typically a library the module needs is missing: it names it
            opened.error = why ? why : "unknown error";
        }
        return opened;
    }
    return opened;
}

std::string looked_text(const OpenedModule& opened) {
    std::string where;
    for (const std::string& p : opened.looked)
        where += (where.empty() ? "" : ", ") + p;
    return where;
}

}  // namespace kvscope
