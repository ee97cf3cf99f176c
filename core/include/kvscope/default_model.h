// default_model.h — where KVScope's embedded model (assets/models/kvscope-shakespeare.gguf) is found
// when no model is given: beside an installed executable, in the install prefix, or in the source
// checkout the program was built from. Shared by the app and kvscope-cli.
#pragma once

#include <string>
#include <vector>

namespace kvscope {

inline constexpr const char* kDefaultModelFile = "kvscope-shakespeare.gguf";

// The places looked at, in order. `executable_dir` is the running program's folder ("" to skip it):
// an installed <prefix>/bin/kvscope finds <prefix>/share/kvscope/models/.
std::vector<std::string> default_model_candidates(const std::string& executable_dir);

// The first candidate that is a file, or "" when there is none.
std::string find_default_model(const std::string& executable_dir);

// The running program's folder (from /proc/self/exe), or "" when it cannot be told.
std::string executable_dir();

}  // namespace kvscope
