#include "cli_common.h"

#include <cstdio>
#include <sstream>

#include "kvscope/tokenizer.h"

namespace kvscope::cli {

void ModelOptions::add_to(CLI::App& app) {
    app.add_option("model", model, "Model file or folder (GGUF, Hugging Face folder, llama2.c .bin)");
    app.add_option("--tokenizer", tokenizer,
                   "Tokenizer file for models that carry none (llama2.c tokenizer.bin)");
    app.add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
    app.add_option("--threads", threads, "CPU threads (0: all cores)")->check(CLI::NonNegativeNumber);
    app.add_option("--capacity", capacity, "KV cache capacity in tokens (0: the model's context)")
        ->check(CLI::NonNegativeNumber);
}

int fail(const std::string& message) {
    std::fprintf(stderr, "kvscope-cli: error: %s\n", message.c_str());
    return 1;
}

Result<std::shared_ptr<const Model>> load_model_only(const ModelOptions& options) {
    if (options.model.empty()) return Status::error("no model given (kvscope-cli COMMAND MODEL ...)");
    LoadOptions lo;
    lo.tokenizer_path = options.tokenizer;
    return load_model(options.model, lo);
}

std::unique_ptr<LoadedModel> load(const ModelOptions& options) {
    auto model = load_model_only(options);
    if (!model) {
        fail(model.message());
        return nullptr;
    }
    auto backend =
        make_backend(options.device == "cuda" ? DeviceKind::cuda : DeviceKind::cpu, options.threads);
    if (!backend) {
        fail("CUDA is unavailable: " + backend.message());
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

Result<std::vector<int32_t>> parse_token_list(const std::string& text) {
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
            return Status::error("--tokens: item " + std::to_string(index) + " (\"" + item +
                                 "\") is not a non-negative token id");
        ids.push_back(static_cast<int32_t>(v));
        ++index;
    }
    if (ids.empty()) return Status::error("--tokens: no token ids given");
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
