// The SentencePiece BPE encoder (Llama 2's real tokenizer.model) on arbitrary bytes. Invalid UTF-8 must be
// an error; ids must be in the vocabulary, and valid text must decode back to itself (byte fallback covers
// every character; the dummy prefix space is removed again by the decoder; a literal ▁ comes back as a
// space, as in sentencepiece).
#include "fuzz_encode.h"

namespace {
std::shared_ptr<const kvscope::Tokenizer> g_tokenizer;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_tokenizer = kvscope::fuzz::fixture_tokenizer("tokenizers/llama2/tokenizer.model");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto ids = kvscope::fuzz::encode_checked(*g_tokenizer, text);
    if (!ids) return 0;
    // SentencePiece writes a space as U+2581 (▁) and turns every ▁ back into a space when decoding, so a ▁
    // in the text comes back as a space (as in sentencepiece itself): that is the one expected change.
    std::string expected(text);
    for (size_t at = expected.find("\xE2\x96\x81"); at != std::string::npos;
         at = expected.find("\xE2\x96\x81", at))
        expected.replace(at, 3, " ");
    if (g_tokenizer->decode(*ids) != expected) {
        std::fprintf(stderr, "fuzz: decode(encode(text)) differs from the text (U+2581 read as a space)\n");
        std::abort();
    }
    return 0;
}
