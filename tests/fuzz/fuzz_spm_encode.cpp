// The SentencePiece BPE encoder (Llama 2's real tokenizer.model) on arbitrary bytes. Invalid UTF-8 must be
// an error; ids must be in the vocabulary, and valid text must decode back to itself (byte fallback covers
// every character; the dummy prefix space is removed again by the decoder; a literal ▁ comes back as a
// space, as in sentencepiece).
#include "fuzz_common.h"
#include "kvscope/tokenizer.h"

namespace {
std::shared_ptr<const kvscope::Tokenizer> g_tokenizer;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    auto tok = kvscope::load_tokenizer(kvscope::fuzz::fixture("tokenizers/llama2/tokenizer.model"));
    if (!tok) {
        std::fprintf(stderr, "fuzz: %s\n", tok.message().c_str());
        std::abort();
    }
    g_tokenizer = tok.value();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto ids = g_tokenizer->encode(text, false);
    kvscope::fuzz::check_error(ids);
    const bool valid = kvscope::is_valid_utf8(text);
    if (ids.is_ok() != valid) {
        std::fprintf(stderr, "fuzz: encode %s valid=%d\n", ids.is_ok() ? "accepted" : "refused", valid);
        std::abort();
    }
    if (!ids) return 0;
    for (int32_t id : ids.value())
        if (id < 0 || id >= g_tokenizer->vocab_size()) std::abort();
    // SentencePiece writes a space as U+2581 (▁) and turns every ▁ back into a space when decoding, so a ▁
    // in the text comes back as a space (as in sentencepiece itself): that is the one expected change.
    std::string expected(text);
    for (size_t at = expected.find("\xE2\x96\x81"); at != std::string::npos;
         at = expected.find("\xE2\x96\x81", at))
        expected.replace(at, 3, " ");
    if (g_tokenizer->decode(ids.value()) != expected) {
        std::fprintf(stderr, "fuzz: decode(encode(text)) differs from the text (U+2581 read as a space)\n");
        std::abort();
    }
    return 0;
}
