// load_model.cpp — format sniffing: which reader a path goes to.
#include <cstring>

#include "kvscope/model.h"
#include "kvscope/tokenizer.h"
#include "model/formats/gguf.h"
#include "model/formats/hf_folder.h"
#include "model/formats/llama2c.h"
#include "model/formats/pytorch_pickle.h"
#include "util/files.h"
#include "util/mapped_file.h"

namespace kvscope {

namespace {

std::string hex_prefix(const uint8_t* data, uint64_t size) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (uint64_t i = 0; i < size && i < 8; ++i) {
        s += digits[data[i] >> 4];
        s += digits[data[i] & 15];
        s += ' ';
    }
    return s.empty() ? "(empty file)" : s.substr(0, s.size() - 1);
}

Result<std::shared_ptr<Model>> load_by_sniffing(const std::string& path) {
    if (is_directory(path)) return load_hf_folder(path);
    const std::string name = file_name(path);
    if (name == "config.json" || name == "model.safetensors" || name == "model.safetensors.index.json" ||
        (name.size() > 12 && name.ends_with(".safetensors")))
        return load_hf_folder(parent_dir(path));

    auto mapped = MappedFile::open(path);
    if (!mapped) return mapped.status();
    const uint8_t* data = mapped.value()->data();
    const uint64_t size = mapped.value()->size();
    // A .gguf whose magic is wrong still goes to the GGUF reader, which says what it found instead.
    if ((size >= 4 && std::memcmp(data, "GGUF", 4) == 0) || name.ends_with(".gguf")) return load_gguf(path);
    if (looks_like_llama2c(data, size)) return load_llama2c(path);
    if (auto kind = pytorch_pickle_kind(data, size))
        return Status::error(pytorch_pickle_refusal(path, *kind));
    // A .bin is taken as llama2.c so that a damaged header gets llama2.c's own, precise message.
    if (name.ends_with(".bin")) return load_llama2c(path);
    return Status::error(path + ": not a model KVScope can read (first bytes: " + hex_prefix(data, size) +
                         "); expected a GGUF file, a Hugging Face folder (config.json + *.safetensors) or a "
                         "llama2.c checkpoint");
}

}  // namespace

static Result<std::shared_ptr<const Model>> load_model_unguarded(const std::string& path,
                                                                 const LoadOptions& options) {
    if (!is_directory(path) && !is_regular_file(path))
        return Status::error(path + ": no such file or folder");
    auto loaded = load_by_sniffing(path);
    if (!loaded) return loaded.status();
    std::shared_ptr<Model> model = std::move(loaded.value());
    if (!options.tokenizer_path.empty()) {
        auto tok = load_tokenizer(options.tokenizer_path);
        if (!tok) return tok.status();
        // A larger tokenizer makes ids the model cannot embed. A smaller one is fine for padded embeddings,
        // but llama2.c's tokenizer.bin stores no count: run.c reads vocab_size tokens, so it must match.
        const int n_tok = tok.value()->vocab_size(), n_model = model->config.vocab_size;
        if (n_tok > n_model || (n_tok != n_model && model->format == "llama2.c"))
            return Status::error(options.tokenizer_path + ": tokenizer has " + std::to_string(n_tok) +
                                 " tokens, the model's vocabulary has " + std::to_string(n_model));
        model->tokenizer = tok.value();
    }
    return std::shared_ptr<const Model>(std::move(model));
}

Result<std::shared_ptr<const Model>> load_model(const std::string& path, const LoadOptions& options) {
    return catch_exceptions(path, [&] { return load_model_unguarded(path, options); });
}

}  // namespace kvscope
