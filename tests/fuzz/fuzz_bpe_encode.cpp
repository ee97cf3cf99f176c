// The byte-level BPE encoder (GPT-2's real vocabulary) on arbitrary bytes. Invalid UTF-8 must be an error;
// valid text must decode back to itself (byte-level BPE loses nothing, and GPT-2 has no normalizer), except
// where it names a special token, which is matched whole and prints as nothing.
#include <cstring>

#include "fuzz_common.h"
#include "kvscope/tokenizer.h"

namespace {
std::shared_ptr<const kvscope::Tokenizer> g_tokenizer;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    auto tok = kvscope::load_tokenizer(kvscope::fuzz::fixture("tokenizers/gpt2/tokenizer.json"));
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
    if (text.find("<|endoftext|>") == std::string_view::npos && g_tokenizer->decode(ids.value()) != text) {
        std::fprintf(stderr, "fuzz: decode(encode(text)) differs from the text\n");
        std::abort();
    }
    return 0;
}
