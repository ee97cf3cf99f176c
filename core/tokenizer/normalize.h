// normalize.h — Unicode normalization of a prompt before tokenizing (Qwen2's tokenizer.json asks for NFC),
// through ICU.
#pragma once

#include <string>
#include <string_view>

#include "kvscope/status.h"

namespace kvscope {

// `text` (valid UTF-8) in Normalization Form C; unchanged text is returned as is without a copy through
// UTF-16 when ICU's quick check already says it is NFC.
Result<std::string> normalize_nfc(std::string_view text);

}  // namespace kvscope
