// hf_tokenizer_folder.cpp — the tokenizer of a Hugging Face model folder, with its special tokens.
//
// The vocabulary comes from tokenizer.json, else tokenizer.model (sentencepiece; also used when
// tokenizer.json is SentencePiece-style), else vocab.json + merges.txt. Special tokens, as transformers
// resolves them, first found wins:
//   tokenizer_config.json   "bos_token" / "eos_token" / "unk_token" / "pad_token": a string, or
//                           {"content": string, ...}, or null (none); "add_bos_token": bool;
//                           "added_tokens_decoder": {"<id>": {"content", "special"}} (added tokens)
//   special_tokens_map.json the same four token keys
//   the tokenizer file      tokenizer.json's template BOS, vocab.json's <|endoftext|>, tokenizer.model's ids
//   config.json             "bos_token_id", "eos_token_id" (an id or a list: the first is kept),
//                           "pad_token_id" — the model's own ids, used when no tokenizer file names one
// A named special token must be in the vocabulary; BOS, EOS and pad become control tokens (printed as
// nothing), as transformers' special tokens are skipped when decoding.
#include "tokenizer/tokenizer_files.h"
#include "util/files.h"
#include "util/json_value.h"

namespace kvscope {

namespace {

// A JSON file of the folder, or null when the folder has none.
Result<Json> optional_json(const std::string& dir, const std::string& name) {
    const std::string path = path_join(dir, name);
    if (!is_regular_file(path)) return Json();
    auto j = read_json_file(path);
    if (!j) return j.status();
    KVSCOPE_TRY(JsonRef::root(j.value(), path).expect_object());
    return j;
}

struct SpecialName {
    bool given = false;  // the key is present (a null value says "none")
    std::string content;
};

Result<SpecialName> special_name(const JsonRef& j, const char* key) {
    SpecialName s;
    const JsonRef v = j[key];
    if (!j.contains(key)) return s;
    s.given = true;
    if (v.absent()) return s;
    if (v.is_string())
        s.content = v.string().value();
    else if (v.is_object() && v["content"].is_string())
        s.content = v["content"].string().value();
    else
        return v.mismatch("a string, {\"content\": ...} or null");
    return s;
}

// config.json's id for key (an integer, or a list whose first element is kept), -1 when absent or null.
Result<int64_t> config_id(const JsonRef& config, const char* key) {
    const JsonRef v = config[key];
    if (v.absent()) return int64_t{-1};
    // -1 is how some configs (early Llama ones) say "none".
    if (v.is_array() && v.size() > 0) return v[size_t{0}].integer(-1, INT32_MAX);
    if (v.is_array()) return v.mismatch("an integer or a list of integers");
    return v.integer(-1, INT32_MAX);
}

Result<TokenizerData> read_folder_vocabulary(const std::string& dir, bool& found) {
    const std::string tokenizer_json = path_join(dir, "tokenizer.json");
    const std::string tokenizer_model = path_join(dir, "tokenizer.model");
    const std::string vocab_json = path_join(dir, "vocab.json");
    found = true;
    if (is_regular_file(tokenizer_json)) {
        auto data = read_hf_tokenizer_json(tokenizer_json);
        // A Llama folder's tokenizer.json is SentencePiece-style: its tokenizer.model is the same model.
        if (!data && is_regular_file(tokenizer_model)) {
            auto sp = read_sentencepiece_model(tokenizer_model);
            if (sp) return sp;
        }
        return data;
    }
    if (is_regular_file(tokenizer_model)) return read_sentencepiece_model(tokenizer_model);
    if (is_regular_file(vocab_json)) return read_vocab_and_merges(vocab_json, path_join(dir, "merges.txt"));
    found = false;
    return TokenizerData{};
}

}  // namespace

Result<std::shared_ptr<const Tokenizer>> load_hf_folder_tokenizer(const std::string& dir) {
    bool found = false;
    auto read = read_folder_vocabulary(dir, found);
    if (!read) return read.status();
    if (!found) return std::shared_ptr<const Tokenizer>();
    TokenizerData d = std::move(read.value());

    const std::string config_where = path_join(dir, "tokenizer_config.json");
    const std::string map_where = path_join(dir, "special_tokens_map.json");
    const std::string model_where = path_join(dir, "config.json");
    auto tokenizer_config = optional_json(dir, "tokenizer_config.json");
    if (!tokenizer_config) return tokenizer_config.status();
    auto special_map = optional_json(dir, "special_tokens_map.json");
    if (!special_map) return special_map.status();
    auto model_config = optional_json(dir, "config.json");
    if (!model_config) return model_config.status();

    // Added tokens that tokenizer_config.json knows and the vocabulary files may not (vocab.json has none).
    const JsonRef tc = JsonRef::root(tokenizer_config.value(), config_where);
    const JsonRef decoder = tc["added_tokens_decoder"];
    if (decoder.present()) KVSCOPE_TRY(decoder.expect_object());
    for (const auto& [key, t] : decoder.members()) {
        int64_t id = -1;
        if (!key.empty() && key.size() <= 9 && key.find_first_not_of("0123456789") == std::string::npos)
            id = std::stoll(key);
        if (id < 0) return Status::error(t.where() + ": the key must be a token id (digits)");
        KVSCOPE_TRY(t.expect_object());
        std::string content;
        bool special = false;
        KVSCOPE_ASSIGN(content, t["content"].string());
        KVSCOPE_ASSIGN(special, t["special"].boolean_or(false));
        KVSCOPE_TRY(add_hf_added_token(d, id, content, special, t.where()));
    }

    struct Slot {
        const char* token_key;
        const char* config_key;
        int32_t* id;
        bool control;
    };
    const Slot slots[] = {{"bos_token", "bos_token_id", &d.bos_id, true},
                          {"eos_token", "eos_token_id", &d.eos_id, true},
                          {"unk_token", nullptr, &d.unk_id, false},
                          {"pad_token", "pad_token_id", &d.pad_id, true}};
    const auto n = static_cast<int64_t>(d.tokens.size());
    for (const Slot& slot : slots) {
        auto from_config = special_name(tc, slot.token_key);
        if (!from_config) return from_config.status();
        auto from_map = special_name(JsonRef::root(special_map.value(), map_where), slot.token_key);
        if (!from_map) return from_map.status();
        const SpecialName& name = from_config->given ? from_config.value() : from_map.value();
        const std::string& where = from_config->given ? config_where : map_where;
        if (name.given) {
            int32_t id = -1;
            if (!name.content.empty()) {
                for (int64_t i = 0; i < n && id < 0; ++i)
                    if (d.tokens[size_t(i)] == name.content) id = static_cast<int32_t>(i);
                if (id < 0)
                    return Status::error(where + ": " + slot.token_key + " \"" + name.content +
                                         "\" is not in the tokenizer's vocabulary");
            }
            *slot.id = id;
        } else if (*slot.id < 0 && slot.config_key) {
            auto id = config_id(JsonRef::root(model_config.value(), model_where), slot.config_key);
            if (!id) return id.status();
            if (id.value() >= n)
                return Status::error(model_where + ": " + slot.config_key + " " + std::to_string(id.value()) +
                                     " is outside the tokenizer's vocabulary (" + std::to_string(n) +
                                     " tokens)");
            *slot.id = static_cast<int32_t>(id.value());
        }
        if (*slot.id >= 0 && slot.control &&
            d.token_types[size_t(*slot.id)] == static_cast<int32_t>(TokenType::normal))
            d.token_types[size_t(*slot.id)] = static_cast<int32_t>(TokenType::control);
    }

    if (tc["add_bos_token"].present()) {
        KVSCOPE_ASSIGN(d.add_bos, tc["add_bos_token"].boolean());
        if (d.add_bos && d.bos_id < 0)
            return Status::error(config_where + ": add_bos_token is true but no BOS token is named");
    }
    if (d.add_bos && d.bos_id < 0) d.add_bos = false;  // a template BOS that tokenizer_config.json removed

    auto tokenizer = make_tokenizer(std::move(d));
    if (!tokenizer) return tokenizer.status().with_context(dir);
    return tokenizer;
}

}  // namespace kvscope
