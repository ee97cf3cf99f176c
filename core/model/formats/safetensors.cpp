#include "model/formats/safetensors.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "model/dtype.h"
#include "util/mapped_file.h"

namespace kvscope {

namespace {
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
}

namespace {
int element_bytes(const std::string& dtype) {
    if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
    if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
    if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
    if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype.rfind("F8", 0) == 0) return 1;
    return 0;
}
}  // namespace

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
    for (const auto& e : entries)
        if (e.name == name) return &e;
    return nullptr;
}

Result<SafetensorsFile> open_safetensors(const std::string& path) {
    auto mapped = MappedFile::open(path);
    if (!mapped) return mapped.status();
    std::shared_ptr<const MappedFile> file = mapped.value();
    const uint64_t size = file->size();
    if (size < 8)
        return Status::error(path + ": " + std::to_string(size) +
                             " bytes is too short for a safetensors file (needs an 8-byte header length)");
    uint64_t header_len = 0;
    std::memcpy(&header_len, file->data(), 8);
    if (header_len > kMaxHeaderBytes || header_len > size - 8)
        return Status::error(path + ": header length " + std::to_string(header_len) +
                             " at offset 0 runs past the end of the " + std::to_string(size) +
                             "-byte file (truncated, or not a safetensors file)");
    const uint64_t data_begin = 8 + header_len;
    const uint64_t data_size = size - data_begin;

    nlohmann::json header;
    try {
        header = nlohmann::json::parse(file->data() + 8, file->data() + data_begin);
    } catch (const nlohmann::json::exception& e) {
        return Status::error(path + ": the JSON header (bytes 8.." + std::to_string(data_begin) +
                             ") does not parse: " + e.what());
    }
    if (!header.is_object()) return Status::error(path + ": the JSON header is not an object");

    SafetensorsFile result;
    result.path = path;
    result.keepalive = file;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        if (name == "__metadata__") continue;
        const auto& entry = it.value();
        const std::string where = path + ": tensor '" + name + "'";
        if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
            !entry.contains("data_offsets"))
            return Status::error(where + " lacks dtype, shape or data_offsets");
        if (!entry["dtype"].is_string()) return Status::error(where + ": dtype is not a string");
        const auto& shape_json = entry["shape"];
        const auto& offsets = entry["data_offsets"];
        if (!shape_json.is_array() || !offsets.is_array() || offsets.size() != 2)
            return Status::error(where + ": shape must be an array and data_offsets a pair");
        SafetensorsEntry e;
        e.name = name;
        e.dtype = entry["dtype"].get<std::string>();
        uint64_t numel = 1;
        for (const auto& d : shape_json) {
            if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > (int64_t{1} << 40))
                return Status::error(where + ": shape has an invalid dimension " + d.dump());
            e.shape.push_back(d.get<int64_t>());
            numel *= static_cast<uint64_t>(e.shape.back());
        }
        if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
            return Status::error(where + ": data_offsets must be non-negative integers");
        const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
        if (end < begin)
            return Status::error(where + ": data_offsets [" + std::to_string(begin) + ", " +
                                 std::to_string(end) + "] end before they begin");
        if (end > data_size)
            return Status::error(where + ": data_offsets [" + std::to_string(begin) + ", " +
                                 std::to_string(end) + "] point past the end of the data section (" +
                                 std::to_string(data_size) + " bytes: file offset " +
                                 std::to_string(data_begin + end) + " > file size " + std::to_string(size) +
                                 ")");
        const int eb = element_bytes(e.dtype);
        if (eb == 0) return Status::error(where + ": unknown dtype '" + e.dtype + "'");
        if (end - begin != numel * eb)
            return Status::error(where + " needs " + std::to_string(numel * eb) + " bytes (" + e.dtype + " " +
                                 shape_string(e.shape) + "), data_offsets give " +
                                 std::to_string(end - begin));
        e.file_offset = data_begin + begin;
        e.data = file->data() + e.file_offset;
        e.nbytes = end - begin;
        result.entries.push_back(std::move(e));
    }
    return result;
}

Status read_safetensors(const std::string& path, TensorSource& source) {
    auto opened = open_safetensors(path);
    if (!opened) return opened.status();
    for (const auto& e : opened->entries) {
        auto dtype = dtype_from_safetensors(e.dtype);
        if (!dtype) continue;  // integer tensors are not weights; a model that needs one fails naming it
        if (source.contains(e.name))
            return Status::error(path + ": tensor '" + e.name + "' appears in more than one file");
        RawTensor raw;
        raw.name = e.name;
        raw.file = path;
        raw.file_offset = e.file_offset;
        raw.dtype = *dtype;
        raw.shape = e.shape;
        raw.data = e.data;
        raw.nbytes = e.nbytes;
        raw.keepalive = opened->keepalive;
        source.add(std::move(raw));
    }
    return Status::ok();
}

}  // namespace kvscope
