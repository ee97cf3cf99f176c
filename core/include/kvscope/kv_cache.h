// kv_cache.h — the KV cache, as an object you can look into.
//
// For each layer and KV head, K and V are [capacity, head_dim] row-major blocks: one head's cache is one
// matrix and a new token is one new row. A layer's blocks are stored head after head:
//   k(layer): [n_kv_heads][capacity][head_dim]   (same for v)
// The memory lives on the session's backend (host or GPU); read_rows() copies rows to the host.
// The cache never grows past its capacity: callers check room() first and the engine refuses to overrun.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kvscope/backend.h"
#include "kvscope/model.h"

namespace kvscope {

class KVCache {
  public:
    // Allocates 2 x layers x kv_heads x capacity x head_dim floats on `backend`.
    static Result<std::unique_ptr<KVCache>> create(Backend& backend, const ModelConfig& config, int capacity);

    int capacity() const { return m_capacity; }
    int length() const { return m_length; }  // rows held (tokens cached)
    int room() const { return m_capacity - m_length; }
    int n_layers() const { return m_n_layers; }
    int n_kv_heads() const { return m_n_kv_heads; }
    int head_dim() const { return m_head_dim; }

    // K and V bytes of the rows held: 2 x layers x kv_heads x head_dim x length x 4.
    uint64_t bytes_resident() const { return bytes_for(m_length); }
    uint64_t bytes_for(int rows) const { return 2ull * m_n_layers * m_n_kv_heads * m_head_dim * rows * 4; }
    uint64_t bytes_allocated() const { return bytes_for(m_capacity); }

    void truncate(int length);  // keeps rows [0, length); length <= length()
    void clear() { m_length = 0; }

    // Backend pointers to a layer's blocks ([n_kv_heads][capacity][head_dim]).
    float* k_layer(int layer) { return m_k[layer]->data(); }
    float* v_layer(int layer) { return m_v[layer]->data(); }
    const float* k_layer(int layer) const { return m_k[layer]->data(); }
    const float* v_layer(int layer) const { return m_v[layer]->data(); }

    // Copies rows [row_begin, row_begin + n_rows) of one head's K (or V) to `out` [n_rows, head_dim].
    void read_rows(Stream& stream, int layer, int kv_head, bool key, int row_begin, int n_rows,
                   float* out) const;

    // The engine marks rows as written after a forward pass appended them.
    void set_length(int length);

  private:
    KVCache() = default;
    int m_capacity = 0, m_length = 0, m_n_layers = 0, m_n_kv_heads = 0, m_head_dim = 0;
    std::vector<std::unique_ptr<Buffer>> m_k, m_v;  // one per layer
};

}  // namespace kvscope
