// cache_file.cpp — reads and writes KVScope cache files (.kvcache).
//
// Format, version 1. Little-endian; every integer is unsigned unless said; offsets in bytes.
//   offset size  field
//        0    8  magic "KVSCACHE"
//        8    4  version (1)
//       12    4  header bytes (88: where the token array starts)
//   --- the model it was computed by ---
//       16    4  architecture (0 llama family, 1 gpt2)
//       20    4  n_layers          24  4  n_heads          28  4  n_kv_heads       32  4  head_dim
//       36    4  d_model           40  4  vocab_size       44  4  context_length
//       48    4  weight CRC-32: zlib's crc32 over every weight tensor's float32 values (as computed with,
//                after any widening), in this order: token embedding, position embedding, then per layer
//                attn norm (+bias), qkv (+bias), output (+bias), ffn norm (+bias), gate, up (+bias),
//                down (+bias); final norm (+bias), lm_head. Absent tensors are skipped.
//       52    4  group size: values per scale for int8 and int4 (1 .. 4096); 0 for the other types
//   --- the cache ---
//       56    4  element type, as kv_storage.h defines them: 0 f32, 1 f16, 2 bf16, 3 int8, 4 int4
//       60    4  layout (0: per layer, K then V, each [n_kv_heads][n_tokens][row bytes])
//       64    4  n_tokens (1 .. context_length)
//       68    4  next token (int32): sampled after the last token, to feed next; −1: none
//       72    8  K/V bytes = 2 · n_layers · n_kv_heads · n_tokens · row bytes, where a row (one head's K or
//                V of one token) takes head_dim · 4 bytes in f32, · 2 in f16 and bf16; in int8 and int4
//                its codes (head_dim, or ceil(head_dim / 2) bytes) then a float32 scale and minimum per
//                group (kv_storage.h: KVStorage::bytes_per_row)
//       80    4  CRC-32 of the tokens and the K/V bytes (everything after the header)
//       84    4  CRC-32 of header bytes 0 .. 83
//       88       tokens: n_tokens x int32
//                K/V: for each layer, K then V, [n_kv_heads][n_tokens] rows as the cache stores them
// The file is exactly 88 + 4 · n_tokens + K/V bytes long; anything else is refused (truncated or trailing
// bytes). Every value (and every scale and minimum) must decode to a finite number. Limits: n_tokens ≤
// context_length ≤ 2^24; shapes ≤ 2^16 (head_dim, heads, layers); the reader checks sizes before
// allocating. Files written before the other element types existed (f32, 0 at offset 52) read the same.
#include "kvscope/cache_file.h"

#include <zlib.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace kvscope {

static_assert(std::endian::native == std::endian::little,
              "the cache file reader assumes a little-endian host");

