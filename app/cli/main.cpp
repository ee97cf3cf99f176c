// kvscope-cli — KVScope's engine from the command line: inspect a model, generate with or without a
// KV cache, dump step traces as JSON, benchmark cached against uncached decoding.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

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
    kvscope::cli::add_scale_command(app, exit_code);
    kvscope::cli::add_roofline_command(app, exit_code);
    kvscope::cli::add_lab_command(app, exit_code);
    kvscope::cli::add_conversations_commands(app, exit_code);
    // Usage errors exit 2 (CLI11's own codes, 105 and up, would read as signals to a shell); --help is 0.
    // Whatever a command did not foresee ends as one error line with exit 1, never std::terminate.
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kvscope-cli: error: %s\n", e.what());
        return 1;
    }
    return exit_code;
}
