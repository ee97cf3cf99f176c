// The byte-level BPE encoder (GPT-2's real vocabulary) on arbitrary bytes. Invalid UTF-8 must be an error;
// valid text must decode back to itself (byte-level BPE loses nothing, and GPT-2 has no normalizer), except
// where it names a special token, which is matched whole and prints as nothing.
#include "fuzz_encode.h"

namespace {
std::shared_ptr<const kvscope::Tokenizer> g_tokenizer;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_tokenizer = kvscope::fuzz::fixture_tokenizer("tokenizers/gpt2/tokenizer.json");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto ids = kvscope::fuzz::encode_checked(*g_tokenizer, text);
    if (!ids) return 0;
    if (text.find("<|endoftext|>") == std::string_view::npos && g_tokenizer->decode(*ids) != text) {
        std::fprintf(stderr, "fuzz: decode(encode(text)) differs from the text\n");
        std::abort();
    }
    return 0;
}
