// hf_tokenizer_json.cpp — Hugging Face's byte-level BPE files: tokenizer.json, and GPT-2's original pair
// vocab.json + merges.txt.
//
// tokenizer.json (tokenizers' serialization, "version": "1.0"), the keys read:
//   model: {"type": "BPE", "vocab": {piece: id}, "merges": ["a b", ...] or [["a", "b"], ...] (rank order),
//           "ignore_merges", "byte_fallback", "dropout", "continuing_subword_prefix", "end_of_word_suffix",
//           "unk_token"}
//   added_tokens: [{"id", "content", "special", ...}]  special -> control token, else user-defined; both
//           are matched whole in the text
//   normalizer: null or NFC (Qwen2)
//   pre_tokenizer: ByteLevel (use_regex: GPT-2's regex; add_prefix_space), Split (Regex, "Isolated"),
//           Digits, or a Sequence of those. The regexes found must be those of a pre-tokenizer llama.cpp
//           names (gpt-2, qwen2, llama-bpe, smollm), because that name is what TokenizerData and a GGUF keep.
//   post_processor: TemplateProcessing whose "single" template starts with a special token -> add_bos
//           (a special token after the text, such as an appended EOS, is not added: prompts for generation
//           must not end the sequence), ByteLevel, or a Sequence of those.
// vocab.json is {piece: id}; merges.txt holds one "a b" pair per line in rank order after an optional
// "#version" line. As transformers' GPT2Tokenizer, "<|endoftext|>" (when present) is BOS, EOS and unk and
// is a control token. SentencePiece-style tokenizer.json files (byte_fallback, Metaspace) are refused with a
// pointer to tokenizer.model, which holds the same model in sentencepiece's own form.
#include <nlohmann/json.hpp>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_files.h"
#include "util/files.h"

