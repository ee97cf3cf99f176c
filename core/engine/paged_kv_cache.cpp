// paged_kv_cache.cpp — the block pool: storage, free list and reference counts.
#include <algorithm>
#include <cassert>
#include <functional>

#include "kvscope/paged_cache.h"

namespace kvscope {

Result<std::unique_ptr<BlockPool>> BlockPool::create(Backend& backend, const ModelConfig& config,
                                                     int block_size, int n_blocks) {
    if (block_size <= 0)
        return Status::error("KV block size must be positive, got " + std::to_string(block_size));
    if (n_blocks <= 0)
        return Status::error("a paged KV cache needs at least one block, got " + std::to_string(n_blocks));
    auto pool = std::unique_ptr<BlockPool>(new BlockPool());
    pool->m_block_size = block_size;
    pool->m_block_floats = size_t(config.n_kv_heads) * size_t(block_size) * size_t(config.head_dim);
    pool->m_bytes_per_token = config.kv_bytes_per_token(4);
    pool->m_ref_count.assign(size_t(n_blocks), 0);
    // Kept in descending order so pop_back() hands out the lowest free id.
    pool->m_free.resize(size_t(n_blocks));
    for (int i = 0; i < n_blocks; ++i)
        pool->m_free[size_t(i)] = n_blocks - 1 - i;
    const size_t per_layer = pool->m_block_floats * size_t(n_blocks);
    const std::string what = "paged KV cache (" + std::to_string(n_blocks) + " blocks of " +
                             std::to_string(block_size) + " tokens, " +
                             std::to_string(pool->bytes_per_block() * uint64_t(n_blocks)) + " bytes)";
    for (int l = 0; l < config.n_layers; ++l) {
        auto k = backend.allocate(per_layer);
        if (!k) return k.status().with_context(what);
        auto v = backend.allocate(per_layer);
        if (!v) return v.status().with_context(what);
        pool->m_k.push_back(std::move(k.value()));
        pool->m_v.push_back(std::move(v.value()));
    }
    return pool;
}

Result<int> BlockPool::allocate() {
    if (m_free.empty())
        return Status::error("the paged KV cache is full: all " + std::to_string(n_blocks()) + " blocks of " +
                             std::to_string(m_block_size) + " tokens are in use");
    const int block = m_free.back();
    m_free.pop_back();
    assert(m_ref_count[size_t(block)] == 0 && "BlockPool: a block on the free list was still referenced");
    m_ref_count[size_t(block)] = 1;
    return block;
}

void BlockPool::retain(int block) {
    assert(m_ref_count[size_t(block)] > 0 && "BlockPool::retain on a free block");
    ++m_ref_count[size_t(block)];
}

void BlockPool::release(int block) {
    assert(m_ref_count[size_t(block)] > 0 && "BlockPool::release on a free block");
    if (--m_ref_count[size_t(block)] == 0)
        m_free.insert(std::lower_bound(m_free.begin(), m_free.end(), block, std::greater<int>()), block);
}

}  // namespace kvscope
