// A safetensors file: its 8-byte length, the JSON header and every tensor's byte range.
#include "fuzz_common.h"
#include "model/formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = kvscope::fuzz::write_input(data, size, "model.safetensors");
    kvscope::TensorSource source;
    source.where = path;
    const kvscope::Status st = kvscope::read_safetensors(path, source);
    if (!st && st.message().empty()) std::abort();
    // Every tensor read must lie inside the file: touch its first and last byte (ASan checks the mapping's
    // bounds only through the file size, so compare by hand too).
    for (const auto& [name, raw] : source.all()) {
        if (raw.nbytes == 0) continue;
        volatile uint8_t first = raw.data[0], last = raw.data[raw.nbytes - 1];
        (void)first;
        (void)last;
        if (raw.file_offset + raw.nbytes > size) std::abort();
    }
    return 0;
}
