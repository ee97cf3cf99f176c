// byte_level.h — GPT-2's byte-to-character mapping. Byte-level BPE vocabularies never hold raw bytes:
// each byte stands for one printable character (printable ASCII and Latin-1 bytes for themselves, the
// other 68 bytes for U+0100 onwards, in byte order), so "Ġ" (U+0120) in a token is a space.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace kvscope {

struct ByteLevelAlphabet {
    std::array<std::string, 256> byte_to_utf8;   // byte -> its character, UTF-8 encoded
    std::array<int16_t, 324> codepoint_to_byte;  // code point (< 324) -> byte, or -1 when not in the alphabet

    static const ByteLevelAlphabet& get();
    // The byte a character stands for, or -1.
    int byte_of(uint32_t codepoint) const {
        return codepoint < codepoint_to_byte.size() ? codepoint_to_byte[codepoint] : -1;
    }
};

}  // namespace kvscope
