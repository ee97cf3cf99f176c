// gguf.cpp — parsing and checking a GGUF file's header, metadata and tensor infos (layout in gguf.h).
#include "model/formats/gguf.h"

#include <bit>
#include <cassert>
#include <cstdio>
#include <cstring>
#include <limits>

#include "model/dtype.h"
#include "model/weight_builder.h"
#include "util/mapped_file.h"

namespace kvscope {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" as a little-endian u32
constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
constexpr int64_t kMaxElements = int64_t{1} << 53;

// ggml.h's enum ggml_type, by id; empty names are ids ggml has retired.
constexpr const char* kGgmlTypeNames[] = {
    "F32",    "F16",   "Q4_0",  "Q4_1",   "",      "",      "Q5_0",    "Q5_1",   "Q8_0",    "Q8_1",
    "Q2_K",   "Q3_K",  "Q4_K",  "Q5_K",   "Q6_K",  "Q8_K",  "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
    "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8",    "I16",   "I32",     "I64",    "F64",     "IQ1_M",
    "BF16",   "",      "",      "",       "TQ1_0", "TQ2_0", "",        "",       "",        "MXFP4",
};

// Reads little-endian fields from the mapping; every read is checked against the bytes left, and the
// message names the field, its offset and how many bytes were missing.
class Cursor {
  public:
    Cursor(const std::string& path, const uint8_t* data, uint64_t size)
        : m_path(path), m_data(data), m_size(size) {}

    uint64_t pos() const { return m_pos; }
    uint64_t left() const { return m_size - m_pos; }

