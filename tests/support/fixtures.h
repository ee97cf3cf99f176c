// fixtures.h — the reference fixtures in ../shared/fixtures, for the Qt tests: where they are, which
// models they hold; their reference outputs are read by support/reference.h.
#pragma once

#include <QString>
#include <QStringList>
#include <string>

#include "kvscope/status.h"
#include "support/reference.h"

namespace kvscope::test {

// The fixtures folder; empty when it is missing (callers QFAIL with fixtures_missing_message()).
std::string fixtures_dir();
std::string fixtures_missing_message();
// Every model fixture folder name: tiny-gpt2, tiny-llama-gqa, tiny-qwen2, tiny-llama-bf16-sharded.
QStringList model_fixture_names();
std::string model_fixture_path(const QString& name);
// A whole file's bytes (empty when it cannot be read), and bytes written over a file.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);
// A writable copy of model fixture `name` in the folder `parent` (a temporary one); the copy's path.
std::string copy_model_fixture(const std::string& parent, const QString& name);
// Appends two tensors no model uses to `dir`/model.safetensors: F32 'extra.scale' [2] and I64 'extra.steps'
// [1] (a loader must report them as a note, not drop them silently).
void append_unused_tensors(const std::string& dir);

}  // namespace kvscope::test
