#include "kvscope/writers.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "model/dtype.h"
#include "util/files.h"

namespace kvscope {

Status write_safetensors(const std::string& path, const std::vector<SafetensorsTensor>& tensors,
                         const std::map<std::string, std::string>& metadata) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& t : tensors) {
        if (t.dtype != DType::f32 && t.dtype != DType::f16 && t.dtype != DType::bf16)
            return Status::error(path + ": tensor '" + t.name +
                                 "': safetensors holds F32, F16 or BF16, not " + dtype_name(t.dtype));
        const uint64_t bytes = t.values.size() * dtype_block_bytes(t.dtype);
        header[t.name] = {
            {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text = header.dump();
    while ((8 + text.size()) % 8 != 0)
        text += ' ';  // keep the data section 8-byte aligned

    return write_file_atomically(path, [&](std::ostream& out) {
        const uint64_t n = text.size();
        out.write(reinterpret_cast<const char*>(&n), 8);
        out.write(text.data(), std::streamsize(text.size()));
        std::vector<uint16_t> half;
        for (const auto& t : tensors) {
            if (t.dtype == DType::f32) {
                out.write(reinterpret_cast<const char*>(t.values.data()),
                          std::streamsize(t.values.size() * 4));
            } else {
                half.resize(t.values.size());
                for (size_t i = 0; i < half.size(); ++i)
                    half[i] = t.dtype == DType::f16 ? f32_to_f16(t.values[i]) : f32_to_bf16(t.values[i]);
                out.write(reinterpret_cast<const char*>(half.data()), std::streamsize(half.size() * 2));
            }
        }
        return Status::ok();
    });
}

}  // namespace kvscope
