// A Hugging Face config.json: every key through the checked JSON accessor, then the config's own checks.
#include "fuzz_common.h"
#include "model/formats/hf_folder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto config = kvscope::parse_hf_config(text, "config.json");
    kvscope::fuzz::check_error(config);
    return 0;
}