namespace {

constexpr char kMagic[8] = {'K', 'V', 'S', 'C', 'A', 'C', 'H', 'E'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kMaxTokens = 1u << 24;
constexpr uint32_t kMaxDim = 1u << 16;

uint32_t crc(uint32_t running, const void* data, size_t n) {
    return uint32_t(crc32_z(running, static_cast<const Bytef*>(data), n));
}

template <typename T>
void put(std::vector<uint8_t>& out, size_t offset, T value) {
    std::memcpy(out.data() + offset, &value, sizeof(T));
}
template <typename T>
T get(std::span<const uint8_t> in, size_t offset) {
    T value;
    std::memcpy(&value, in.data() + offset, sizeof(T));
    return value;
}

std::string hex(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

static_assert(uint8_t(KVElement::f32) == 0 && uint8_t(KVElement::f16) == 1 && uint8_t(KVElement::bf16) == 2 &&
                  uint8_t(KVElement::int8) == 3 && uint8_t(KVElement::int4) == 4,
              "the cache file's element type codes are KVElement's values");
constexpr uint32_t kMaxGroup = 4096;

uint64_t kv_bytes_for(const CacheModelIdentity& m, const KVStorage& storage, uint64_t n_tokens) {
    return 2ull * m.n_layers * m.n_kv_heads * n_tokens * storage.bytes_per_row(int(m.head_dim));
}

// Whether two storages encode rows the same way (the group size only matters for the integer types).
bool same_encoding(const KVStorage& a, const KVStorage& b) {
    return a.element == b.element && (!a.integer() || a.group_size == b.group_size);
}

}  // namespace

CacheModelIdentity cache_model_identity(const Model& model) {
    const ModelConfig& c = model.config;
    CacheModelIdentity id;
    id.architecture = c.arch == Architecture::gpt2 ? 1 : 0;
    id.n_layers = uint32_t(c.n_layers);
    id.n_heads = uint32_t(c.n_heads);
    id.n_kv_heads = uint32_t(c.n_kv_heads);
    id.head_dim = uint32_t(c.head_dim);
    id.d_model = uint32_t(c.d_model);
    id.vocab_size = uint32_t(c.vocab_size);
    id.context_length = uint32_t(c.context_length);
    uint32_t h = crc(0, nullptr, 0);
    auto add = [&](const Tensor& t) {
        if (t.empty()) return;
        if (t.in_out) {  // GPT-2's Conv1D held as stored: hash the compute layout, as a converted GGUF has it
            const std::vector<float> rows = t.row_major_values();
            h = crc(h, rows.data(), rows.size() * sizeof(float));
            return;
        }
        h = crc(h, t.data(), size_t(t.numel()) * sizeof(float));
    };
    add(model.tok_embd);
    add(model.pos_embd);
    for (const LayerWeights& l : model.layers) {
        for (const Tensor* t : {&l.attn_norm, &l.attn_norm_bias, &l.wqkv, &l.bqkv, &l.wo, &l.bo, &l.ffn_norm,
                                &l.ffn_norm_bias, &l.w_gate, &l.w_up, &l.b_up, &l.w_down, &l.b_down})
            add(*t);
    }
    add(model.out_norm);
    add(model.out_norm_bias);
    add(model.lm_head);
    id.weight_crc32 = h;
    return id;
}

Result<CacheFileContents> parse_cache_file(std::span<const uint8_t> in, const std::string& name) {
    auto bad = [&](const std::string& what) { return Status::error(name + ": " + what); };
    if (in.size() < kCacheFileHeaderBytes)
        return bad("not a KVScope cache file: " + std::to_string(in.size()) + " bytes, shorter than the " +
                   std::to_string(kCacheFileHeaderBytes) + "-byte header");
    if (std::memcmp(in.data(), kMagic, sizeof kMagic) != 0)
        return bad("not a KVScope cache file (the first 8 bytes are not \"KVSCACHE\")");
    CacheFileContents f;
    f.version = get<uint32_t>(in, 8);
    if (f.version != kVersion)
        return bad("cache file version " + std::to_string(f.version) +
                   " is not supported (this build reads version " + std::to_string(kVersion) + ")");
    if (get<uint32_t>(in, 12) != kCacheFileHeaderBytes)
        return bad("header size " + std::to_string(get<uint32_t>(in, 12)) + " at offset 12, expected " +
                   std::to_string(kCacheFileHeaderBytes));
    const uint32_t header_crc = crc(crc(0, nullptr, 0), in.data(), 84);
    if (get<uint32_t>(in, 84) != header_crc)
        return bad("corrupt header: its CRC-32 is " + hex(header_crc) + ", the file says " +
                   hex(get<uint32_t>(in, 84)));
    CacheModelIdentity& m = f.model;
    m.architecture = get<uint32_t>(in, 16);
    m.n_layers = get<uint32_t>(in, 20);
    m.n_heads = get<uint32_t>(in, 24);
    m.n_kv_heads = get<uint32_t>(in, 28);
    m.head_dim = get<uint32_t>(in, 32);
    m.d_model = get<uint32_t>(in, 36);
    m.vocab_size = get<uint32_t>(in, 40);
    m.context_length = get<uint32_t>(in, 44);
    m.weight_crc32 = get<uint32_t>(in, 48);
    for (auto [field, value] :
         {std::pair{"n_layers", m.n_layers}, {"n_kv_heads", m.n_kv_heads}, {"head_dim", m.head_dim}})
        if (value == 0 || value > kMaxDim)
            return bad(std::string(field) + " " + std::to_string(value) + " at the header is outside 1.." +
                       std::to_string(kMaxDim));
    const uint32_t element = get<uint32_t>(in, 56);
    if (element > uint32_t(KVElement::int4))
        return bad("element type " + std::to_string(element) +
                   " at offset 56 is not one of 0 f32, 1 f16, 2 bf16, 3 int8, 4 int4");
    f.storage.element = KVElement(element);
    const uint32_t group = get<uint32_t>(in, 52);
    if (f.storage.integer() && (group == 0 || group > kMaxGroup))
        return bad("group size " + std::to_string(group) + " at offset 52 is outside 1.." +
                   std::to_string(kMaxGroup) + " (" + kv_element_name(f.storage.element) + " needs one)");
    if (!f.storage.integer() && group != 0)
        return bad("group size " + std::to_string(group) + " at offset 52 for " +
                   kv_element_name(f.storage.element) + " values, which have none (expected 0)");
    if (f.storage.integer()) f.storage.group_size = int(group);
    if (get<uint32_t>(in, 60) != 0)
        return bad("layout " + std::to_string(get<uint32_t>(in, 60)) + " at offset 60 is not supported (0)");
    const uint32_t n = get<uint32_t>(in, 64);
    if (n == 0 || n > kMaxTokens || n > m.context_length)
        return bad("n_tokens " + std::to_string(n) + " at offset 64 is outside 1.." +
                   std::to_string(std::min(kMaxTokens, m.context_length)) + " (the context)");
    f.next_token = get<int32_t>(in, 68);
    f.kv_bytes = get<uint64_t>(in, 72);
    if (f.kv_bytes != kv_bytes_for(m, f.storage, n))
        return bad("K/V bytes " + std::to_string(f.kv_bytes) + " at offset 72 do not match the shapes (" +
                   std::to_string(kv_bytes_for(m, f.storage, n)) + " for " + std::to_string(n) +
                   " tokens in " + f.storage.describe() + ")");
    const uint64_t expected = kCacheFileHeaderBytes + 4ull * n + f.kv_bytes;
    if (in.size() < expected)
        return bad("truncated: " + std::to_string(n) + " tokens of K/V need " + std::to_string(expected) +
                   " bytes, the file has " + std::to_string(in.size()));
    if (in.size() > expected)
        return bad(std::to_string(in.size() - expected) + " unexpected bytes after the K/V data (expected " +
                   std::to_string(expected) + " bytes in all)");
    const uint32_t payload_crc =
        crc(crc(0, nullptr, 0), in.data() + kCacheFileHeaderBytes, size_t(expected - kCacheFileHeaderBytes));
    if (get<uint32_t>(in, 80) != payload_crc)
        return bad("corrupt tokens or K/V data: their CRC-32 is " + hex(payload_crc) + ", the header says " +
                   hex(get<uint32_t>(in, 80)));
    f.tokens.resize(n);
    std::memcpy(f.tokens.data(), in.data() + kCacheFileHeaderBytes, 4ull * n);
    for (uint32_t i = 0; i < n; ++i)
        if (f.tokens[i] < 0 || uint32_t(f.tokens[i]) >= m.vocab_size)
            return bad("token " + std::to_string(f.tokens[i]) + " at index " + std::to_string(i) +
                       " is outside the vocabulary of " + std::to_string(m.vocab_size));
    if (f.next_token < -1 || (f.next_token >= 0 && uint32_t(f.next_token) >= m.vocab_size))
        return bad("next token " + std::to_string(f.next_token) + " at offset 68 is outside the vocabulary");
    const int hd = int(m.head_dim);
    const size_t row_bytes = f.storage.bytes_per_row(hd);
    const size_t per = size_t(m.n_kv_heads) * n * row_bytes;
    size_t at = kCacheFileHeaderBytes + 4ull * n;
    f.k.resize(m.n_layers);
    f.v.resize(m.n_layers);
    std::vector<float> values(static_cast<size_t>(hd));
    for (uint32_t l = 0; l < m.n_layers; ++l)
        for (bool key : {true, false}) {
            std::vector<uint8_t>& rows = key ? f.k[l] : f.v[l];
            rows.assign(in.data() + at, in.data() + at + per);
            at += per;
            // A NaN or infinity (or a scale that makes one) would poison every later step without a word.
            for (size_t r = 0; r < size_t(m.n_kv_heads) * n; ++r) {
                f.storage.decode_row(rows.data() + r * row_bytes, hd, values.data());
                for (float x : values)
                    if (!std::isfinite(x))
                        return bad(std::string(key ? "K" : "V") + " of layer " + std::to_string(l) +
                                   ", head " + std::to_string(r / n) + ", token " + std::to_string(r % n) +
                                   " holds a value that is not a finite number");
            }
        }
    return f;
}

Status check_cache_identity(const CacheFileContents& f, const CacheModelIdentity& m,
                            const std::string& name) {
    const CacheModelIdentity& c = f.model;
    auto arch = [](uint32_t a) { return std::string(a == 1 ? "gpt2" : a == 0 ? "llama" : "unknown"); };
    if (c.architecture != m.architecture)
        return Status::error(name + ": the cache was computed by a " + arch(c.architecture) +
                             " model, this model is " + arch(m.architecture));
    const std::pair<const char*, std::pair<uint32_t, uint32_t>> fields[] = {
        {"n_layers", {c.n_layers, m.n_layers}},
        {"n_heads", {c.n_heads, m.n_heads}},
        {"n_kv_heads", {c.n_kv_heads, m.n_kv_heads}},
        {"head_dim", {c.head_dim, m.head_dim}},
        {"d_model", {c.d_model, m.d_model}},
        {"vocab_size", {c.vocab_size, m.vocab_size}},
        {"context_length", {c.context_length, m.context_length}}};
    for (const auto& [field, values] : fields)
        if (values.first != values.second)
            return Status::error(name + ": the cache is of another model shape: " + field + " " +
                                 std::to_string(values.first) + " in the file, " +
                                 std::to_string(values.second) + " in this model");
    if (c.weight_crc32 != m.weight_crc32)
        return Status::error(
            name + ": the cache was computed by other weights of the same shape (weight CRC-32 " +
            hex(c.weight_crc32) + " in the file, " + hex(m.weight_crc32) + " for this model)");
    return Status::ok();
}

Status save_cache_file(const Session& session, int32_t next_token, const std::string& path) {
    const KVCache* cache = session.cache();
    if (!cache) return Status::error("only a cached session has a KV cache to save");
    if (cache->policy().evicts() || !cache->contiguous())
        return Status::error("a cache file holds a row for every position; this session runs the " +
                             cache->policy().describe() + " cache variant, which drops rows");
    const int n = session.position();
    if (n == 0) return Status::error("the session holds no tokens: nothing to save");
    const KVStorage& storage = cache->storage();
    const CacheModelIdentity m = cache_model_identity(session.engine().model());
    const uint64_t kv_bytes = kv_bytes_for(m, storage, uint64_t(n));
    std::vector<uint8_t> out(kCacheFileHeaderBytes + 4ull * n + kv_bytes);
    std::memcpy(out.data(), kMagic, sizeof kMagic);
    put<uint32_t>(out, 8, kVersion);
    put<uint32_t>(out, 12, uint32_t(kCacheFileHeaderBytes));
    put<uint32_t>(out, 16, m.architecture);
    put<uint32_t>(out, 20, m.n_layers);
    put<uint32_t>(out, 24, m.n_heads);
    put<uint32_t>(out, 28, m.n_kv_heads);
    put<uint32_t>(out, 32, m.head_dim);
    put<uint32_t>(out, 36, m.d_model);
    put<uint32_t>(out, 40, m.vocab_size);
    put<uint32_t>(out, 44, m.context_length);
    put<uint32_t>(out, 48, m.weight_crc32);
    put<uint32_t>(out, 52, storage.integer() ? uint32_t(storage.group_size) : 0);
    put<uint32_t>(out, 56, uint32_t(storage.element));
    put<uint32_t>(out, 60, 0);
    put<uint32_t>(out, 64, uint32_t(n));
    put<int32_t>(out, 68, next_token);
    put<uint64_t>(out, 72, kv_bytes);
    std::memcpy(out.data() + kCacheFileHeaderBytes, session.tokens().data(), 4ull * n);
    size_t at = kCacheFileHeaderBytes + 4ull * n;
    const size_t head_bytes = size_t(n) * cache->row_bytes();
    for (uint32_t l = 0; l < m.n_layers; ++l)
        for (bool key : {true, false})
            for (uint32_t h = 0; h < m.n_kv_heads; ++h) {
                session.read_stored_cache_rows(int(l), int(h), key, n, out.data() + at);
                at += head_bytes;
            }
    put<uint32_t>(
        out, 80,
        crc(crc(0, nullptr, 0), out.data() + kCacheFileHeaderBytes, out.size() - kCacheFileHeaderBytes));
    put<uint32_t>(out, 84, crc(crc(0, nullptr, 0), out.data(), 84));
    const std::string tmp = path + ".tmp";
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Status::error(path + ": cannot open for writing");
    f.write(reinterpret_cast<const char*>(out.data()), std::streamsize(out.size()));
    f.close();
    if (!f || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return Status::error(path + ": write failed");
    }
    return Status::ok();
}

Result<CacheFileContents> read_cache_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return Status::error(path + ": cannot open");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (f.bad()) return Status::error(path + ": read failed");
    return parse_cache_file(bytes, path);
}

Result<int32_t> restore_cache_file(Session& session, const CacheFileContents& file, const std::string& name,
                                   const CacheModelIdentity* identity) {
    KVSCOPE_TRY(check_cache_identity(
        file, identity ? *identity : cache_model_identity(session.engine().model()), name));
    const CachePolicy& policy = session.options().cache;
    if (!same_encoding(file.storage, policy.storage))
        return Status::error(name + ": the cache holds " + file.storage.describe() +
                             " rows; this session stores " + policy.storage.describe() +
                             " (resume it with the cache variant \"" +
                             cache_variant_spec(CachePolicy{file.storage}) + "\")");
    KVSCOPE_TRY(session.restore(file.tokens, file.k, file.v).with_context(name));
    return file.next_token;
}

Result<int32_t> load_cache_file(Session& session, const std::string& path) {
    auto parsed = read_cache_file(path);
    if (!parsed) return parsed.status();
    return restore_cache_file(session, parsed.value(), path);
}

}  // namespace kvscope
