// module_loader.h — opening one of KVScope's run-time modules (a shared library loaded with dlopen the first
// time it is needed, so that a process that never needs it maps none of its libraries): the CUDA backend
// (core/cuda) and the video encoders (app/export: FFmpeg).
//
// Where a module is looked for, first found wins:
//   $ENV                                         (when set, the only place: tests and unusual installs)
//   <program's folder>/<bindir → libdir>/kvscope  (an installed tree: bin/ and lib/kvscope/)
//   the build tree's lib/                         (programs run from where they were built)
//   the configured install libdir
#pragma once

#include <string>
#include <vector>

namespace kvscope {

struct ModulePlaces {
    const char* env;           // e.g. "KVSCOPE_CUDA_MODULE"
    const char* from_bin;      // the module's path relative to the program's folder once installed
    const char* build_path;    // absolute, in the build tree
    const char* install_path;  // absolute, in the configured install prefix
};

struct OpenedModule {
    void* handle = nullptr;           // dlopen's, RTLD_NOW | RTLD_LOCAL; null when none was opened
    std::string path;                 // the file opened (or that failed to open)
    std::string error;                // dlerror's words when a file was found but could not be loaded
    std::vector<std::string> looked;  // every place looked at, in order
};

// The first of `places` that exists, opened; none found: handle null, error empty, `looked` the places.
OpenedModule open_module(const ModulePlaces& places);
// The places looked at, for a message: "a, b, c".
std::string looked_text(const OpenedModule& opened);

}  // namespace kvscope
