// fuzz_common.h — what the libFuzzer targets in tests/fuzz share.
//
// The loaders take paths (they map files), so a target writes its input to a file of the name the loader
// expects, in a private folder of this process, and loads it exactly as the CLI and the app do. A target
// may only fail by crashing (ASan, UBSan, an abort): every malformed input must come back as an error.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "kvscope/status.h"

namespace kvscope::fuzz {

// A folder of this process (under $TMPDIR, or /tmp), created on first use.
inline const std::string& scratch_dir() {
    static const std::string dir = [] {
        const char* tmp = std::getenv("TMPDIR");
        std::filesystem::path p = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                                  ("kvscope-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(p);
        return p.string();
    }();
    return dir;
}

// Writes `size` bytes to <scratch>/<name> and returns the path.
inline std::string write_input(const uint8_t* data, size_t size, const std::string& name) {
    const std::string path = scratch_dir() + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) {
        std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
        std::abort();
    }
    return path;
}

// An error must say something: an empty message is a bug in the reader that produced it.
template <typename R>
void check_error(const R& result) {
    if (!result.is_ok() && result.message().empty()) {
        std::fprintf(stderr, "fuzz: an error with an empty message\n");
        std::abort();
    }
}

// A fixture the encoder targets need (the reference tokenizers), or an abort saying where it was looked for.
inline std::string fixture(const std::string& relative) {
    const std::string path = std::string(KVSCOPE_FIXTURES_DIR) + "/" + relative;
    if (!std::filesystem::exists(path)) {
        std::fprintf(stderr, "fuzz: fixture %s is missing (../shared/fixtures beside the repository)\n",
                     path.c_str());
        std::abort();
    }
    return path;
}

}  // namespace kvscope::fuzz
