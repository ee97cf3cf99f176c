// pretokenizer.h — splitting text into words before byte-level BPE, as Hugging Face tokenizers does.
//
// A pre-tokenizer is a chain of regexes. The first splits the whole text into its matches and the gaps
// between them (HF's Split with behaviour "Isolated": both kept, in order); each later regex splits every
// piece of the one before. Merges never cross a word boundary, which is why the split decides the ids.
// Patterns are the models' own (from their tokenizer.json), compiled by PCRE2 with UTF and UCP so \p{L},
// \p{N} and friends follow Unicode; `\s` is read as Oniguruma (HF's engine) reads it, i.e. the Unicode
// White_Space property (PCRE2's own \s also takes U+180E).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kvscope/status.h"

namespace kvscope {

// A pre-tokenizer known by its llama.cpp name (GGUF tokenizer.ggml.pre).
struct PreTokenizerSpec {
    std::vector<std::string> names;    // canonical name first, then aliases
    std::vector<std::string> regexes;  // applied in order, each splitting the pieces of the one before
    bool ignore_merges = false;        // a word that is itself a token skips the merges (Llama 3)
};

const std::vector<PreTokenizerSpec>& pre_tokenizer_specs();
// The spec named `name` (canonical or alias), or null.
const PreTokenizerSpec* find_pre_tokenizer(std::string_view name);

// The regex GPT-2's ByteLevel pre-tokenizer splits with when use_regex is on.
extern const char* const kGpt2Regex;
// HF's Digits pre-tokenizer: each digit alone (individual_digits) or runs of digits.
extern const char* const kDigitsIndividualRegex;
extern const char* const kDigitsRunRegex;

class RegexSplitter {
  public:
    ~RegexSplitter();
    RegexSplitter(const RegexSplitter&) = delete;
    RegexSplitter& operator=(const RegexSplitter&) = delete;

    // Compiles the chain; the error names the pattern and PCRE2's message with its offset.
    static Result<std::unique_ptr<RegexSplitter>> compile(const std::vector<std::string>& regexes);
    // Splits `text` (valid UTF-8; not checked again) into non-empty words, appended to `words` as views
    // into `text`. Fails only if PCRE2 gives up (resource limits), naming the byte offset.
    Status split(std::string_view text, std::vector<std::string_view>& words) const;

  private:
    struct Compiled;
    RegexSplitter() = default;
    Status split_one(const Compiled& re, std::string_view piece, std::vector<std::string_view>& out) const;
    std::vector<std::unique_ptr<Compiled>> m_regexes;
};

}  // namespace kvscope
