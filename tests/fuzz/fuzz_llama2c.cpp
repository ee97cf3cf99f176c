// A llama2.c checkpoint (legacy and version-1 headers, then the weights the header promises).
#include "fuzz_common.h"
#include "kvscope/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = kvscope::fuzz::write_input(data, size, "model.bin");
    auto model = kvscope::load_model(path);
    kvscope::fuzz::check_error(model);
    return 0;
}
