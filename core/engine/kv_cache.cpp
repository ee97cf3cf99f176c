#include "kvscope/kv_cache.h"

#include <cassert>
#include <cstring>
#include <numeric>
#include <utility>

namespace kvscope {

Result<std::unique_ptr<KVCache>> KVCache::create(Backend& backend, const ModelConfig& config, int capacity,
                                                 const CachePolicy& policy) {
    if (capacity <= 0)
        return Status::error("KV cache capacity must be positive, got " + std::to_string(capacity));
    KVSCOPE_TRY(policy.validate());
    auto cache = std::unique_ptr<KVCache>(new KVCache());
    cache->m_capacity = capacity;
    cache->m_n_layers = config.n_layers;
    cache->m_n_kv_heads = config.n_kv_heads;
    cache->m_head_dim = config.head_dim;
    cache->m_policy = policy;
    cache->m_row_bytes = policy.storage.bytes_per_row(config.head_dim);
    cache->m_has_store = !policy.exact();
    const size_t per_layer = size_t(config.n_kv_heads) * capacity * config.head_dim;
    for (int l = 0; l < config.n_layers; ++l) {
        auto k = backend.allocate(per_layer);
        if (!k)
            return k.status().with_context("KV cache (" + std::to_string(cache->bytes_allocated()) +
                                           " bytes)");
        auto v = backend.allocate(per_layer);
        if (!v)
            return v.status().with_context("KV cache (" + std::to_string(cache->bytes_allocated()) +
                                           " bytes)");
        cache->m_k.push_back(std::move(k.value()));
        cache->m_v.push_back(std::move(v.value()));
    }
    // The row map: row r holds position r until something is evicted.
    cache->m_positions.resize(size_t(config.n_layers) * config.n_kv_heads * capacity);
    for (size_t i = 0; i < cache->m_positions.size(); ++i)
        cache->m_positions[i] = int32_t(i % size_t(capacity));
    if (cache->m_has_store) {
        try {
            cache->m_store.resize(size_t(config.n_layers) * config.n_kv_heads * 2 * capacity *
                                  cache->m_row_bytes);
        } catch (const std::bad_alloc&) {
            return Status::error("out of memory allocating the KV store of record (" +
                                 std::to_string(cache->bytes_allocated()) + " bytes)");
        }
        cache->m_computed.resize(size_t(config.n_layers));
    }
    return cache;
}

int KVCache::position_at(int layer, int kv_head, int row) const {
    return m_positions[(size_t(layer) * m_n_kv_heads + kv_head) * m_capacity + row];
}

RowMapView KVCache::row_map() const {
    return RowMapView{m_n_layers, m_n_kv_heads, m_length, m_capacity, m_positions.data()};
}

void KVCache::truncate(int length) {
    assert(length >= 0 && length <= m_length && "KVCache::truncate can only shorten the cache");
    m_length = length;
}

void KVCache::clear() {
    m_length = 0;
    if (!m_contiguous)
        for (size_t i = 0; i < m_positions.size(); ++i)
            m_positions[i] = int32_t(i % size_t(m_capacity));
    m_contiguous = true;
    m_rows_evicted = 0;
}

void KVCache::set_length(int length) {
    assert(length >= 0 && length <= m_capacity &&
           "KVCache::set_length past capacity: the engine must check room()");
    m_length = length;
}

void KVCache::read_rows(Stream& stream, int layer, int kv_head, bool key, int row_begin, int n_rows,
                        float* out) const {
    assert(row_begin >= 0 && row_begin + n_rows <= m_capacity && "KVCache::read_rows outside the cache");
    const float* base = (key ? m_k[layer] : m_v[layer])->data();
    const size_t offset = (size_t(kv_head) * m_capacity + row_begin) * m_head_dim;
    stream.download(out, base + offset, size_t(n_rows) * m_head_dim);
}

void KVCache::read_stored_rows(Stream& stream, int layer, int kv_head, bool key, int row_begin, int n_rows,
                               uint8_t* out) const {
    assert(row_begin >= 0 && row_begin + n_rows <= m_capacity &&
           "KVCache::read_stored_rows outside the cache");
    if (!m_has_store) {
        std::vector<float> rows(size_t(n_rows) * m_head_dim);
        read_rows(stream, layer, kv_head, key, row_begin, n_rows, rows.data());
        stream.synchronize();
        std::memcpy(out, rows.data(), rows.size() * sizeof(float));
        return;
    }
    std::memcpy(out, stored(layer, kv_head, key, row_begin), size_t(n_rows) * m_row_bytes);
}

void KVCache::write_stored_rows(Stream& stream, int layer, int kv_head, const uint8_t* k_rows,
                                const uint8_t* v_rows, int n_rows) {
    assert(n_rows >= 0 && n_rows <= m_capacity && !m_policy.evicts() &&
           "KVCache::write_stored_rows: rows past the capacity, or an evicting cache");
    const size_t values = size_t(n_rows) * m_head_dim;
    if (!m_has_store) {
        std::vector<float> rows(values);
        for (bool key : {true, false}) {
            std::memcpy(rows.data(), key ? k_rows : v_rows, values * sizeof(float));
            float* dst = (key ? m_k[layer] : m_v[layer])->data() + size_t(kv_head) * m_capacity * m_head_dim;
            stream.upload(dst, rows.data(), values);
        }
        stream.synchronize();
        return;
    }
    std::memcpy(stored(layer, kv_head, true, 0), k_rows, size_t(n_rows) * m_row_bytes);
    std::memcpy(stored(layer, kv_head, false, 0), v_rows, size_t(n_rows) * m_row_bytes);
    int32_t* positions = m_positions.data() + (size_t(layer) * m_n_kv_heads + kv_head) * m_capacity;
    for (int r = 0; r < n_rows; ++r)
        positions[r] = r;
    rebuild_rows(stream, layer, kv_head, 0, n_rows, 0.0f,
                 RopeLayout::none);  // no re-indexing without eviction
    stream.synchronize();
}

uint8_t* KVCache::stored(int layer, int kv_head, bool key, int row) {
    return const_cast<uint8_t*>(std::as_const(*this).stored(layer, kv_head, key, row));
}

const uint8_t* KVCache::stored(int layer, int kv_head, bool key, int row) const {
    const size_t block = ((size_t(layer) * m_n_kv_heads + kv_head) * 2 + (key ? 0 : 1)) * m_capacity;
    return m_store.data() + (block + size_t(row)) * m_row_bytes;
}

void KVCache::stash_pre_rope_k(Stream& stream, const float* k, int n, int ld) {
    const int kv_dim = m_n_kv_heads * m_head_dim;
    m_pre_rope.resize(size_t(n) * kv_dim);
    for (int i = 0; i < n; ++i)
        stream.download(m_pre_rope.data() + size_t(i) * kv_dim, k + size_t(i) * ld, size_t(kv_dim));
}

void KVCache::commit_rows(Stream& stream, int layer, int row0, int n, int position0, float rope_theta,
                          RopeLayout rope_layout) {
    if (!m_has_store) return;  // the exact cache: the blocks are the store, row r holds position r
    const int hd = m_head_dim, H = m_n_kv_heads;
    std::vector<float>& computed = m_computed[size_t(layer)];  // [2][H][n][hd]
    computed.resize(size_t(2) * H * n * hd);
    for (int h = 0; h < H; ++h) {
        read_rows(stream, layer, h, true, row0, n, computed.data() + size_t(h) * n * hd);
        read_rows(stream, layer, h, false, row0, n, computed.data() + (size_t(H) + h) * n * hd);
    }
    stream.synchronize();
    const KVStorage& s = m_policy.storage;
    for (int h = 0; h < H; ++h) {
        for (int i = 0; i < n; ++i) {
            const float* k_src = m_policy.reindex ? m_pre_rope.data() + (size_t(i) * H + h) * hd
                                                  : computed.data() + (size_t(h) * n + i) * hd;
            s.encode_row(k_src, hd, stored(layer, h, true, row0 + i));
            s.encode_row(computed.data() + ((size_t(H) + h) * n + i) * hd, hd,
                         stored(layer, h, false, row0 + i));
            m_positions[(size_t(layer) * H + h) * m_capacity + row0 + i] = position0 + i;
        }
        if (s.lossy()) rebuild_rows(stream, layer, h, row0, row0 + n, rope_theta, rope_layout);
    }
    if (position0 != row0) m_contiguous = false;
}

std::span<const float> KVCache::computed_rows(int layer) const {
    if (!m_has_store || !m_policy.storage.lossy()) return {};
    return m_computed[size_t(layer)];
}

void KVCache::rebuild_rows(Stream& stream, int layer, int h, int row_begin, int row_end, float rope_theta,
                           RopeLayout rope_layout) {
    const int n = row_end - row_begin, hd = m_head_dim;
    if (n <= 0) return;
    std::vector<float> rows(size_t(n) * hd);
    float* k_dst = m_k[layer]->data() + (size_t(h) * m_capacity + row_begin) * hd;
    float* v_dst = m_v[layer]->data() + (size_t(h) * m_capacity + row_begin) * hd;
    for (int i = 0; i < n; ++i)
        m_policy.storage.decode_row(stored(layer, h, true, row_begin + i), hd, rows.data() + size_t(i) * hd);
    stream.upload(k_dst, rows.data(), rows.size());
    // A re-indexed key is stored before RoPE and rotated by its row in the cache.
    if (m_policy.reindex && rope_layout != RopeLayout::none)
        stream.rope(k_dst, n, hd, 1, hd, row_begin, rope_theta, rope_layout);
    for (int i = 0; i < n; ++i)
        m_policy.storage.decode_row(stored(layer, h, false, row_begin + i), hd, rows.data() + size_t(i) * hd);
    stream.upload(v_dst, rows.data(), rows.size());
}

void KVCache::keep_rows(Stream& stream, const RowsToKeep& keep, float rope_theta, RopeLayout rope_layout) {
    assert(m_has_store && "KVCache::keep_rows: only a cache with a store of record evicts");
    assert(keep.rows_after <= m_length && "KVCache::keep_rows keeps more rows than it holds");
    const int H = m_n_kv_heads;
    for (int l = 0; l < m_n_layers; ++l)
        for (int h = 0; h < H; ++h) {
            const int32_t* rows = keep.rows.data() + (size_t(l) * H + h) * keep.rows_after;
            int32_t* pos = m_positions.data() + (size_t(l) * H + h) * m_capacity;
            int first_moved = keep.rows_after;
            for (int i = 0; i < keep.rows_after; ++i) {
                const int src = rows[i];
                assert(src >= i && src < m_length && (i == 0 || src > rows[i - 1]) &&
                       "RowsToKeep: rows must be ascending and held");
                if (src == i) continue;
                first_moved = std::min(first_moved, i);
                std::memcpy(stored(l, h, true, i), stored(l, h, true, src), m_row_bytes);
                std::memcpy(stored(l, h, false, i), stored(l, h, false, src), m_row_bytes);
                pos[i] = pos[src];
            }
            rebuild_rows(stream, l, h, first_moved, keep.rows_after, rope_theta, rope_layout);
        }
    m_rows_evicted += uint64_t(m_length - keep.rows_after) * m_n_layers * H;
    if (keep.rows_after < m_length) m_contiguous = false;
    m_length = keep.rows_after;
    stream.synchronize();
}

}  // namespace kvscope
