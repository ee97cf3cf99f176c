#include "tokenizer/byte_level.h"

#include "tokenizer/utf8.h"

namespace kvscope {

const ByteLevelAlphabet& ByteLevelAlphabet::get() {
    static const ByteLevelAlphabet alphabet = [] {
        ByteLevelAlphabet a;
        a.codepoint_to_byte.fill(-1);
        // Bytes GPT-2 kept as themselves: '!'..'~', '¡'..'¬', '®'..'ÿ'. The rest (controls, space, DEL,
        // NBSP, soft hyphen) are shifted to U+0100 + n in byte order, so no token holds whitespace.
        const auto kept = [](int b) {
            return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        };
        uint32_t next_shifted = 0x100;
        for (int b = 0; b < 256; ++b) {
            const uint32_t cp = kept(b) ? static_cast<uint32_t>(b) : next_shifted++;
            utf8_append(a.byte_to_utf8[static_cast<size_t>(b)], cp);
            a.codepoint_to_byte[cp] = static_cast<int16_t>(b);
        }
        return a;
    }();
    return alphabet;
}

}  // namespace kvscope