namespace kvscope {

namespace {

using nlohmann::json;

Result<json> parse_json_file(const std::string& path) {
    auto text = read_text_file(path);
    if (!text) return text.status();
    try {
        return json::parse(text.value());
    } catch (const json::exception& e) {
        return Status::error(path + ": does not parse as JSON: " + e.what());
    }
}

// {piece: id} -> tokens by id; holes (ids no piece has) are filled by added tokens later, else "[PAD<id>]".
Status read_vocab_object(const json& vocab, const std::string& where, TokenizerData& d) {
    if (!vocab.is_object()) return Status::error(where + " must be an object {piece: id}");
    std::vector<bool> seen;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        if (!it.value().is_number_integer())
            return Status::error(where + "[\"" + it.key() + "\"] must be an integer id, found " +
                                 it.value().dump());
        const int64_t id = it.value().get<int64_t>();
        if (id < 0 || id >= (int64_t{1} << 24))
            return Status::error(where + "[\"" + it.key() + "\"] = " + std::to_string(id) +
                                 " is out of range");
        const auto i = static_cast<size_t>(id);
        if (i >= d.tokens.size()) {
            d.tokens.resize(i + 1);
            seen.resize(i + 1, false);
        }
        if (seen[i])
            return Status::error(where + ": id " + std::to_string(id) + " is given to both \"" + d.tokens[i] +
                                 "\" and \"" + it.key() + "\"");
        seen[i] = true;
        d.tokens[i] = it.key();
    }
    if (d.tokens.empty()) return Status::error(where + " is empty");
    d.token_types.assign(d.tokens.size(), static_cast<int32_t>(TokenType::normal));
    for (size_t i = 0; i < seen.size(); ++i)
        if (!seen[i]) {
            d.tokens[i] = "[PAD" + std::to_string(i) + "]";
            d.token_types[i] = static_cast<int32_t>(TokenType::unused);
        }
    return Status::ok();
}

int32_t find_token(const TokenizerData& d, const std::string& piece) {
    for (size_t i = 0; i < d.tokens.size(); ++i)
        if (d.tokens[i] == piece) return static_cast<int32_t>(i);
    return -1;
}

struct PreSteps {
    std::vector<std::string> regexes;
    bool byte_level = false;
    bool add_prefix_space = false;
};

Status collect_pre_tokenizer(const json& node, const std::string& where, PreSteps& steps) {
    if (node.is_null()) return Status::ok();
    if (!node.is_object() || !node.contains("type") || !node["type"].is_string())
        return Status::error(where + " must be an object with a \"type\"");
    const std::string type = node["type"].get<std::string>();
    if (type == "Sequence") {
        const json& list = node.value("pretokenizers", json::array());
        if (!list.is_array()) return Status::error(where + ".pretokenizers must be an array");
        for (size_t i = 0; i < list.size(); ++i)
            KVSCOPE_TRY(
                collect_pre_tokenizer(list[i], where + ".pretokenizers[" + std::to_string(i) + "]", steps));
        return Status::ok();
    }
    if (type == "ByteLevel") {
        steps.byte_level = true;
        // tokenizers' defaults: add_prefix_space = true, use_regex = true.
        const bool prefix = node.value("add_prefix_space", true);
        // ByteLevel prefixes every piece it is given; KVScope prefixes the text once, which is the same only
        // when nothing has split the text before ByteLevel.
        if (prefix && !steps.regexes.empty())
            return Status::error(where +
                                 ": ByteLevel with add_prefix_space after another splitting step is not "
                                 "supported (it would prefix every piece)");
        steps.add_prefix_space = steps.add_prefix_space || prefix;
        if (node.value("use_regex", true)) steps.regexes.push_back(kGpt2Regex);
        return Status::ok();
    }
    if (type == "Digits") {
        steps.regexes.push_back(node.value("individual_digits", false) ? kDigitsIndividualRegex
                                                                       : kDigitsRunRegex);
        return Status::ok();
    }
    if (type == "Split") {
        const json& pattern = node.value("pattern", json());
        if (!pattern.is_object() || !pattern.contains("Regex") || !pattern["Regex"].is_string())
            return Status::error(where + ": only Split with a {\"Regex\": ...} pattern is supported, found " +
                                 pattern.dump());
        const std::string behavior = node.value("behavior", "");
        if (behavior != "Isolated" || node.value("invert", false))
            return Status::error(where + ": Split with behavior \"" + behavior + "\"" +
                                 (node.value("invert", false) ? " and invert" : "") +
                                 " is not supported (KVScope splits as \"Isolated\", not inverted)");
        steps.regexes.push_back(pattern["Regex"].get<std::string>());
        return Status::ok();
    }
    if (type == "Metaspace")
        return Status::error(
            where + ": a Metaspace pre-tokenizer is SentencePiece-style; load tokenizer.model instead");
    return Status::error(where + ": pre-tokenizer type \"" + type + "\" is not supported");
}

// Finds the llama.cpp name of a chain of regexes.
Result<const PreTokenizerSpec*> identify_pre_tokenizer(const PreSteps& steps, const std::string& where) {
    for (const auto& spec : pre_tokenizer_specs())
        if (spec.regexes == steps.regexes) return &spec;
    std::string found;
    for (const auto& r : steps.regexes)
        found += (found.empty() ? "\"" : ", \"") + r + "\"";
    return Status::error(
        where + ": the pre-tokenizer regexes [" + found +
        "] are not those of a pre-tokenizer KVScope knows (gpt-2, qwen2, llama-bpe, smollm)");
}

Status read_normalizer(const json& node, const std::string& where, TokenizerData& d) {
    if (node.is_null()) return Status::ok();
    const std::string type = node.value("type", "");
    if (type == "NFC") {
        d.normalizer = "nfc";
        return Status::ok();
    }
    if (type == "Sequence") {
        const json& list = node.value("normalizers", json::array());
        for (size_t i = 0; i < list.size(); ++i)
            KVSCOPE_TRY(read_normalizer(list[i], where + ".normalizers[" + std::to_string(i) + "]", d));
        return Status::ok();
    }
    if (type == "Prepend" || type == "Replace")
        return Status::error(
            where + ": a " + type +
            " normalizer is SentencePiece-style (\"▁\" for spaces); load tokenizer.model instead");
    return Status::error(where + ": normalizer type \"" + type +
                         "\" is not supported (KVScope applies NFC or none)");
}

Status read_post_processor(const json& node, const std::string& where, TokenizerData& d) {
    if (node.is_null()) return Status::ok();
    const std::string type = node.value("type", "");
    if (type == "ByteLevel") return Status::ok();  // only trims offsets; ids are unchanged
    if (type == "Sequence") {
        const json& list = node.value("processors", json::array());
        for (size_t i = 0; i < list.size(); ++i)
            KVSCOPE_TRY(read_post_processor(list[i], where + ".processors[" + std::to_string(i) + "]", d));
        return Status::ok();
    }
    if (type != "TemplateProcessing")
        return Status::error(where + ": post-processor type \"" + type + "\" is not supported");
    const json& single = node.value("single", json::array());
    if (!single.is_array() || single.empty() || !single[0].is_object() || !single[0].contains("SpecialToken"))
        return Status::ok();
    const std::string name = single[0]["SpecialToken"].value("id", "");
    const json& specials = node.value("special_tokens", json::object());
    if (!specials.contains(name) || !specials[name].contains("ids") || !specials[name]["ids"].is_array() ||
        specials[name]["ids"].size() != 1 || !specials[name]["ids"][0].is_number_integer())
        return Status::error(where + ": the template starts with special token \"" + name +
                             "\", which special_tokens does not give exactly one id");
    d.bos_id = specials[name]["ids"][0].get<int32_t>();
    d.add_bos = true;
    return Status::ok();
}

Status check_bpe_options(const json& model, const std::string& where) {
    if (model.value("byte_fallback", false))
        return Status::error(
            where + ": byte_fallback = true is SentencePiece-style BPE; load tokenizer.model instead");
    if (model.contains("dropout") && model["dropout"].is_number() && model["dropout"].get<double>() > 0.0)
        return Status::error(where + ": dropout = " + model["dropout"].dump() +
                             " makes tokenizing random (training only); KVScope needs 0 or null");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty())
            return Status::error(where + ": " + key + " = " + model[key].dump() +
                                 " is not supported (byte-level BPE has none)");
    return Status::ok();
}

}  // namespace

