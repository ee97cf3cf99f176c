#include "tokenizer/normalize.h"

#if KVSCOPE_HAVE_ICU
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#endif

#include <limits>
#include <vector>

namespace kvscope {

#if !KVSCOPE_HAVE_ICU
Result<std::string> normalize_nfc(std::string_view) {
    return Status::error(
        "this tokenizer asks for Unicode NFC normalization, and this KVScope was built "
        "without ICU (install libicu-dev and rebuild)");
}
#else
namespace {

Status icu_error(const char* step, UErrorCode code) {
    return Status::error(std::string("Unicode normalization (ICU ") + step +
                         ") failed: " + u_errorName(code));
}

}  // namespace

Result<std::string> normalize_nfc(std::string_view text) {
    if (text.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2))
        return Status::error("Unicode normalization: a " + std::to_string(text.size()) +
                             "-byte text is longer than ICU handles in one piece");
    UErrorCode code = U_ZERO_ERROR;
    const UNormalizer2* nfc = unorm2_getNFCInstance(&code);
    if (U_FAILURE(code)) return icu_error("NFC instance", code);

    int32_t utf16_length = 0;
    code = U_ZERO_ERROR;
    u_strFromUTF8(nullptr, 0, &utf16_length, text.data(), static_cast<int32_t>(text.size()), &code);
    if (code != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(code)) return icu_error("UTF-8 to UTF-16", code);
    std::vector<UChar> utf16(static_cast<size_t>(utf16_length) + 1);
    code = U_ZERO_ERROR;
    u_strFromUTF8(utf16.data(), utf16_length + 1, nullptr, text.data(), static_cast<int32_t>(text.size()),
                  &code);
    if (U_FAILURE(code)) return icu_error("UTF-8 to UTF-16", code);

    code = U_ZERO_ERROR;
    if (unorm2_isNormalized(nfc, utf16.data(), utf16_length, &code) && U_SUCCESS(code))
        return std::string(text);

    code = U_ZERO_ERROR;
    const int32_t needed = unorm2_normalize(nfc, utf16.data(), utf16_length, nullptr, 0, &code);
    if (code != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(code)) return icu_error("normalize", code);
    std::vector<UChar> normalized(static_cast<size_t>(needed) + 1);
    code = U_ZERO_ERROR;
    unorm2_normalize(nfc, utf16.data(), utf16_length, normalized.data(), needed + 1, &code);
    if (U_FAILURE(code)) return icu_error("normalize", code);

    int32_t utf8_length = 0;
    code = U_ZERO_ERROR;
    u_strToUTF8(nullptr, 0, &utf8_length, normalized.data(), needed, &code);
    if (code != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(code)) return icu_error("UTF-16 to UTF-8", code);
    std::string out(static_cast<size_t>(utf8_length) + 1, '\0');
    code = U_ZERO_ERROR;
    u_strToUTF8(out.data(), utf8_length + 1, nullptr, normalized.data(), needed, &code);
    if (U_FAILURE(code)) return icu_error("UTF-16 to UTF-8", code);
    out.resize(static_cast<size_t>(utf8_length));
    return out;
}

#endif

}  // namespace kvscope
