// tokenizer.cpp — what every tokenizer shares: token types, whole-sequence decode and streaming decode.
#include "kvscope/tokenizer.h"

#include "tokenizer/normalize.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace kvscope {

TokenType Tokenizer::token_type(int32_t id) const {
    return type_of(m_data, id);
}

bool is_valid_utf8(std::string_view bytes) {
    return utf8_first_invalid(bytes) == std::string_view::npos;
}

Result<std::string_view> begin_encode(const TokenizerData& data, std::string_view text, bool add_special,
                                      std::string& storage, std::vector<int32_t>& ids) {
    KVSCOPE_TRY(utf8_check_text(text));
    if (data.normalizer == "nfc") {
        auto normalized = normalize_nfc(text);
        if (!normalized) return normalized.status();
        storage = std::move(normalized.value());
        text = storage;
    }
    if (add_special && data.add_bos) ids.push_back(data.bos_id);
    return text;
}

// Whether the token after `id` is still the first of the text: only control tokens (BOS) leave it so. As in
// sentencepiece's decoder, a lone "▁" that lost its space as the first piece ends the start too, so
// "▁" "▁x" decodes to " x".
static bool still_first(const Tokenizer& tokenizer, int32_t id) {
    return tokenizer.token_type(id) == TokenType::control;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
    std::string bytes;
    bool first = true;
    for (int32_t id : ids) {
        bytes += token_bytes(id, first);
        first = first && still_first(*this, id);
    }
    return utf8_sanitize(bytes, false, nullptr);
}

std::string StreamingDecoder::push(int32_t id) {
    std::string piece = m_tokenizer->token_bytes(id, m_first);
    m_first = m_first && still_first(*m_tokenizer, id);
    m_pending += piece;
    std::string rest;
    std::string out = utf8_sanitize(m_pending, true, &rest);
    m_pending = std::move(rest);
    return out;
}

std::string StreamingDecoder::flush() {
    std::string out = utf8_sanitize(m_pending, false, nullptr);
    m_pending.clear();
    return out;
}

void StreamingDecoder::reset() {
    m_pending.clear();
    m_first = true;
}

}  // namespace kvscope