Status add_hf_added_token(TokenizerData& d, int64_t id, const std::string& content, bool special,
                          const std::string& where) {
    if (id < 0 || id >= (int64_t{1} << 24))
        return Status::error(where + ": added token \"" + content + "\" has id " + std::to_string(id) +
                             ", out of range");
    if (content.empty()) return Status::error(where + ": added token " + std::to_string(id) + " is empty");
    const auto i = static_cast<size_t>(id);
    if (i >= d.tokens.size()) {
        // Ids past the base vocabulary; any gap gets "[PAD<id>]" unused pieces as llama.cpp's converter
        // writes.
        for (size_t k = d.tokens.size(); k < i; ++k) {
            d.tokens.push_back("[PAD" + std::to_string(k) + "]");
            d.token_types.push_back(static_cast<int32_t>(TokenType::unused));
            if (!d.scores.empty()) d.scores.push_back(0.0f);
        }
        d.tokens.push_back(content);
        d.token_types.push_back(0);
        if (!d.scores.empty()) d.scores.push_back(0.0f);
    } else if (d.tokens[i] != content && d.token_types[i] != static_cast<int32_t>(TokenType::unused)) {
        return Status::error(where + ": added token " + std::to_string(id) + " is \"" + content +
                             "\" but the vocabulary has \"" + d.tokens[i] + "\" at that id");
    }
    d.tokens[i] = content;
    d.token_types[i] = static_cast<int32_t>(special ? TokenType::control : TokenType::user_defined);
    return Status::ok();
}

