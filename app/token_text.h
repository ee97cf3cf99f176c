// token_text.h — how a token is written on screen: its text with whitespace made visible, or #id for
// models without a tokenizer. Bytes that are not valid UTF-8 on their own (half of a multi-byte
// character) are shown as <0xNN>.
#pragma once

#include <QString>
#include <cstdint>

#include "kvscope/tokenizer.h"

namespace kvscope::app {

// The chip text: "·the", "↵", "#42".
QString tokenLabel(const Tokenizer* tokenizer, int32_t id, bool first = false);
// For sentences and tooltips: “ the” (quoted, whitespace visible) and the id: “·the” (#262).
QString tokenQuoted(const Tokenizer* tokenizer, int32_t id, bool first = false);

}  // namespace kvscope::app
