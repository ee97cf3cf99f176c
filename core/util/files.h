// files.h — small file helpers for the core (no Qt here): whole-file reads and path tests.
#pragma once

#include <string>

#include "kvscope/status.h"

namespace kvscope {

Result<std::string> read_text_file(const std::string& path);
bool is_directory(const std::string& path);
bool is_regular_file(const std::string& path);
std::string path_join(const std::string& dir, const std::string& name);
std::string parent_dir(const std::string& path);
std::string file_name(const std::string& path);

}  // namespace kvscope
