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
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer_files.h"
#include "util/files.h"

namespace kvscope {

namespace {

using nlohmann::json;

// A JSON file of the folder, or null when the folder has none.
Result<json> optional_json(const std::string& dir, const std::string& name) {
    const std::string path = path_join(dir, name);
    if (!is_regular_file(path)) return json();
    auto text = read_text_file(path);
    if (!text) return text.status();
    try {
        json j = json::parse(text.value());
        if (!j.is_object()) return Status::error(path + ": expected a JSON object");
        return j;
    } catch (const json::exception& e) {
        return Status::error(path + ": does not parse as JSON: " + e.what());
    }
}

struct SpecialName {
    bool given = false;  // the key is present (a null value says "none")
    std::string content;
};

Result<SpecialName> special_name(const json& j, const char* key, const std::string& where) {
    SpecialName s;
    if (j.is_null() || !j.contains(key)) return s;
    s.given = true;
    const json& v = j[key];
    if (v.is_null()) return s;
    if (v.is_string())
        s.content = v.get<std::string>();
    else if (v.is_object() && v.contains("content") && v["content"].is_string())
        s.content = v["content"].get<std::string>();
    else
        return Status::error(where + ": \"" + key +
                             "\" must be a string, {\"content\": ...} or null, found " + v.dump());
    return s;
}

// config.json's id for key (an integer, or a list whose first element is kept), -1 when absent or null.
Result<int64_t> config_id(const json& config, const char* key, const std::string& where) {
    if (config.is_null() || !config.contains(key) || config[key].is_null()) return int64_t{-1};
    const json& v = config[key];
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_array() && !v.empty() && v[0].is_number_integer()) return v[0].get<int64_t>();
    return Status::error(where + ": \"" + key + "\" must be an integer or a list of integers, found " +
                         v.dump());
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
    const json& tc = tokenizer_config.value();
    if (!tc.is_null() && tc.contains("added_tokens_decoder") && tc["added_tokens_decoder"].is_object()) {
        for (auto it = tc["added_tokens_decoder"].begin(); it != tc["added_tokens_decoder"].end(); ++it) {
            const std::string where = config_where + ": added_tokens_decoder[\"" + it.key() + "\"]";
            int64_t id = -1;
            try {
                size_t used = 0;
                id = std::stoll(it.key(), &used);
                if (used != it.key().size()) id = -1;
            } catch (...) {
                id = -1;
            }
            const json& t = it.value();
            if (id < 0 || !t.is_object() || !t.contains("content") || !t["content"].is_string())
                return Status::error(where + " must be keyed by an id and have a string \"content\"");
            KVSCOPE_TRY(
                add_hf_added_token(d, id, t["content"].get<std::string>(), t.value("special", false), where));
        }
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
        auto from_config = special_name(tc, slot.token_key, config_where);
        if (!from_config) return from_config.status();
        auto from_map = special_name(special_map.value(), slot.token_key, map_where);
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
            auto id = config_id(model_config.value(), slot.config_key, model_where);
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

    if (!tc.is_null() && tc.contains("add_bos_token")) {
        if (!tc["add_bos_token"].is_boolean())
            return Status::error(config_where + ": \"add_bos_token\" must be true or false, found " +
                                 tc["add_bos_token"].dump());
        d.add_bos = tc["add_bos_token"].get<bool>();
        if (d.add_bos && d.bos_id < 0)
            return Status::error(config_where + ": add_bos_token is true but no BOS token is named");
    }
    if (d.add_bos && d.bos_id < 0) d.add_bos = false;  // a template BOS that tokenizer_config.json removed

    auto tokenizer = make_tokenizer(std::move(d));
    if (!tokenizer) return tokenizer.status().with_context(dir);
    return tokenizer;
}

}  // namespace kvscope