    Status need(uint64_t n, const std::string& what) const {
        if (n <= left()) return Status::ok();
        return Status::error(m_path + ": " + what + " at offset " + std::to_string(m_pos) + " needs " +
                             std::to_string(n) + " bytes, but the " + std::to_string(m_size) +
                             "-byte file has only " + std::to_string(left()) + " left (truncated file?)");
    }
    template <typename T>
    Status read(T& out, const std::string& what) {
        KVSCOPE_TRY(need(sizeof(T), what));
        std::memcpy(&out, m_data + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return Status::ok();
    }
    Status read_string(std::string& out, const std::string& what) {
        uint64_t len = 0;
        KVSCOPE_TRY(read(len, what + " (length)"));
        if (len > left())
            return Status::error(m_path + ": " + what + " at offset " + std::to_string(m_pos - 8) +
                                 " says it is " + std::to_string(len) +
                                 " bytes long, past the end of the file (" + std::to_string(left()) +
                                 " bytes left)");
        out.assign(reinterpret_cast<const char*>(m_data + m_pos), static_cast<size_t>(len));
        m_pos += len;
        return Status::ok();
    }

  private:
    const std::string& m_path;
    const uint8_t* m_data;
    uint64_t m_size;
    uint64_t m_pos = 0;
};

// Fewest bytes one value of `type` can occupy: lets a count be checked against the file before
// anything is allocated for it.
uint64_t min_value_bytes(GgufType type) {
    switch (type) {
        case GgufType::uint8:
        case GgufType::int8:
        case GgufType::boolean:
            return 1;
        case GgufType::uint16:
        case GgufType::int16:
            return 2;
        case GgufType::uint32:
        case GgufType::int32:
        case GgufType::float32:
            return 4;
        case GgufType::uint64:
        case GgufType::int64:
        case GgufType::float64:
            return 8;
        case GgufType::string:
            return 8;  // the length
        case GgufType::array:
            return 12;  // element type + count
    }
    return 1;
}

bool known_type(uint32_t t) {
    return t <= static_cast<uint32_t>(GgufType::float64);
}

template <typename T>
Status read_number(Cursor& c, GgufValue& v, const std::string& what) {
    T x{};
    KVSCOPE_TRY(c.read(x, what));
    if constexpr (std::is_floating_point_v<T>)
        v.value = double(x);
    else if constexpr (std::is_signed_v<T>)
        v.value = int64_t(x);
    else
        v.value = uint64_t(x);
    return Status::ok();
}

Status read_value(Cursor& c, GgufType type, GgufValue& v, const std::string& what, int depth,
                  const std::string& path) {
    v.type = type;
    switch (type) {
        case GgufType::uint8:
            return read_number<uint8_t>(c, v, what);
        case GgufType::int8:
            return read_number<int8_t>(c, v, what);
        case GgufType::uint16:
            return read_number<uint16_t>(c, v, what);
        case GgufType::int16:
            return read_number<int16_t>(c, v, what);
        case GgufType::uint32:
            return read_number<uint32_t>(c, v, what);
        case GgufType::int32:
            return read_number<int32_t>(c, v, what);
        case GgufType::uint64:
            return read_number<uint64_t>(c, v, what);
        case GgufType::int64:
            return read_number<int64_t>(c, v, what);
        case GgufType::float32:
            return read_number<float>(c, v, what);
        case GgufType::float64:
            return read_number<double>(c, v, what);
        case GgufType::boolean: {
            uint8_t b = 0;
            const uint64_t at = c.pos();
            KVSCOPE_TRY(c.read(b, what));
            if (b > 1)
                return Status::error(path + ": " + what + " at offset " + std::to_string(at) +
                                     " is a bool with byte value " + std::to_string(b) +
                                     " (expected 0 or 1)");
            v.value = b != 0;
            return Status::ok();
        }
        case GgufType::string: {
            std::string s;
            KVSCOPE_TRY(c.read_string(s, what));
            v.value = std::move(s);
            return Status::ok();
        }
        case GgufType::array: {
            if (depth >= kMaxArrayDepth)
                return Status::error(path + ": " + what + " at offset " + std::to_string(c.pos()) +
                                     " nests arrays " + "more than " + std::to_string(kMaxArrayDepth) +
                                     " deep");
            uint32_t elem = 0;
            const uint64_t type_at = c.pos();
            KVSCOPE_TRY(c.read(elem, what + " (element type)"));
            if (!known_type(elem))
                return Status::error(path + ": " + what + " at offset " + std::to_string(type_at) +
                                     " has unknown array element type " + std::to_string(elem) +
                                     " (known: 0..12)");
            uint64_t count = 0;
            const uint64_t count_at = c.pos();
            KVSCOPE_TRY(c.read(count, what + " (count)"));
            v.array_type = static_cast<GgufType>(elem);
            const uint64_t min_bytes = min_value_bytes(v.array_type);
            if (count > c.left() / min_bytes)
                return Status::error(path + ": " + what + " at offset " + std::to_string(count_at) +
                                     " counts " + std::to_string(count) + " " + gguf_type_name(v.array_type) +
                                     " elements, which cannot fit in the " + std::to_string(c.left()) +
                                     " bytes left in the file");
            std::vector<GgufValue> items(static_cast<size_t>(count));
            for (uint64_t i = 0; i < count; ++i)
                KVSCOPE_TRY(read_value(c, v.array_type, items[i], what + "[" + std::to_string(i) + "]",
                                       depth + 1, path));
            v.value = std::move(items);
            return Status::ok();
        }
    }
    return Status::error(path + ": " + what + ": unknown value type " + std::to_string(uint32_t(type)));
}

std::string hex_u32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

}  // namespace

const char* gguf_type_name(GgufType type) {
    switch (type) {
        case GgufType::uint8:
            return "u8";
        case GgufType::int8:
            return "i8";
        case GgufType::uint16:
            return "u16";
        case GgufType::int16:
            return "i16";
        case GgufType::uint32:
            return "u32";
        case GgufType::int32:
            return "i32";
        case GgufType::float32:
            return "f32";
        case GgufType::boolean:
            return "bool";
        case GgufType::string:
            return "string";
        case GgufType::array:
            return "array";
        case GgufType::uint64:
            return "u64";
        case GgufType::int64:
            return "i64";
        case GgufType::float64:
            return "f64";
    }
    return "unknown";
}

std::optional<int64_t> GgufValue::as_int() const {
    if (const auto* i = std::get_if<int64_t>(&value)) return *i;
    if (const auto* u = std::get_if<uint64_t>(&value)) {
        if (*u > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
        return int64_t(*u);
    }
    return std::nullopt;
}

std::optional<double> GgufValue::as_float() const {
    if (const auto* d = std::get_if<double>(&value)) return *d;
    if (auto i = as_int()) return double(*i);
    return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
    if (const auto* b = std::get_if<bool>(&value)) return *b;
    return std::nullopt;
}

const std::string* GgufValue::as_string() const {
    return std::get_if<std::string>(&value);
}

const std::vector<GgufValue>* GgufValue::as_array() const {
    return std::get_if<std::vector<GgufValue>>(&value);
}

std::string GgufValue::describe() const {
    if (const auto* a = as_array())
        return "array of " + std::to_string(a->size()) + " " + gguf_type_name(array_type);
    if (const auto* s = as_string())
        return "string \"" + (s->size() > 40 ? s->substr(0, 40) + "..." : *s) + "\"";
    if (const auto* b = std::get_if<bool>(&value)) return std::string("bool ") + (*b ? "true" : "false");
    if (const auto* d = std::get_if<double>(&value))
        return std::string(gguf_type_name(type)) + " " + std::to_string(*d);
    if (const auto* i = std::get_if<int64_t>(&value))
        return std::string(gguf_type_name(type)) + " " + std::to_string(*i);
    if (const auto* u = std::get_if<uint64_t>(&value))
        return std::string(gguf_type_name(type)) + " " + std::to_string(*u);
    return gguf_type_name(type);
}

std::optional<DType> dtype_from_ggml(uint32_t t) {
    switch (t) {
        case kGgmlTypeF32:
            return DType::f32;
        case kGgmlTypeF16:
            return DType::f16;
        case kGgmlTypeBF16:
            return DType::bf16;
        case kGgmlTypeQ8_0:
            return DType::q8_0;
        case kGgmlTypeQ4_0:
            return DType::q4_0;
        case kGgmlTypeQ4_K:
            return DType::q4_k;
        case kGgmlTypeQ5_K:
            return DType::q5_k;
        case kGgmlTypeQ6_K:
            return DType::q6_k;
        default:
            return std::nullopt;
    }
}

uint32_t ggml_type_of(DType type) {
    switch (type) {
        case DType::f32:
            return kGgmlTypeF32;
        case DType::f16:
            return kGgmlTypeF16;
        case DType::bf16:
            return kGgmlTypeBF16;
        case DType::q8_0:
            return kGgmlTypeQ8_0;
        case DType::q4_0:
            return kGgmlTypeQ4_0;
        case DType::q4_k:
            return kGgmlTypeQ4_K;
        case DType::q5_k:
            return kGgmlTypeQ5_K;
        case DType::q6_k:
            return kGgmlTypeQ6_K;
    }
    assert(false && "ggml_type_of: a DType was added without its ggml id");
    return kGgmlTypeF32;
}

const char* ggml_type_name(uint32_t t) {
    constexpr uint32_t n = sizeof kGgmlTypeNames / sizeof kGgmlTypeNames[0];
    if (t >= n || kGgmlTypeNames[t][0] == '\0') return "unknown";
    return kGgmlTypeNames[t];
}

const GgufValue* GgufFile::find(const std::string& key) const {
    auto it = m_key_index.find(key);
    return it == m_key_index.end() ? nullptr : &metadata[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
    auto it = m_tensor_index.find(name);
    return it == m_tensor_index.end() ? nullptr : &tensors[it->second];
}

Result<GgufFile> open_gguf_unguarded(const std::string& path) {
    auto mapped = MappedFile::open(path);
    if (!mapped) return mapped.status();
    GgufFile f;
    f.path = path;
    f.mapping = mapped.value();
    const uint8_t* base = f.mapping->data();
    const uint64_t size = f.mapping->size();
    Cursor c(path, base, size);

    // ---- header ----
    uint32_t magic = 0;
    KVSCOPE_TRY(c.read(magic, "the magic"));
    if (magic != kMagic)
        return Status::error(path + ": not a GGUF file: the first 4 bytes are " + hex_u32(magic) +
                             " (as a little-endian u32), expected " + hex_u32(kMagic) + " (\"GGUF\")");
    KVSCOPE_TRY(c.read(f.version, "the version"));
    if (f.version == 1)
        return Status::error(path +
                             ": GGUF version 1 is not supported (it used 32-bit counts and was replaced "
                             "in 2023); re-convert the model with a current llama.cpp");
    if (f.version != 2 && f.version != 3) {
        if (__builtin_bswap32(f.version) == 2 || __builtin_bswap32(f.version) == 3)
            return Status::error(path + ": a big-endian GGUF file (version " +
                                 std::to_string(__builtin_bswap32(f.version)) +
                                 "); KVScope reads little-endian files only");
        return Status::error(path + ": unsupported GGUF version " + std::to_string(f.version) +
                             " (KVScope reads versions 2 and 3)");
    }
    uint64_t n_tensors = 0, n_kv = 0;
    KVSCOPE_TRY(c.read(n_tensors, "the tensor count"));
    KVSCOPE_TRY(c.read(n_kv, "the metadata count"));
    // Each pair needs at least a key length and a type; each tensor info at least 8+4+8+4+8 bytes.
    if (n_kv > c.left() / 12)
        return Status::error(path + ": the header counts " + std::to_string(n_kv) +
                             " metadata pairs, more than the " + std::to_string(size) +
                             "-byte file can hold");
    if (n_tensors > c.left() / 32)
        return Status::error(path + ": the header counts " + std::to_string(n_tensors) +
                             " tensors, more than the " + std::to_string(size) + "-byte file can hold");

    // ---- metadata ----
    f.metadata.reserve(static_cast<size_t>(n_kv));
    for (uint64_t i = 0; i < n_kv; ++i) {
        const uint64_t at = c.pos();
        std::string key;
        KVSCOPE_TRY(c.read_string(key, "metadata key #" + std::to_string(i)));
        if (f.m_key_index.count(key))
            return Status::error(path + ": metadata key '" + key + "' at offset " + std::to_string(at) +
                                 " appears twice");
        uint32_t type = 0;
        const uint64_t type_at = c.pos();
        KVSCOPE_TRY(c.read(type, "the type of '" + key + "'"));
        if (!known_type(type))
            return Status::error(path + ": metadata key '" + key + "' at offset " + std::to_string(type_at) +
                                 " has unknown value type " + std::to_string(type) + " (known: 0..12)");
        GgufValue v;
        KVSCOPE_TRY(read_value(c, static_cast<GgufType>(type), v, "the value of '" + key + "'", 0, path));
        f.m_key_index[key] = f.metadata.size();
        f.metadata.emplace_back(std::move(key), std::move(v));
    }
    if (const GgufValue* a = f.find("general.alignment")) {
        auto v = a->as_int();
        if (a->type != GgufType::uint32 || !v || *v == 0 || !std::has_single_bit(uint64_t(*v)))
            return Status::error(path + ": general.alignment must be a u32 power of two, found " +
                                 a->describe());
        f.alignment = uint64_t(*v);
    } else {
        f.alignment = kDefaultAlignment;
    }

    // ---- tensor infos ----
    f.tensors.reserve(static_cast<size_t>(n_tensors));
    for (uint64_t i = 0; i < n_tensors; ++i) {
        GgufTensorInfo t;
        t.info_offset = c.pos();
        KVSCOPE_TRY(c.read_string(t.name, "the name of tensor #" + std::to_string(i)));
        const std::string where =
            path + ": tensor '" + t.name + "' (info at offset " + std::to_string(t.info_offset) + ")";
        if (f.m_tensor_index.count(t.name)) return Status::error(where + " appears twice");
        uint32_t n_dims = 0;
        KVSCOPE_TRY(c.read(n_dims, "the dimension count of tensor '" + t.name + "'"));
        if (n_dims == 0 || n_dims > kMaxDims)
            return Status::error(where + " has " + std::to_string(n_dims) + " dimensions (expected 1 to " +
                                 std::to_string(kMaxDims) + ")");
        int64_t numel = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            uint64_t ne = 0;
            KVSCOPE_TRY(c.read(ne, "dimension " + std::to_string(d) + " of tensor '" + t.name + "'"));
            if (ne == 0 || ne > uint64_t(kMaxElements) || uint64_t(numel) > uint64_t(kMaxElements) / ne)
                return Status::error(where + " has an impossible size: dimension " + std::to_string(d) +
                                     " is " + std::to_string(ne));
            numel *= int64_t(ne);
            t.ne.push_back(int64_t(ne));
        }
        uint32_t type = 0;
        const uint64_t type_at = c.pos();
        KVSCOPE_TRY(c.read(type, "the type of tensor '" + t.name + "'"));
        auto dtype = dtype_from_ggml(type);
        if (!dtype) {
            const std::string name = ggml_type_name(type);
            return Status::error(
                where + " has " +
                (name == "unknown" ? "unknown ggml type " + std::to_string(type)
                                   : "ggml type " + name + " (" + std::to_string(type) + ")") +
                " at offset " + std::to_string(type_at) +
                ", which KVScope cannot read (it reads F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)");
        }
        t.dtype = *dtype;
        if (t.ne[0] % dtype_block_size(t.dtype) != 0)
            return Status::error(where + ": rows of " + std::to_string(t.ne[0]) +
                                 " elements are not a whole number of " + dtype_name(t.dtype) +
                                 " blocks of " + std::to_string(dtype_block_size(t.dtype)));
        t.nbytes = dtype_bytes(t.dtype, uint64_t(numel));
        KVSCOPE_TRY(c.read(t.offset, "the data offset of tensor '" + t.name + "'"));
        f.m_tensor_index[t.name] = f.tensors.size();
        f.tensors.push_back(std::move(t));
    }

    // ---- data section: starts at the next multiple of the alignment ----
    const uint64_t header_end = c.pos();
    f.data_offset = (header_end + f.alignment - 1) / f.alignment * f.alignment;
    if (f.data_offset > size && !f.tensors.empty())
        return Status::error(path + ": the data section should start at offset " +
                             std::to_string(f.data_offset) + ", past the end of the " + std::to_string(size) +
                             "-byte file (truncated file?)");
    const uint64_t data_size = size > f.data_offset ? size - f.data_offset : 0;
    for (GgufTensorInfo& t : f.tensors) {
        const std::string where = path + ": tensor '" + t.name + "'";
        if (t.offset % f.alignment != 0)
            return Status::error(where + " has data offset " + std::to_string(t.offset) +
                                 ", which is not a multiple of the alignment (" +
                                 std::to_string(f.alignment) + ")");
        if (t.offset > data_size || t.nbytes > data_size - t.offset)
            return Status::error(
                where + " needs " + std::to_string(t.nbytes) + " bytes (" + dtype_name(t.dtype) + " " +
                shape_string(t.ne) + " in ggml order) at data offset " + std::to_string(t.offset) +
                " (file offset " + std::to_string(f.data_offset + t.offset) + "), but the file ends at " +
                std::to_string(size) + " (truncated file, or the offset is out of range)");
        t.file_offset = f.data_offset + t.offset;
        t.data = base + t.file_offset;
    }
    return f;
}

Result<GgufFile> open_gguf(const std::string& path) {
    return catch_exceptions(path, [&] { return open_gguf_unguarded(path); });
}

}  // namespace kvscope
