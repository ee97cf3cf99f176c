#include "kvscope/kv_cache.h"

#include <cassert>

namespace kvscope {

Result<std::unique_ptr<KVCache>> KVCache::create(Backend& backend, const ModelConfig& config, int capacity) {
    if (capacity <= 0)
        return Status::error("KV cache capacity must be positive, got " + std::to_string(capacity));
    auto cache = std::unique_ptr<KVCache>(new KVCache());
    cache->m_capacity = capacity;
    cache->m_n_layers = config.n_layers;
    cache->m_n_kv_heads = config.n_kv_heads;
    cache->m_head_dim = config.head_dim;
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
    return cache;
}

void KVCache::truncate(int length) {
    assert(length >= 0 && length <= m_length && "KVCache::truncate can only shorten the cache");
    m_length = length;
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

}  // namespace kvscope
