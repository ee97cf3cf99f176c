// utf8.h — the few UTF-8 facts the tokenizers need: validating text, finding where a complete character
// ends, and replacing invalid bytes the way Python's and Rust's lossy decoders do. (Unicode classes come
// from PCRE2 and normalization from ICU, never from hand-written tables.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kvscope/status.h"

namespace kvscope {

struct Utf8Sequence {
    enum class Kind { valid, invalid, truncated };
    Kind kind;
    // valid: the character's length; invalid: the maximal subpart to replace by one U+FFFD (Unicode's
    // "best practice", 1 to 3 bytes); truncated: the bytes of a valid prefix that the string ends inside.
    int length;
};

// Classifies the UTF-8 sequence that starts at s[i] (i < s.size()). Rules out overlongs, surrogates and
// code points above U+10FFFF.
Utf8Sequence utf8_sequence_at(std::string_view s, size_t i);
// Byte offset of the first invalid (or truncated) sequence, or npos when `s` is valid UTF-8.
size_t utf8_first_invalid(std::string_view s);
// Replaces each maximal invalid subpart with U+FFFD; with hold_incomplete, a truncated tail is left in
// `rest` (which may be null) instead of being replaced.
std::string utf8_sanitize(std::string_view s, bool hold_incomplete, std::string* rest);
// Appends code point `cp` (≤ U+10FFFF, not a surrogate) as UTF-8.
void utf8_append(std::string& out, uint32_t cp);
// Decodes the valid UTF-8 character at s[i]; `length` receives its byte count.
uint32_t utf8_decode_at(std::string_view s, size_t i, int* length);
// Ok when `text` is valid UTF-8; otherwise an error naming the byte offset and the bytes found there
// ("prompt is not valid UTF-8: byte 0xFF at offset 5 cannot start a character").
Status utf8_check_text(std::string_view text, const char* what = "prompt");

}  // namespace kvscope
