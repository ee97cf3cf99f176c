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

// Loads the model and makes the engine on the requested device; prints the error and returns null.
std::unique_ptr<LoadedModel> load(const ModelOptions& options);
Result<std::shared_ptr<const Model>> load_model_only(const ModelOptions& options);

// "1,2,3" -> ids; errors name the bad item.
Result<std::vector<int32_t>> parse_token_list(const std::string& text);
// The prompt as ids: from --tokens, or --prompt encoded with the model's tokenizer.
Result<std::vector<int32_t>> prompt_tokens(const Model& model, const std::string& tokens,
                                           const std::string& prompt);

std::string human_bytes(uint64_t bytes);
std::string human_count(uint64_t n);
int fail(const std::string& message);  // prints "kvscope-cli: error: message", returns 1

}  // namespace kvscope::cli
