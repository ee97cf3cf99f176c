// paged_cache.h — the KV cache cut into fixed-size blocks that sequences share (PagedAttention's layout).
//
// A BlockPool holds n_blocks blocks of block_size token rows for every layer, in the backend's memory:
//   k(layer): [n_blocks][n_kv_heads][block_size][head_dim]   (same for v)
// so one block of one layer is laid out exactly like a KVCache of capacity block_size, and the engine's
// kv_write op fills it unchanged. A sequence owns a block table: entry i holds its positions
// [i·block_size, (i+1)·block_size). Blocks come from a free list and carry a reference count: a prefix that
// several sequences share is stored once; a sequence about to write into a block that another sequence
// also references first takes a private copy (copy-on-write). The pool never grows: it is the memory
// budget, and allocate() says so when no block is free. Sequences and their tables live in BatchSession.
// This header knows nothing of how attention reads the blocks (core/engine/batch_forward does that).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kvscope/backend.h"
#include "kvscope/model.h"
#include "kvscope/status.h"

namespace kvscope {

class BlockPool {
  public:
    static constexpr int kDefaultBlockSize = 16;

    // Allocates n_blocks x block_size token rows of K and V for every layer on `backend`.
    static Result<std::unique_ptr<BlockPool>> create(Backend& backend, const ModelConfig& config,
                                                     int block_size, int n_blocks);

    int block_size() const { return m_block_size; }
    int n_blocks() const { return static_cast<int>(m_ref_count.size()); }
    int n_free() const { return static_cast<int>(m_free.size()); }
    int n_used() const { return n_blocks() - n_free(); }
    int ref_count(int block) const { return m_ref_count[size_t(block)]; }

    // Bytes one block holds over all layers (K and V), and one token row of it.
    uint64_t bytes_per_block() const { return m_bytes_per_token * uint64_t(m_block_size); }
    uint64_t bytes_per_token() const { return m_bytes_per_token; }

    // Takes a block from the free list (reference count 1), or says that none is left.
    Result<int> allocate();
    void retain(int block);   // one more sequence references it
    void release(int block);  // one fewer; at zero it returns to the free list

    // Backend pointers to one block of one layer: [n_kv_heads][block_size][head_dim].
    float* k_block(int layer, int block) const {
        return m_k[size_t(layer)]->data() + size_t(block) * m_block_floats;
    }
    float* v_block(int layer, int block) const {
        return m_v[size_t(layer)]->data() + size_t(block) * m_block_floats;
    }
    size_t floats_per_block_layer() const { return m_block_floats; }

  private:
    BlockPool() = default;
    int m_block_size = 0;
    size_t m_block_floats = 0;  // n_kv_heads x block_size x head_dim
    uint64_t m_bytes_per_token = 0;
    std::vector<int> m_ref_count;  // per block; 0: free
    std::vector<int> m_free;       // free block ids; allocate() takes the lowest first (a stable map)
    std::vector<std::unique_ptr<Buffer>> m_k, m_v;  // one per layer
};

}  // namespace kvscope
