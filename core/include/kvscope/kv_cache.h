// kv_cache.h — the KV cache, as an object you can look into.
//
// For each layer and KV head, K and V are [capacity, head_dim] row-major blocks: one head's cache is one
// matrix and a new token is one new row. A layer's blocks are stored head after head:
//   k(layer): [n_kv_heads][capacity][head_dim]   (same for v)
// The memory lives on the session's backend (host or GPU); read_rows() copies rows to the host.
// The cache never grows past its capacity: callers check room() first and the engine refuses to overrun.
//
// Storage policy (cache_policy.h). The exact cache (f32, nothing evicted) is just the blocks above, and
// row r holds position r. Any other policy adds, on the host, the store of record: every row encoded in
// the policy's element type (kv_storage.h; with re-indexing, K is stored before RoPE), and a row map:
// which position each row of each (layer, KV head) holds. The backend blocks then hold what the attention
// reads: the stored rows decoded to float32 (what a kernel that dequantizes on load computes with), and,
// with re-indexing, K rotated by its row in the cache. bytes_resident() counts the store of record, scales
// included: the memory a cache of that policy holds. The float32 blocks are this engine's working copy,
// allocated at full width whatever the policy (they are not counted as the variant's KV bytes).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kvscope/backend.h"
#include "kvscope/cache_policy.h"
#include "kvscope/model.h"

namespace kvscope {

class KVCache {
  public:
    // Allocates 2 x layers x kv_heads x capacity x head_dim floats on `backend` (and, for a policy other
    // than the exact one, the host store of record).
    static Result<std::unique_ptr<KVCache>> create(Backend& backend, const ModelConfig& config, int capacity,
                                                   const CachePolicy& policy = {});

    int capacity() const { return m_capacity; }
    int length() const { return m_length; }  // rows held (per layer and KV head)
    int room() const { return m_capacity - m_length; }
    int n_layers() const { return m_n_layers; }
    int n_kv_heads() const { return m_n_kv_heads; }
    int head_dim() const { return m_head_dim; }
    const CachePolicy& policy() const { return m_policy; }
    const KVStorage& storage() const { return m_policy.storage; }

    // Bytes of one head's K (or V) row in the store of record, scales included (f32: head_dim x 4).
    uint64_t row_bytes() const { return m_row_bytes; }
    double bytes_per_value() const { return double(m_row_bytes) / m_head_dim; }
    // K and V bytes of `rows` rows: 2 x layers x kv_heads x rows x row_bytes().
    uint64_t bytes_for(int rows) const {
        return 2ull * m_n_layers * m_n_kv_heads * m_row_bytes * uint64_t(rows);
    }
    uint64_t bytes_resident() const { return bytes_for(m_length); }
    uint64_t bytes_allocated() const { return bytes_for(m_capacity); }

    // ---- the row map -----------------------------------------------------------------------------------
    // True while row r holds position r in every layer and head (nothing evicted).
    bool contiguous() const { return m_contiguous; }
    int position_at(int layer, int kv_head, int row) const;
    RowMapView row_map() const;
    // Rows dropped so far, summed over layers and KV heads.
    uint64_t rows_evicted() const { return m_rows_evicted; }

    void truncate(int length);  // keeps rows [0, length); length <= length()
    void clear();

    // Backend pointers to a layer's blocks ([n_kv_heads][capacity][head_dim]).
    float* k_layer(int layer) { return m_k[layer]->data(); }
    float* v_layer(int layer) { return m_v[layer]->data(); }
    const float* k_layer(int layer) const { return m_k[layer]->data(); }
    const float* v_layer(int layer) const { return m_v[layer]->data(); }

    // Copies rows [row_begin, row_begin + n_rows) of one head's K (or V) to `out` [n_rows, head_dim]: the
    // values the attention reads (dequantized).
    void read_rows(Stream& stream, int layer, int kv_head, bool key, int row_begin, int n_rows,
                   float* out) const;

    // Rows [row_begin, row_begin + n_rows) of one head's K (or V) as the store of record holds them,
    // row_bytes() each: the element type's encoding (kv_storage.h; f32: the float values).
    void read_stored_rows(Stream& stream, int layer, int kv_head, bool key, int row_begin, int n_rows,
                          uint8_t* out) const;
    // Fills rows [0, n_rows) of one head's K and V from their stored form (as read_stored_rows gives them)
    // and makes what the attention reads from them; row r holds position r. For a cache that evicts
    // nothing (a saved cache put back, kvscope/cache_file.h); set_length() follows.
    void write_stored_rows(Stream& stream, int layer, int kv_head, const uint8_t* k_rows,
                           const uint8_t* v_rows, int n_rows);

    // ---- engine hooks (core/engine/forward.cpp and session.cpp) -------------------------------------------
    // Whether K must be handed over before RoPE (re-indexed caches store it so).
    bool wants_pre_rope_k() const { return m_has_store && m_policy.reindex; }
    // Before RoPE: n rows of K (n_kv_heads·hd values each, row stride ld, backend memory).
    void stash_pre_rope_k(Stream& stream, const float* k, int n, int ld);
    // After kv_write appended n rows at row0 for tokens at positions position0 ..: encodes them into the
    // store, records their positions, and puts the decoded values back where the attention reads them.
    // Keeps the rows as computed (before rounding) for the trace: computed_rows(layer).
    void commit_rows(Stream& stream, int layer, int row0, int n, int position0, float rope_theta,
                     RopeLayout rope_layout);
    // The last committed rows of a layer as computed, [2][n_kv_heads][n][hd] (K then V); empty for f32.
    std::span<const float> computed_rows(int layer) const;
    // The engine marks rows as written after a forward pass appended them.
    void set_length(int length);
    // Drops every row not in `keep` (see RowsToKeep), moving the kept ones down, and rebuilds the rows the
    // attention reads from the store (re-rotating K when re-indexed).
    void keep_rows(Stream& stream, const RowsToKeep& keep, float rope_theta, RopeLayout rope_layout);

  private:
    KVCache() = default;
    uint8_t* stored(int layer, int kv_head, bool key, int row);
    const uint8_t* stored(int layer, int kv_head, bool key, int row) const;
    void rebuild_rows(Stream& stream, int layer, int kv_head, int row_begin, int row_end, float rope_theta,
                      RopeLayout rope_layout);

    int m_capacity = 0, m_length = 0, m_n_layers = 0, m_n_kv_heads = 0, m_head_dim = 0;
    CachePolicy m_policy;
    uint64_t m_row_bytes = 0;
    bool m_has_store = false;
    bool m_contiguous = true;
    uint64_t m_rows_evicted = 0;
    std::vector<std::unique_ptr<Buffer>> m_k, m_v;  // one per layer
    std::vector<uint8_t> m_store;                   // [layer][kv_head][k|v][capacity][row_bytes]
    std::vector<int32_t> m_positions;               // [layer][kv_head][capacity]
    std::vector<float> m_pre_rope;                  // [n][n_kv_heads·hd] staging of stash_pre_rope_k
    std::vector<std::vector<float>> m_computed;     // per layer: [2][n_kv_heads][n][hd]
};

}  // namespace kvscope
