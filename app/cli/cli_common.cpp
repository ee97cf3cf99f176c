#include "cli_common.h"

#include <cstdio>
#include <sstream>

#include "kvscope/default_model.h"
#include "kvscope/tokenizer.h"

namespace kvscope::cli {

void ModelOptions::add_to(CLI::App& app) {
    app.add_option("model", model,
                   "Model file or folder (GGUF, Hugging Face folder, llama2.c .bin); default: the embedded "
                   "model, kvscope-shakespeare.gguf");
    app.add_option("--tokenizer", tokenizer,
                   "Tokenizer file for models that carry none (llama2.c tokenizer.bin)");
    app.add_option("--device", device, "cpu, cuda, or auto (CUDA when a GPU is usable, else the CPU)")
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    app.add_option("--threads", threads, "CPU threads (0: all cores)")->check(whole_number(0, 1024));
    app.add_option("--capacity", capacity, "KV cache capacity in tokens (0: the model's context)")
        ->check(whole_number(0, 1 << 30));
}

int fail(const std::string& message) {
    std::fprintf(stderr, "kvscope-cli: error: %s\n", message.c_str());
    return 1;
}

namespace {

// What the loader reports that is no error (tensors the model does not use) goes to stderr as notes.
Result<std::shared_ptr<const Model>> with_notes(Result<std::shared_ptr<const Model>> loaded) {
    if (loaded)
        for (const std::string& note : loaded.value()->notes)
            std::fprintf(stderr, "kvscope-cli: note: %s\n", note.c_str());
    return loaded;
}

}  // namespace

Result<std::shared_ptr<const Model>> load_model_only(const ModelOptions& options) {
    LoadOptions lo;
    lo.tokenizer_path = options.tokenizer;
    if (!options.model.empty()) return with_notes(load_model(options.model, lo));
    const std::string embedded = find_default_model(executable_dir());
    if (embedded.empty()) {
        std::string where;
        for (const std::string& p : default_model_candidates(executable_dir()))
            where += "\n  " + p;
        return Status::error("no model given, and the embedded model " + std::string(kDefaultModelFile) +
                             " is not in any of:" + where + "\n(give one: kvscope-cli COMMAND MODEL ...)");
    }
    return with_notes(load_model(embedded, lo));
}

Result<std::shared_ptr<Backend>> make_device_backend(const ModelOptions& options) {
    if (options.device == "auto") {
        std::string why_not;
        auto backend = make_auto_backend(options.threads, &why_not);
        if (!why_not.empty())
            std::fprintf(stderr, "kvscope-cli: --device auto: using the CPU (CUDA: %s)\n", why_not.c_str());
        return backend;
    }
    if (options.device == "cuda") {
        auto backend = make_cuda_backend(0);
        if (!backend) return backend.status().with_context("--device cuda: CUDA is unavailable");
        return backend;
    }
    return make_cpu_backend(options.threads);
}

std::unique_ptr<LoadedModel> load(const ModelOptions& options) {
    auto model = load_model_only(options);
    if (!model) {
        fail(model.message());
        return nullptr;
    }
    auto backend = make_device_backend(options);
    if (!backend) {
        fail(backend.message());
        return nullptr;
    }
    auto engine = Engine::create(model.value(), backend.value());
    if (!engine) {
        fail(engine.message());
        return nullptr;
    }
    auto loaded = std::make_unique<LoadedModel>();
    loaded->model = model.value();
    loaded->engine = engine.value();
    return loaded;
}

Result<std::vector<int32_t>> parse_token_list(const std::string& text, const std::string& label) {
    std::vector<int32_t> ids;
    std::stringstream ss(text);
    std::string item;
    int index = 0;
    while (std::getline(ss, item, ',')) {
        size_t used = 0;
        long long v = 0;
        try {
            v = std::stoll(item, &used);
        } catch (...) {
            used = 0;
        }
        if (used == 0 || used != item.size() || v < 0 || v > INT32_MAX)
            return Status::error(label + ": item " + std::to_string(index) + " (\"" + item +
                                 "\") is not a non-negative token id");
        ids.push_back(static_cast<int32_t>(v));
        ++index;
    }
    if (ids.empty()) return Status::error(label + ": no token ids given");
    return ids;
}

Result<std::vector<int32_t>> prompt_tokens(const Model& model, const std::string& tokens,
                                           const std::string& prompt) {
    if (!tokens.empty() && !prompt.empty())
        return Status::error("give either --tokens or --prompt, not both");
    if (!tokens.empty()) return parse_token_list(tokens);
    if (prompt.empty()) return Status::error("no prompt: give --prompt \"text\" or --tokens 1,2,3");
    if (!model.tokenizer)
        return Status::error(model.source_path + " carries no tokenizer: give --tokens, or --tokenizer FILE");
    auto ids = model.tokenizer->encode(prompt, true);
    if (!ids) return ids.status();
    if (ids->empty()) return Status::error("the prompt encodes to no tokens");
    return ids;
}

CLI::Validator whole_number(long long min, long long max) {
    const std::string wanted = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            size_t used = 0;
            long long v = 0;
            try {
                v = std::stoll(text, &used);
            } catch (...) {
                used = 0;
            }
            if (used == 0 || used != text.size() || v < min || v > max)
                return "expected " + wanted + ", found '" + text + "'";
            return {};
        },
        "INT " + std::to_string(min) + ".." + std::to_string(max));
}

CLI::Validator real_number(double min, double max, bool min_exclusive) {
    char range[96];
    std::snprintf(range, sizeof range, "%s%g, %g]", min_exclusive ? "(" : "[", min, max);
    const std::string wanted = std::string("a number in ") + range;
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            size_t used = 0;
            double v = 0;
            try {
                v = std::stod(text, &used);
            } catch (...) {
                used = 0;
            }
            const bool above_min = min_exclusive ? v > min : v >= min;
            if (used == 0 || used != text.size() || !(above_min && v <= max))
                return "expected " + wanted + ", found '" + text + "'";
            return {};
        },
        std::string("NUMBER in ") + range);
}

std::string human_bytes(uint64_t b) {
    char buf[64];
    if (b >= (1ull << 30))
        std::snprintf(buf, sizeof buf, "%.2f GiB", double(b) / double(1ull << 30));
    else if (b >= (1ull << 20))
        std::snprintf(buf, sizeof buf, "%.2f MiB", double(b) / double(1ull << 20));
    else if (b >= (1ull << 10))
        std::snprintf(buf, sizeof buf, "%.2f KiB", double(b) / 1024.0);
    else
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
    return buf;
}

std::string human_count(uint64_t n) {
    char buf[64];
    if (n >= 1000000000ull)
        std::snprintf(buf, sizeof buf, "%.2fG", double(n) / 1e9);
    else if (n >= 1000000ull)
        std::snprintf(buf, sizeof buf, "%.2fM", double(n) / 1e6);
    else if (n >= 1000ull)
        std::snprintf(buf, sizeof buf, "%.1fK", double(n) / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
    return buf;
}

}  // namespace kvscope::cli
