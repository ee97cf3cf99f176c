// tokenizer_impl.h — what the two tokenizer families share inside core/tokenizer: the vocabulary index and
// the constructors make_tokenizer() calls once it has checked the description.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kvscope/tokenizer.h"

namespace kvscope {

struct StringViewHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
// piece -> id; looked up with string_views into the text being encoded, without copies.
using TokenIndex = std::unordered_map<std::string, int32_t, StringViewHash, std::equal_to<>>;

// The type of token `id` in `data` (normal when token_types is empty).
inline TokenType type_of(const TokenizerData& data, int32_t id) {
    if (id < 0 || static_cast<size_t>(id) >= data.token_types.size()) return TokenType::normal;
    return static_cast<TokenType>(data.token_types[static_cast<size_t>(id)]);
}

// The byte a SentencePiece byte-fallback piece "<0xNN>" stands for, or -1.
int byte_piece_value(std::string_view piece);

// The start of every encode(): checks that `text` is UTF-8 (the error names the offset), applies the
// normalizer (keeping the normalized copy in `storage`) and puts BOS in `ids` when add_special and the
// model asks for it. Returns the text to tokenize.
Result<std::string_view> begin_encode(const TokenizerData& data, std::string_view text, bool add_special,
                                      std::string& storage, std::vector<int32_t>& ids);

// Both assume make_tokenizer's checks passed (ids in range, types valid, scores sized).
Result<std::shared_ptr<const Tokenizer>> make_byte_bpe_tokenizer(TokenizerData data);
Result<std::shared_ptr<const Tokenizer>> make_sentencepiece_tokenizer(TokenizerData data);

}  // namespace kvscope
