#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace kvscope {

// The models' own patterns, as their tokenizer.json files write them.
const char* const kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kDigitsIndividualRegex = R"(\p{N})";
const char* const kDigitsRunRegex = R"(\p{N}+)";

namespace {

// Qwen2 / Qwen2.5 (and StableLM 2): one digit per word.
const char* const kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Llama 3 (cl100k-style): up to three digits per word.
const char* const kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Oniguruma's \s is Unicode's White_Space property. PCRE2's \s (with UCP) adds U+180E, which it keeps in
// its horizontal-space list though Unicode 6.3 made it a format character. Only escapes are rewritten, so
// "\\s" (a backslash then 's') stays as written.
std::string oniguruma_compatible(const std::string& pattern) {
    std::string out;
    out.reserve(pattern.size() + 32);
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '\\' && i + 1 < pattern.size()) {
            const char next = pattern[++i];
            if (next == 's')
                out += "\\p{White_Space}";
            else if (next == 'S')
                out += "\\P{White_Space}";
            else
                (out += '\\') += next;
        } else {
            out += pattern[i];
        }
    }
    return out;
}

}  // namespace

const std::vector<PreTokenizerSpec>& pre_tokenizer_specs() {
    static const std::vector<PreTokenizerSpec> specs = {
        {{"gpt-2", "gpt2", "", "phi-2", "mpt", "olmo"}, {kGpt2Regex}, false},
        {{"qwen2", "deepseek-r1-qwen", "stablelm2"}, {kQwen2Regex}, false},
        {{"llama-bpe", "llama3", "llama-v3", "falcon3"}, {kLlama3Regex}, true},
        {{"smollm", "starcoder", "refact", "codeshell"}, {kDigitsIndividualRegex, kGpt2Regex}, false},
    };
    return specs;
}

const PreTokenizerSpec* find_pre_tokenizer(std::string_view name) {
    for (const auto& spec : pre_tokenizer_specs())
        for (const auto& n : spec.names)
            if (n == name) return &spec;
    return nullptr;
}

std::vector<std::string> supported_pre_tokenizers() {
    std::vector<std::string> names;
    for (const auto& spec : pre_tokenizer_specs())
        for (const auto& n : spec.names)
            if (!n.empty()) names.push_back(n);
    return names;
}

struct RegexSplitter::Compiled {
    pcre2_code* code = nullptr;
    std::string pattern;
    ~Compiled() { pcre2_code_free(code); }
};

RegexSplitter::~RegexSplitter() = default;

Result<std::unique_ptr<RegexSplitter>> RegexSplitter::compile(const std::vector<std::string>& regexes) {
    std::unique_ptr<RegexSplitter> splitter(new RegexSplitter());
    for (const auto& pattern : regexes) {
        auto compiled = std::make_unique<Compiled>();
        compiled->pattern = pattern;
        const std::string translated = oniguruma_compatible(pattern);
        int error = 0;
        PCRE2_SIZE error_offset = 0;
        compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                       PCRE2_UTF | PCRE2_UCP, &error, &error_offset, nullptr);
        if (!compiled->code) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(error, message, sizeof message);
            return Status::error("pre-tokenizer regex \"" + pattern +
                                 "\" does not compile (PCRE2, at offset " + std::to_string(error_offset) +
                                 " of \"" + translated + "\"): " + reinterpret_cast<const char*>(message));
        }
        // JIT is an optimisation only: without it (no JIT support on this CPU) matching is merely slower.
        pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);
        splitter->m_regexes.push_back(std::move(compiled));
    }
    return splitter;
}

Status RegexSplitter::split_one(const Compiled& re, std::string_view piece,
                                std::vector<std::string_view>& out) const {
    pcre2_match_data* match = pcre2_match_data_create_from_pattern(re.code, nullptr);
    if (!match) return Status::error("pre-tokenizer: out of memory for PCRE2 match data");
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
    size_t gap_start = 0, offset = 0;
    Status status;
    while (offset < piece.size()) {
        int rc = pcre2_match(re.code, subject, piece.size(), offset, PCRE2_NO_UTF_CHECK, match, nullptr);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT)  // the interpreter's stack is the heap: try it before giving up
            rc = pcre2_match(re.code, subject, piece.size(), offset, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, match,
                             nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(rc, message, sizeof message);
            status = Status::error("pre-tokenizer regex \"" + re.pattern + "\" failed at byte " +
                                   std::to_string(offset) + " of a " + std::to_string(piece.size()) +
                                   "-byte piece: " + reinterpret_cast<const char*>(message));
            break;
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match);
        const size_t begin = ov[0], end = ov[1];
        if (begin > gap_start) out.push_back(piece.substr(gap_start, begin - gap_start));
        if (end > begin) {
            out.push_back(piece.substr(begin, end - begin));
            offset = end;
        } else {
            // An empty match splits nothing; step over one whole character so matching moves on.
            offset = begin + 1;
            while (offset < piece.size() && (static_cast<unsigned char>(piece[offset]) & 0xC0) == 0x80)
                ++offset;
            if (begin > gap_start) gap_start = begin;
            continue;
        }
        gap_start = end;
    }
    if (status && gap_start < piece.size()) out.push_back(piece.substr(gap_start));
    pcre2_match_data_free(match);
    return status;
}

Status RegexSplitter::split(std::string_view text, std::vector<std::string_view>& words) const {
    if (text.empty()) return Status::ok();
    std::vector<std::string_view> current{text}, next;
    for (const auto& re : m_regexes) {
        next.clear();
        for (std::string_view piece : current)
            KVSCOPE_TRY(split_one(*re, piece, next));
        current.swap(next);
    }
    words.insert(words.end(), current.begin(), current.end());
    return Status::ok();
}

}  // namespace kvscope
