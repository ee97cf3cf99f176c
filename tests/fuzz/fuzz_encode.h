// fuzz_encode.h — what the encoder targets (bpe_encode, spm_encode) share: a reference tokenizer loaded
// once, and the checks every input must pass. Invalid UTF-8 is an error with a message, valid text is
// accepted, and every id is in the vocabulary; each target then checks the round trip its format promises.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "fuzz_common.h"
#include "kvscope/tokenizer.h"

namespace kvscope::fuzz {

// A tokenizer from ../shared/fixtures, or an abort saying why.
inline std::shared_ptr<const Tokenizer> fixture_tokenizer(const std::string& relative) {
    auto tok = load_tokenizer(fixture(relative));
    if (!tok) {
        std::fprintf(stderr, "fuzz: %s\n", tok.message().c_str());
        std::abort();
    }
    return tok.value();
}

// The ids of `text`, or nothing when it was (rightly) refused; aborts on any broken promise.
inline std::optional<std::vector<int32_t>> encode_checked(const Tokenizer& tokenizer, std::string_view text) {
    auto ids = tokenizer.encode(text, false);
    check_error(ids);
    const bool valid = is_valid_utf8(text);
    if (ids.is_ok() != valid) {
        std::fprintf(stderr, "fuzz: encode %s valid=%d\n", ids.is_ok() ? "accepted" : "refused", valid);
        std::abort();
    }
    if (!ids) return std::nullopt;
    for (int32_t id : ids.value())
        if (id < 0 || id >= tokenizer.vocab_size()) std::abort();
    return std::move(ids.value());
}

}  // namespace kvscope::fuzz
