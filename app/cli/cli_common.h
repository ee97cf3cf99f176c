// cli_common.h — what every kvscope-cli command shares: model and backend options, loading, token input.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "kvscope/backend.h"
#include "kvscope/model.h"
#include "kvscope/session.h"

namespace kvscope::cli {

struct ModelOptions {
    std::string model;      // path; empty: the embedded default model
    std::string tokenizer;  // for llama2.c checkpoints
    std::string device = "cpu";
    int threads = 0;
    int capacity = 0;

    void add_to(CLI::App& app);
};

struct LoadedModel {
    std::shared_ptr<const Model> model;
    std::shared_ptr<Engine> engine;
};

// The backend --device asks for: cpu, cuda (an error saying why when CUDA is unusable), or auto (CUDA when
// usable, else the CPU, with a note on stderr saying why).
Result<std::shared_ptr<Backend>> make_device_backend(const ModelOptions& options);
// Loads the model and makes the engine on the requested device; prints the error and returns null.
std::unique_ptr<LoadedModel> load(const ModelOptions& options);
Result<std::shared_ptr<const Model>> load_model_only(const ModelOptions& options);

// "1,2,3" -> ids; errors name the option (`label`: "--tokens", "--decode") and the bad item.
Result<std::vector<int32_t>> parse_token_list(const std::string& text, const std::string& label = "--tokens");
// The prompt as ids: from --tokens, or --prompt encoded with the model's tokenizer.
Result<std::vector<int32_t>> prompt_tokens(const Model& model, const std::string& tokens,
                                           const std::string& prompt);

// Checks for numeric options whose message says what is wanted ("--steps: expected a whole number from 1
// to 1000000, found '0'") instead of CLI11's "Value 0 not in range 0.000000 to 1.797...e308". They also
// refuse what is not a number at all, before CLI11 tries to convert it.
CLI::Validator whole_number(long long min, long long max);
// A real number in [min, max], or in (min, max] when `min_exclusive`.
CLI::Validator real_number(double min, double max, bool min_exclusive = false);

std::string human_bytes(uint64_t bytes);
std::string human_count(uint64_t n);
int fail(const std::string& message);  // prints "kvscope-cli: error: message", returns 1

}  // namespace kvscope::cli
