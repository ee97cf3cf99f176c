// cache_file.h — a session's KV cache saved to a file and resumed later, without prefilling again.
//
// A saved cache holds the tokens a cached Session has run, their K and V rows as its cache stores them
// (float32, or a cache variant's f16, bf16, int8 or int4 encoding, scales included), the token it sampled
// after them (the one to feed next), the model's identity (architecture, shapes, a CRC-32 of every
// weight) and the cache's element type. A variant that drops rows (eviction) is not saved. Loading checks
// every field against the model it is loaded into and refuses a cache of another model or shape, a truncated
// or corrupt file, with a message naming what differs. The format is described field by field at the top of
// core/engine/cache_file.cpp (its reader).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kvscope/kv_storage.h"
#include "kvscope/model.h"
#include "kvscope/session.h"
#include "kvscope/status.h"

namespace kvscope {

// The identity a cache file records, to be compared with the model it is loaded into.
struct CacheModelIdentity {
    uint32_t architecture = 0;  // 0 llama, 1 gpt2
    uint32_t n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0, d_model = 0, vocab_size = 0;
    uint32_t context_length = 0;
    uint32_t weight_crc32 = 0;  // CRC-32 of every weight's float32 values, in a fixed order
};

// The identity of a loaded model (hashes all its weights: about a second per GB).
CacheModelIdentity cache_model_identity(const Model& model);

// A parsed cache file, before it meets a model.
struct CacheFileContents {
    uint32_t version = 0;
    CacheModelIdentity model;
    KVStorage storage;  // the element type (and group size) the rows are stored in
    std::vector<int32_t> tokens;
    int32_t next_token = -1;
    // Per layer, K and V rows as stored: [n_kv_heads][n_tokens][storage.bytes_per_row(head_dim)].
    std::vector<std::vector<uint8_t>> k, v;
    uint64_t kv_bytes = 0;
};

// Bytes of the fixed header before the token array (the file is this + 4 x tokens + K/V bytes).
constexpr uint64_t kCacheFileHeaderBytes = 88;

// Parses a whole file in memory; `name` is used in messages. Checks magic, version, checksums, sizes.
Result<CacheFileContents> parse_cache_file(std::span<const uint8_t> bytes, const std::string& name);
// Checks a parsed file against the model it is about to be loaded into; names the first field that differs.
Status check_cache_identity(const CacheFileContents& file, const CacheModelIdentity& model,
                            const std::string& name);

// Writes the session's tokens and K/V (cached mode, at least one token, no eviction) and `next_token` to
// `path`, in the element type its cache stores.
Status save_cache_file(const Session& session, int32_t next_token, const std::string& path);
// Reads and parses `path` (before a session exists: its storage says which cache variant to create).
Result<CacheFileContents> read_cache_file(const std::string& path);
// Puts a parsed file into an empty cached session of the same model whose cache stores the same element
// type; returns the token to feed next. `name` is used in messages; `identity`, when given, is the
// session's model's (cache_model_identity), to spare hashing the weights again.
Result<int32_t> restore_cache_file(Session& session, const CacheFileContents& file, const std::string& name,
                                   const CacheModelIdentity* identity = nullptr);
// read_cache_file, then restore_cache_file.
Result<int32_t> load_cache_file(Session& session, const std::string& path);

}  // namespace kvscope
