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
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_files.h"
#include "util/files.h"
#include "util/json_value.h"

namespace kvscope {

namespace {

// {piece: id} -> tokens by id; holes (ids no piece has) are filled by added tokens later, else "[PAD<id>]".
Status read_vocab_object(const JsonRef& vocab, TokenizerData& d) {
    KVSCOPE_TRY(vocab.expect_object());
    std::vector<bool> seen;
    for (const auto& [piece, value] : vocab.members()) {
        int64_t id = 0;
        KVSCOPE_ASSIGN(id, value.integer(0, (int64_t{1} << 24) - 1));
        const auto i = static_cast<size_t>(id);
        if (i >= d.tokens.size()) {
            d.tokens.resize(i + 1);
            seen.resize(i + 1, false);
        }
        if (seen[i])
            return Status::error(vocab.where() + ": id " + std::to_string(id) + " is given to both \"" +
                                 d.tokens[i] + "\" and \"" + piece + "\"");
        seen[i] = true;
        d.tokens[i] = piece;
    }
    if (d.tokens.empty()) return Status::error(vocab.where() + " is empty");
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

// Sequences nest; a file cannot make this recurse deeper than parse_json's depth limit.
Status collect_pre_tokenizer(const JsonRef& node, PreSteps& steps) {
    if (node.absent()) return Status::ok();
    KVSCOPE_TRY(node.expect_object());
    std::string type;
    KVSCOPE_ASSIGN(type, node["type"].string());
    const std::string where = node.where();
    if (type == "Sequence") {
        const JsonRef list = node["pretokenizers"];
        KVSCOPE_TRY(list.expect_array());
        for (const JsonRef& item : list.elements())
            KVSCOPE_TRY(collect_pre_tokenizer(item, steps));
        return Status::ok();
    }
    if (type == "ByteLevel") {
        steps.byte_level = true;
        // tokenizers' defaults: add_prefix_space = true, use_regex = true.
        bool prefix = true, use_regex = true;
        KVSCOPE_ASSIGN(prefix, node["add_prefix_space"].boolean_or(true));
        KVSCOPE_ASSIGN(use_regex, node["use_regex"].boolean_or(true));
        // ByteLevel prefixes every piece it is given; KVScope prefixes the text once, which is the same only
        // when nothing has split the text before ByteLevel.
        if (prefix && !steps.regexes.empty())
            return Status::error(where +
                                 ": ByteLevel with add_prefix_space after another splitting step is not "
                                 "supported (it would prefix every piece)");
        steps.add_prefix_space = steps.add_prefix_space || prefix;
        if (use_regex) steps.regexes.push_back(kGpt2Regex);
        return Status::ok();
    }
    if (type == "Digits") {
        bool individual = false;
        KVSCOPE_ASSIGN(individual, node["individual_digits"].boolean_or(false));
        steps.regexes.push_back(individual ? kDigitsIndividualRegex : kDigitsRunRegex);
        return Status::ok();
    }
    if (type == "Split") {
        const JsonRef pattern = node["pattern"];
        if (!pattern.is_object() || !pattern["Regex"].is_string())
            return Status::error(where + ": only Split with a {\"Regex\": ...} pattern is supported, found " +
                                 pattern.found());
        std::string behavior, regex;
        bool invert = false;
        KVSCOPE_ASSIGN(behavior, node["behavior"].string_or(""));
        KVSCOPE_ASSIGN(invert, node["invert"].boolean_or(false));
        KVSCOPE_ASSIGN(regex, pattern["Regex"].string());
        if (behavior != "Isolated" || invert)
            return Status::error(where + ": Split with behavior \"" + behavior + "\"" +
                                 (invert ? " and invert" : "") +
                                 " is not supported (KVScope splits as \"Isolated\", not inverted)");
        steps.regexes.push_back(regex);
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

Status read_normalizer(const JsonRef& node, TokenizerData& d) {
    if (node.absent()) return Status::ok();
    KVSCOPE_TRY(node.expect_object());
    std::string type;
    KVSCOPE_ASSIGN(type, node["type"].string());
    if (type == "NFC") {
        d.normalizer = "nfc";
        return Status::ok();
    }
    if (type == "Sequence") {
        const JsonRef list = node["normalizers"];
        KVSCOPE_TRY(list.expect_array());
        for (const JsonRef& item : list.elements())
            KVSCOPE_TRY(read_normalizer(item, d));
        return Status::ok();
    }
    if (type == "Prepend" || type == "Replace")
        return Status::error(
            node.where() + ": a " + type +
            " normalizer is SentencePiece-style (\"▁\" for spaces); load tokenizer.model instead");
    return Status::error(node.where() + ": normalizer type \"" + type +
                         "\" is not supported (KVScope applies NFC or none)");
}

Status read_post_processor(const JsonRef& node, TokenizerData& d) {
    if (node.absent()) return Status::ok();
    KVSCOPE_TRY(node.expect_object());
    std::string type;
    KVSCOPE_ASSIGN(type, node["type"].string());
    if (type == "ByteLevel") return Status::ok();  // only trims offsets; ids are unchanged
    if (type == "Sequence") {
        const JsonRef list = node["processors"];
        KVSCOPE_TRY(list.expect_array());
        for (const JsonRef& item : list.elements())
            KVSCOPE_TRY(read_post_processor(item, d));
        return Status::ok();
    }
    if (type != "TemplateProcessing")
        return Status::error(node.where() + ": post-processor type \"" + type + "\" is not supported");
    const JsonRef first = node["single"][size_t{0}];
    if (!first["SpecialToken"].present()) return Status::ok();  // the template starts with the text
    std::string name;
    KVSCOPE_ASSIGN(name, first["SpecialToken"]["id"].string());
    const JsonRef ids = node["special_tokens"][name]["ids"];
    if (!ids.is_array() || ids.size() != 1)
        return Status::error(node.where() + ": the template starts with special token \"" + name +
                             "\", which special_tokens does not give exactly one id (" + ids.where() +
                             ": found " + ids.found() + ")");
    int64_t id = 0;
    KVSCOPE_ASSIGN(id, ids[size_t{0}].integer(0, INT32_MAX));
    d.bos_id = static_cast<int32_t>(id);
    d.add_bos = true;
    return Status::ok();
}

Status check_bpe_options(const JsonRef& model) {
    bool byte_fallback = false;
    KVSCOPE_ASSIGN(byte_fallback, model["byte_fallback"].boolean_or(false));
    if (byte_fallback)
        return Status::error(model["byte_fallback"].where() +
                             ": true is SentencePiece-style BPE; load tokenizer.model instead");
    double dropout = 0.0;
    KVSCOPE_ASSIGN(dropout, model["dropout"].number_or(0.0));
    if (dropout > 0.0)
        return Status::error(model["dropout"].where() + " = " + std::to_string(dropout) +
                             " makes tokenizing random (training only); KVScope needs 0 or null");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        std::string value;
        KVSCOPE_ASSIGN(value, model[key].string_or(""));
        if (!value.empty())
            return Status::error(model[key].where() + " = \"" + value +
                                 "\" is not supported (byte-level BPE has none)");
    }
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
    auto parsed = read_json_file(path);
    if (!parsed) return parsed.status();
    const JsonRef j = JsonRef::root(parsed.value(), path);
    if (!j["model"].is_object())
        return Status::error(path + ": has no \"model\" object (is this a Hugging Face tokenizer.json?)");
    const JsonRef model = j["model"];
    std::string model_type;
    KVSCOPE_ASSIGN(model_type, model["type"].string_or("BPE"));
    if (model_type != "BPE")
        return Status::error(path + ": model type \"" + model_type +
                             "\" is not supported (KVScope runs BPE models)");
    KVSCOPE_TRY(check_bpe_options(model));

    TokenizerData d;
    d.kind = TokenizerData::Kind::byte_bpe;
    KVSCOPE_TRY(read_vocab_object(model["vocab"], d));

    const JsonRef merges = model["merges"];
    if (merges.present()) KVSCOPE_TRY(merges.expect_array());
    d.merges.reserve(merges.size());
    for (const JsonRef& m : merges.elements()) {
        if (m.is_string()) {
            d.merges.push_back(m.string().value());
        } else if (m.is_array() && m.size() == 2 && m[size_t{0}].is_string() && m[size_t{1}].is_string()) {
            const std::string a = m[size_t{0}].string().value(), b = m[size_t{1}].string().value();
            if (a.find(' ') != std::string::npos || b.find(' ') != std::string::npos)
                return Status::error(m.where() +
                                     ": has a token with a space, which \"a b\" merges (GGUF) cannot hold");
            d.merges.push_back(a + " " + b);
        } else {
            return m.mismatch("\"a b\" or [\"a\", \"b\"]");
        }
    }

    const JsonRef added = j["added_tokens"];
    if (added.present()) KVSCOPE_TRY(added.expect_array());
    for (const JsonRef& t : added.elements()) {
        KVSCOPE_TRY(t.expect_object());
        int64_t id = 0;
        std::string content;
        bool special = false;
        KVSCOPE_ASSIGN(id, t["id"].integer(0, (int64_t{1} << 24) - 1));
        KVSCOPE_ASSIGN(content, t["content"].string());
        KVSCOPE_ASSIGN(special, t["special"].boolean_or(false));
        KVSCOPE_TRY(add_hf_added_token(d, id, content, special, t.where()));
    }
    std::string unk;
    KVSCOPE_ASSIGN(unk, model["unk_token"].string_or(""));
    if (!unk.empty()) {
        d.unk_id = find_token(d, unk);
        if (d.unk_id < 0)
            return Status::error(model["unk_token"].where() + ": \"" + unk + "\" is not in the vocabulary");
    }

    KVSCOPE_TRY(read_normalizer(j["normalizer"], d));
    PreSteps steps;
    KVSCOPE_TRY(collect_pre_tokenizer(j["pre_tokenizer"], steps));
    if (!steps.byte_level)
        return Status::error(path +
                             ": the pre-tokenizer has no ByteLevel step, so this is not byte-level BPE");
    auto spec = identify_pre_tokenizer(steps, path + ": pre_tokenizer");
    if (!spec) return spec.status();
    d.pre = spec.value()->names.front();
    d.add_space_prefix = steps.add_prefix_space;
    bool ignore_merges = false;
    KVSCOPE_ASSIGN(ignore_merges, model["ignore_merges"].boolean_or(false));
    if (ignore_merges != spec.value()->ignore_merges)
        return Status::error(
            path + ": model.ignore_merges = " + (spec.value()->ignore_merges ? "false" : "true") +
            ", but the \"" + d.pre + "\" pre-tokenizer's models have it " +
            (spec.value()->ignore_merges ? "on" : "off") + " (a GGUF could not say otherwise)");
    KVSCOPE_TRY(read_post_processor(j["post_processor"], d));
    return d;
}

Result<TokenizerData> read_vocab_and_merges(const std::string& vocab_path, const std::string& merges_path) {
    auto vocab = read_json_file(vocab_path);
    if (!vocab) return vocab.status();
    if (!is_regular_file(merges_path))
        return Status::error(vocab_path + ": needs merges.txt beside it (" + merges_path + " is missing)");
    auto merges = read_text_file(merges_path);
    if (!merges) return merges.status();

    TokenizerData d;
    d.kind = TokenizerData::Kind::byte_bpe;
    d.pre = "gpt-2";
    KVSCOPE_TRY(read_vocab_object(JsonRef::root(vocab.value(), vocab_path), d));

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
