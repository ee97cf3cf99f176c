// kvscope-cli — KVScope's engine from the command line: inspect a model, generate with or without a
// KV cache, dump step traces as JSON, benchmark cached against uncached decoding.
#include <CLI/CLI.hpp>

#include "commands.h"

int main(int argc, char** argv) {
    CLI::App app{"kvscope-cli: run a transformer token by token, with and without a KV cache"};
    app.require_subcommand(1);
    int exit_code = 0;
    kvscope::cli::add_info_command(app, exit_code);
    kvscope::cli::add_generate_commands(app, exit_code);
    kvscope::cli::add_bench_command(app, exit_code);
    kvscope::cli::add_make_model_command(app, exit_code);
    kvscope::cli::add_tokenize_command(app, exit_code);
    kvscope::cli::add_convert_command(app, exit_code);
    kvscope::cli::add_lab_command(app, exit_code);
    kvscope::cli::add_conversations_commands(app, exit_code);
    CLI11_PARSE(app, argc, argv);
    return exit_code;
}
