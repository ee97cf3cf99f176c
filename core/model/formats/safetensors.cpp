#include "model/formats/safetensors.h"

#include <algorithm>
#include <cstring>

#include "model/dtype.h"
#include "util/json_value.h"
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

static Result<SafetensorsFile> open_safetensors_unguarded(const std::string& path) {
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

    auto parsed = parse_json(std::string_view(reinterpret_cast<const char*>(file->data()) + 8, header_len),
                             path + ": the JSON header (bytes 8.." + std::to_string(data_begin) + ")");
    if (!parsed) return parsed.status();
    const JsonRef header = JsonRef::root(parsed.value(), path + ": header");
    KVSCOPE_TRY(header.expect_object());

    SafetensorsFile result;
    result.path = path;
    result.keepalive = file;
    for (const auto& [name, entry] : header.members()) {
        if (name == "__metadata__") continue;
        const std::string where = path + ": tensor '" + name + "'";
        KVSCOPE_TRY(entry.expect_object());
        SafetensorsEntry e;
        e.name = name;
        KVSCOPE_ASSIGN(e.dtype, entry["dtype"].string());
        const JsonRef shape_json = entry["shape"], offsets = entry["data_offsets"];
        KVSCOPE_TRY(shape_json.expect_array());
        if (!offsets.is_array() || offsets.size() != 2) return offsets.mismatch("a pair [begin, end]");
        // The element count must not wrap around 64 bits: a wrapped count could match a small byte range.
        uint64_t numel = 1;
        for (const JsonRef& d : shape_json.elements()) {
            int64_t dim = 0;
            KVSCOPE_ASSIGN(dim, d.integer(0, INT64_MAX));
            e.shape.push_back(dim);
            if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dim), &numel))
                return Status::error(where + ": shape " + shape_string(e.shape) +
                                     "... has more elements than 64 bits can count");
        }
        int64_t begin_signed = 0, end_signed = 0;
        KVSCOPE_ASSIGN(begin_signed, offsets[size_t{0}].integer(0, INT64_MAX));
        KVSCOPE_ASSIGN(end_signed, offsets[size_t{1}].integer(0, INT64_MAX));
        const uint64_t begin = static_cast<uint64_t>(begin_signed), end = static_cast<uint64_t>(end_signed);
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
        uint64_t need = 0;
        if (__builtin_mul_overflow(numel, static_cast<uint64_t>(eb), &need))
            return Status::error(where + ": " + e.dtype + " " + shape_string(e.shape) +
                                 " needs more bytes than 64 bits can count");
        if (end - begin != need)
            return Status::error(where + " needs " + std::to_string(need) + " bytes (" + e.dtype + " " +
                                 shape_string(e.shape) + "), data_offsets give " +
                                 std::to_string(end - begin));
        e.file_offset = data_begin + begin;
        e.data = file->data() + e.file_offset;
        e.nbytes = end - begin;
        result.entries.push_back(std::move(e));
    }

    // Two tensors sharing bytes (overlapping or aliased ranges) would make writing one change the other, and
    // no writer produces them: the safetensors format forbids it. Empty tensors own no bytes.
    std::vector<const SafetensorsEntry*> by_offset;
    for (const auto& e : result.entries)
        if (e.nbytes > 0) by_offset.push_back(&e);
    std::sort(by_offset.begin(), by_offset.end(), [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
        return a->file_offset < b->file_offset;
    });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        const SafetensorsEntry& a = *by_offset[i - 1];
        const SafetensorsEntry& b = *by_offset[i];
        if (b.file_offset < a.file_offset + a.nbytes) {
            auto range = [&](const SafetensorsEntry& e) {
                return "[" + std::to_string(e.file_offset - data_begin) + ", " +
                       std::to_string(e.file_offset - data_begin + e.nbytes) + "]";
            };
            return Status::error(path + ": tensors '" + a.name + "' (data_offsets " + range(a) + ") and '" +
                                 b.name + "' (data_offsets " + range(b) +
                                 ") share bytes; every tensor must have its own byte range");
        }
    }
    return result;
}

Result<SafetensorsFile> open_safetensors(const std::string& path) {
    return catch_exceptions(path, [&] { return open_safetensors_unguarded(path); });
}

Status read_safetensors(const std::string& path, TensorSource& source) {
    auto opened = open_safetensors(path);
    if (!opened) return opened.status();
    for (const auto& e : opened->entries) {
        auto dtype = dtype_from_safetensors(e.dtype);
        if (source.contains(e.name) || source.was_skipped(e.name))
            return Status::error(path + ": tensor '" + e.name + "' appears in more than one file");
        if (!dtype) {
            // Integer tensors are not weights; a model that needs one fails naming it, one that does not
            // reports it as unused.
            source.skip(e.name, e.dtype);
            continue;
        }
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
