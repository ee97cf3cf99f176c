#include "tokenizer/utf8.h"

namespace kvscope {

Utf8Sequence utf8_sequence_at(std::string_view s, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char lead = byte(i);
    if (lead < 0x80) return {Utf8Sequence::Kind::valid, 1};
    int len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte (rules out overlongs, surrogates)
    if (lead >= 0xC2 && lead <= 0xDF)
        len = 2;
    else if (lead == 0xE0)
        len = 3, lo = 0xA0;
    else if (lead >= 0xE1 && lead <= 0xEC)
        len = 3;
    else if (lead == 0xED)
        len = 3, hi = 0x9F;
    else if (lead >= 0xEE && lead <= 0xEF)
        len = 3;
    else if (lead == 0xF0)
        len = 4, lo = 0x90;
    else if (lead >= 0xF1 && lead <= 0xF3)
        len = 4;
    else if (lead == 0xF4)
        len = 4, hi = 0x8F;
    else
        return {Utf8Sequence::Kind::invalid, 1};
    for (int k = 1; k < len; ++k) {
        if (i + k >= s.size()) return {Utf8Sequence::Kind::truncated, k};
        const unsigned char c = byte(i + k);
        const bool ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
        // The bytes so far are a valid prefix that the next byte does not continue: they are one subpart.
        if (!ok) return {Utf8Sequence::Kind::invalid, k};
    }
    return {Utf8Sequence::Kind::valid, len};
}

size_t utf8_first_invalid(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const Utf8Sequence seq = utf8_sequence_at(s, i);
        if (seq.kind != Utf8Sequence::Kind::valid) return i;
        i += static_cast<size_t>(seq.length);
    }
    return std::string_view::npos;
}

std::string utf8_sanitize(std::string_view s, bool hold_incomplete, std::string* rest) {
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(s.size());
    if (rest) rest->clear();
    for (size_t i = 0; i < s.size();) {
        const Utf8Sequence seq = utf8_sequence_at(s, i);
        if (seq.kind == Utf8Sequence::Kind::valid) {
            out.append(s.substr(i, static_cast<size_t>(seq.length)));
        } else if (seq.kind == Utf8Sequence::Kind::truncated && hold_incomplete) {
            if (rest) *rest = std::string(s.substr(i));
            break;
        } else {
            out += kReplacement;
        }
        i += static_cast<size_t>(seq.length);
    }
    return out;
}

void utf8_append(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

uint32_t utf8_decode_at(std::string_view s, size_t i, int* length) {
    const Utf8Sequence seq = utf8_sequence_at(s, i);
    const auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[k])); };
    if (length) *length = seq.length;
    if (seq.kind != Utf8Sequence::Kind::valid) return 0xFFFD;
    switch (seq.length) {
        case 1:
            return byte(i);
        case 2:
            return ((byte(i) & 0x1F) << 6) | (byte(i + 1) & 0x3F);
        case 3:
            return ((byte(i) & 0x0F) << 12) | ((byte(i + 1) & 0x3F) << 6) | (byte(i + 2) & 0x3F);
        default:
            return ((byte(i) & 0x07) << 18) | ((byte(i + 1) & 0x3F) << 12) | ((byte(i + 2) & 0x3F) << 6) |
                   (byte(i + 3) & 0x3F);
    }
}

Status utf8_check_text(std::string_view text, const char* what) {
    const size_t at = utf8_first_invalid(text);
    if (at == std::string_view::npos) return Status::ok();
    static const char* digits = "0123456789ABCDEF";
    const Utf8Sequence seq = utf8_sequence_at(text, at);
    std::string bytes;
    for (int k = 0; k < seq.length; ++k) {
        const auto b = static_cast<unsigned char>(text[at + static_cast<size_t>(k)]);
        bytes += (k ? " 0x" : "0x");
        bytes += digits[b >> 4];
        bytes += digits[b & 15];
    }
    const bool one = seq.length == 1;
    std::string why;
    if (seq.kind == Utf8Sequence::Kind::truncated)
        why = one ? " begins a character that the text ends inside"
                  : " begin a character that the text ends inside";
    else if (one)
        why = " cannot start a character";
    else
        why = " begin a character that the next byte does not continue";
    return Status::error(std::string(what) + " is not valid UTF-8: " + (one ? "byte " : "bytes ") + bytes +
                         " at offset " + std::to_string(at) + why);
}

}  // namespace kvscope
