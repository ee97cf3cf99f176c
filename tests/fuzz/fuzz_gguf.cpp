// GGUF: the header, metadata, tensor infos, the model built from them and the tokenizer in the header.
#include "fuzz_common.h"
#include "kvscope/model.h"
#include "kvscope/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = kvscope::fuzz::write_input(data, size, "model.gguf");
    auto model = kvscope::load_model(path);
    kvscope::fuzz::check_error(model);
    auto tokenizer = kvscope::load_tokenizer(path);
    kvscope::fuzz::check_error(tokenizer);
    if (tokenizer) {
        auto ids = tokenizer.value()->encode("Hello, world! 12345 \xC3\xA9", true);
        if (ids) (void)tokenizer.value()->decode(ids.value());
    }
    return 0;
}