Result<TokenizerData> read_hf_tokenizer_json(const std::string& path) {
    auto parsed = parse_json_file(path);
    if (!parsed) return parsed.status();
    const json& j = parsed.value();
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
        return Status::error(path + ": has no \"model\" object (is this a Hugging Face tokenizer.json?)");
    const json& model = j["model"];
    const std::string model_type = model.value("type", "BPE");
    if (model_type != "BPE")
        return Status::error(path + ": model type \"" + model_type +
                             "\" is not supported (KVScope runs BPE models)");
    KVSCOPE_TRY(check_bpe_options(model, path + ": model"));

    TokenizerData d;
    d.kind = TokenizerData::Kind::byte_bpe;
    KVSCOPE_TRY(read_vocab_object(model.value("vocab", json()), path + ": model.vocab", d));

    const json& merges = model.value("merges", json::array());
    if (!merges.is_array()) return Status::error(path + ": model.merges must be an array");
    d.merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
        const json& m = merges[i];
        if (m.is_string()) {
            d.merges.push_back(m.get<std::string>());
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            const std::string a = m[0].get<std::string>(), b = m[1].get<std::string>();
            if (a.find(' ') != std::string::npos || b.find(' ') != std::string::npos)
                return Status::error(path + ": model.merges[" + std::to_string(i) +
                                     "] has a token with a space, which \"a b\" merges (GGUF) cannot hold");
            d.merges.push_back(a + " " + b);
        } else {
            return Status::error(path + ": model.merges[" + std::to_string(i) +
                                 "] must be \"a b\" or [\"a\", \"b\"], found " + m.dump());
        }
    }

    const json& added = j.value("added_tokens", json::array());
    if (!added.is_array()) return Status::error(path + ": added_tokens must be an array");
    for (size_t i = 0; i < added.size(); ++i) {
        const json& t = added[i];
        const std::string where = path + ": added_tokens[" + std::to_string(i) + "]";
        if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
            !t["content"].is_string())
            return Status::error(where + " must have an integer \"id\" and a string \"content\"");
        KVSCOPE_TRY(add_hf_added_token(d, t["id"].get<int64_t>(), t["content"].get<std::string>(),
                                       t.value("special", false), where));
    }
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
        d.unk_id = find_token(d, model["unk_token"].get<std::string>());
        if (d.unk_id < 0)
            return Status::error(path + ": model.unk_token " + model["unk_token"].dump() +
                                 " is not in the vocabulary");
    }

    KVSCOPE_TRY(read_normalizer(j.value("normalizer", json()), path + ": normalizer", d));
    PreSteps steps;
    KVSCOPE_TRY(collect_pre_tokenizer(j.value("pre_tokenizer", json()), path + ": pre_tokenizer", steps));
    if (!steps.byte_level)
        return Status::error(path +
                             ": the pre-tokenizer has no ByteLevel step, so this is not byte-level BPE");
    auto spec = identify_pre_tokenizer(steps, path + ": pre_tokenizer");
    if (!spec) return spec.status();
    d.pre = spec.value()->names.front();
    d.add_space_prefix = steps.add_prefix_space;
    if (model.value("ignore_merges", false) != spec.value()->ignore_merges)
        return Status::error(
            path + ": model.ignore_merges = " + (spec.value()->ignore_merges ? "false" : "true") +
            ", but the \"" + d.pre + "\" pre-tokenizer's models have it " +
            (spec.value()->ignore_merges ? "on" : "off") + " (a GGUF could not say otherwise)");
    KVSCOPE_TRY(read_post_processor(j.value("post_processor", json()), path + ": post_processor", d));
    return d;
}

Result<TokenizerData> read_vocab_and_merges(const std::string& vocab_path, const std::string& merges_path) {
    auto vocab = parse_json_file(vocab_path);
    if (!vocab) return vocab.status();
    if (!is_regular_file(merges_path))
        return Status::error(vocab_path + ": needs merges.txt beside it (" + merges_path + " is missing)");
    auto merges = read_text_file(merges_path);
    if (!merges) return merges.status();

    TokenizerData d;
    d.kind = TokenizerData::Kind::byte_bpe;
    d.pre = "gpt-2";
    KVSCOPE_TRY(read_vocab_object(vocab.value(), vocab_path, d));

    const std::string& text = merges.value();
    size_t line_number = 0;
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        start = end + 1;
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || (line_number == 1 && line.starts_with("#version"))) continue;
        const size_t space = line.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
            line.find(' ', space + 1) != std::string::npos)
            return Status::error(merges_path + ": line " + std::to_string(line_number) + " (\"" + line +
                                 "\") is not two tokens separated by one space");
        d.merges.push_back(std::move(line));
    }

    const int32_t eot = find_token(d, "<|endoftext|>");
    if (eot >= 0) {
        d.bos_id = d.eos_id = d.unk_id = eot;
        d.token_types[static_cast<size_t>(eot)] = static_cast<int32_t>(TokenType::control);
    }
    return d;
}

}  // namespace kvscope
