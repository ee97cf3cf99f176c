// factory.cpp — building tokenizers from their description (with every consistency check in one place)
// and loading them from files, sniffing which kind of file a path is.
#include <cmath>
#include <cstring>
#include <fstream>

#include "model/formats/gguf.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_files.h"
#include "tokenizer/tokenizer_impl.h"
#include "util/files.h"

namespace kvscope {

namespace {

Status check_special_id(const char* name, int32_t id, size_t n) {
    if (id == -1 || (id >= 0 && static_cast<size_t>(id) < n)) return Status::ok();
    return Status::error(std::string(name) + " " + std::to_string(id) + " is outside the vocabulary (" +
                         std::to_string(n) + " tokens)");
}

std::string joined_pre_names() {
    std::string names;
    for (const auto& n : supported_pre_tokenizers())
        names += (names.empty() ? "" : ", ") + n;
    return names;
}

}  // namespace

static Result<std::shared_ptr<const Tokenizer>> make_tokenizer_unguarded(TokenizerData data) {
    const size_t n = data.tokens.size();
    if (n == 0) return Status::error("tokenizer: the vocabulary is empty");
    if (n > static_cast<size_t>(INT32_MAX)) return Status::error("tokenizer: too many tokens for int32 ids");
    const bool sentencepiece = data.kind == TokenizerData::Kind::sentencepiece_bpe;

    KVSCOPE_TRY(check_special_id("tokenizer: bos_id", data.bos_id, n));
    KVSCOPE_TRY(check_special_id("tokenizer: eos_id", data.eos_id, n));
    KVSCOPE_TRY(check_special_id("tokenizer: unk_id", data.unk_id, n));
    KVSCOPE_TRY(check_special_id("tokenizer: pad_id", data.pad_id, n));
    if (data.add_bos && data.bos_id < 0)
        return Status::error("tokenizer: add_bos is set but the vocabulary has no BOS token (bos_id = -1)");
    if (data.normalizer != "" && data.normalizer != "nfc")
        return Status::error("tokenizer: normalizer \"" + data.normalizer +
                             "\" is not supported (\"\" or \"nfc\")");

    if (data.token_types.empty()) {
        // No types given: the special ids are what they say, <0xNN> pieces are byte fallback (sentencepiece).
        data.token_types.assign(n, static_cast<int32_t>(TokenType::normal));
        for (size_t id = 0; sentencepiece && id < n; ++id)
            if (byte_piece_value(data.tokens[id]) >= 0)
                data.token_types[id] = static_cast<int32_t>(TokenType::byte);
        for (int32_t id : {data.bos_id, data.eos_id, data.pad_id})
            if (id >= 0) data.token_types[static_cast<size_t>(id)] = static_cast<int32_t>(TokenType::control);
        if (data.unk_id >= 0)
            data.token_types[static_cast<size_t>(data.unk_id)] = static_cast<int32_t>(TokenType::unknown);
    } else if (data.token_types.size() != n) {
        return Status::error("tokenizer: " + std::to_string(data.token_types.size()) + " token types for " +
                             std::to_string(n) + " tokens");
    }
    for (size_t id = 0; id < n; ++id) {
        const int32_t t = data.token_types[id];
        if (t < 0 || t > static_cast<int32_t>(TokenType::byte))
            return Status::error("tokenizer: token " + std::to_string(id) + " (\"" + data.tokens[id] +
                                 "\") has token type " + std::to_string(t) + " (known: 0 to 6)");
        if (t == static_cast<int32_t>(TokenType::byte) && sentencepiece &&
            byte_piece_value(data.tokens[id]) < 0)
            return Status::error("tokenizer: token " + std::to_string(id) + " (\"" + data.tokens[id] +
                                 "\") is typed as a byte but is not written <0xNN>");
        if ((t == static_cast<int32_t>(TokenType::control) ||
             t == static_cast<int32_t>(TokenType::user_defined)) &&
            data.tokens[id].empty())
            return Status::error("tokenizer: token " + std::to_string(id) + " is an empty added token");
    }

    if (sentencepiece) {
        if (data.scores.size() != n)
            return Status::error("tokenizer: SentencePiece BPE needs one score per token: " +
                                 std::to_string(data.scores.size()) + " scores for " + std::to_string(n) +
                                 " tokens");
        for (size_t id = 0; id < n; ++id)
            if (!std::isfinite(data.scores[id]))
                return Status::error("tokenizer: token " + std::to_string(id) + " (\"" + data.tokens[id] +
                                     "\") has a score that is not a finite number");
        return make_sentencepiece_tokenizer(std::move(data));
    }
    const PreTokenizerSpec* spec = find_pre_tokenizer(data.pre);
    if (!spec)
        return Status::error("tokenizer: pre-tokenizer \"" + data.pre +
                             "\" is not supported (known: " + joined_pre_names() + ")");
    data.pre = spec->names.front();  // canonical, so that data() writes a name llama.cpp knows
    auto made = make_byte_bpe_tokenizer(std::move(data));
    if (!made) return made.status().with_context("tokenizer");
    return made;
}

Result<std::shared_ptr<const Tokenizer>> make_tokenizer(TokenizerData data) {
    return catch_exceptions(std::string("tokenizer"),
                            [&] { return make_tokenizer_unguarded(std::move(data)); });
}

static Result<std::shared_ptr<const Tokenizer>> load_tokenizer_unguarded(const std::string& path) {
    Result<TokenizerData> data = Status::error(path + ": not read");
    if (is_directory(path)) {
        auto folder = load_hf_folder_tokenizer(path);
        if (!folder) return folder.status();
        if (folder.value()) return folder;
        const std::string bin = path_join(path, "tokenizer.bin");
        if (!is_regular_file(bin))
            return Status::error(
                path +
                ": holds no tokenizer (looked for tokenizer.json, tokenizer.model, vocab.json "
                "+ merges.txt and tokenizer.bin)");
        data = read_llama2c_tokenizer(bin);
    } else if (!is_regular_file(path)) {
        return Status::error(path + ": no such file");
    } else {
        const std::string name = file_name(path);
        char head[4] = {0, 0, 0, 0};
        std::ifstream(path, std::ios::binary).read(head, 4);
        if (std::memcmp(head, "GGUF", 4) == 0) {
            // A GGUF model carries its tokenizer in its metadata; only the header is read, not the weights.
            auto file = open_gguf(path);
            if (!file) return file.status();
            auto inside = gguf_read_tokenizer(file.value());
            if (!inside) return inside.status().with_context(path);
            if (!inside.value()) return Status::error(path + ": this GGUF file carries no tokenizer");
            data = std::move(*inside.value());
        } else if (name == "merges.txt") {
            data = read_vocab_and_merges(path_join(parent_dir(path), "vocab.json"), path);
        } else if (name == "vocab.json") {
            data = read_vocab_and_merges(path, path_join(parent_dir(path), "merges.txt"));
        } else if (name.ends_with(".json") || head[0] == '{') {
            data = read_hf_tokenizer_json(path);
        } else if (name.ends_with(".bin")) {
            data = read_llama2c_tokenizer(path);
        } else if (name.ends_with(".model") || head[0] == 0x0A) {
            // A ModelProto starts with field 1 (pieces), length-delimited: tag byte 0x0A.
            data = read_sentencepiece_model(path);
        } else {
            data = read_llama2c_tokenizer(path);
        }
    }
    if (!data) return data.status();
    auto tokenizer = make_tokenizer(std::move(data.value()));
    if (!tokenizer) return tokenizer.status().with_context(path);
    return tokenizer;
}

Result<std::shared_ptr<const Tokenizer>> load_tokenizer(const std::string& path) {
    return catch_exceptions(path, [&] { return load_tokenizer_unguarded(path); });
}

}  // namespace kvscope
