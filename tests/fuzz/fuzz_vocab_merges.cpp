// GPT-2's vocab.json + merges.txt. The input is both files: vocab.json up to the first NUL byte, merges.txt
// after it (no NUL: an empty merges.txt).
#include <cstring>

#include "fuzz_common.h"
#include "kvscope/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
    const size_t vocab_size = nul ? size_t(nul - data) : size;
    const std::string vocab = kvscope::fuzz::write_input(data, vocab_size, "vocab.json");
    if (nul)
        kvscope::fuzz::write_input(nul + 1, size - vocab_size - 1, "merges.txt");
    else
        kvscope::fuzz::write_input(data, 0, "merges.txt");
    auto tokenizer = kvscope::load_tokenizer(vocab);
    kvscope::fuzz::check_error(tokenizer);
    if (tokenizer) {
        auto ids = tokenizer.value()->encode("Hello, world! <|endoftext|> 12345 caf\xC3\xA9", true);
        if (ids) (void)tokenizer.value()->decode(ids.value());
    }
    return 0;
}
