// utf8.h — the few UTF-8 facts the tokenizers need: validating text and finding where a complete
// character ends. (Unicode classes themselves come from PCRE2, never from hand-written tables.)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kvscope {

// Length of the UTF-8 sequence starting at s[i] if it is complete and valid, 0 if it is invalid, and
// −1 if it is a valid but unfinished prefix (more bytes may complete it).
int utf8_sequence_length(std::string_view s, size_t i);
// Byte offset of the first invalid sequence, or npos when `s` is valid UTF-8.
size_t utf8_first_invalid(std::string_view s);
// Replaces invalid sequences with U+FFFD; with hold_incomplete, an unfinished tail is left in `rest`
// instead of replaced.
std::string utf8_sanitize(std::string_view s, bool hold_incomplete, std::string* rest);

}  // namespace kvscope
