// commands.h — the kvscope-cli subcommands. Each adds itself to the app and sets `exit_code` when run.
#pragma once

#include <CLI/CLI.hpp>

namespace kvscope::cli {

void add_info_command(CLI::App& app, int& exit_code);
void add_generate_commands(CLI::App& app, int& exit_code);  // generate, trace
void add_bench_command(CLI::App& app, int& exit_code);
void add_make_model_command(CLI::App& app, int& exit_code);
void add_tokenize_command(CLI::App& app, int& exit_code);
void add_convert_command(CLI::App& app, int& exit_code);
void add_scale_command(CLI::App& app, int& exit_code);
void add_roofline_command(CLI::App& app, int& exit_code);
void add_lab_command(CLI::App& app, int& exit_code);             // the cache techniques lab
void add_conversations_commands(CLI::App& app, int& exit_code);  // conversations, chat

}  // namespace kvscope::cli
