// A Hugging Face tokenizer.json, loaded and (when it loads) used on a fixed text.
#include "fuzz_common.h"
#include "kvscope/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = kvscope::fuzz::write_input(data, size, "tokenizer.json");
    auto tokenizer = kvscope::load_tokenizer(path);
    kvscope::fuzz::check_error(tokenizer);
    if (tokenizer) {
        auto ids =
            tokenizer.value()->encode("Hello, world! <|endoftext|> 12345 caf\xC3\xA9 \xF0\x9F\x98\x80", true);
        if (ids) (void)tokenizer.value()->decode(ids.value());
    }
    return 0;
}
