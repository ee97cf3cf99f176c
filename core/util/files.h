// files.h — small file helpers for the core (no Qt here): whole-file reads and path tests.
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "kvscope/status.h"

namespace kvscope {

Result<std::string> read_text_file(const std::string& path);
bool is_directory(const std::string& path);
bool is_regular_file(const std::string& path);
std::string path_join(const std::string& dir, const std::string& name);
std::string parent_dir(const std::string& path);
std::string file_name(const std::string& path);

// Writes `path` without ever leaving it half-written: `fill` writes into path + ".tmp", which is renamed
// over `path` only when `fill` and the stream both succeeded; otherwise the temporary is removed and
// `path` is untouched. The error names the file.
Status write_file_atomically(const std::string& path, const std::function<Status(std::ostream&)>& fill);

}  // namespace kvscope
