#include "tokenizer/utf8.h"

namespace kvscope {

int utf8_sequence_length(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    if (c < 0x80) return 1;
    int len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte (rules out overlongs, surrogates)
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c == 0xE0)
        len = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC)
        len = 3;
    else if (c == 0xED)
        len = 3, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF)
        len = 3;
    else if (c == 0xF0)
        len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3)
        len = 4;
    else if (c == 0xF4)
        len = 4, hi = 0x8F;
    else
        return 0;
    for (int k = 1; k < len; ++k) {
        if (i + k >= s.size()) return -1;
        const unsigned char cc = b(i + k);
        if (k == 1 ? (cc < lo || cc > hi) : (cc < 0x80 || cc > 0xBF)) return 0;
    }
    return len;
}

size_t utf8_first_invalid(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const int len = utf8_sequence_length(s, i);
        if (len <= 0) return i;
        i += static_cast<size_t>(len);
    }
    return std::string_view::npos;
}

std::string utf8_sanitize(std::string_view s, bool hold_incomplete, std::string* rest) {
    static const char kReplacement[] = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(s.size());
    if (rest) rest->clear();
    for (size_t i = 0; i < s.size();) {
        const int len = utf8_sequence_length(s, i);
        if (len > 0) {
            out.append(s.substr(i, static_cast<size_t>(len)));
            i += static_cast<size_t>(len);
        } else if (len < 0 && hold_incomplete) {
            if (rest) *rest = std::string(s.substr(i));
            break;
        } else {
            out += kReplacement;
            i += 1;
        }
    }
    return out;
}

}  // namespace kvscope
