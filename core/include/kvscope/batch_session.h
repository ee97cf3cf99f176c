// batch_session.h — several sequences (conversations) decoded together over one KV memory budget.
//
// A BatchSession holds up to max_sequences sequences on one Engine and steps them as a batch: one forward
// pass over the new tokens of every sequence in the step (a decoding sequence brings one token, a new one
// its prompt), so the weights are read once for all of them. Their K/V live in one of two layouts:
//   paged       a BlockPool the size of the budget; each sequence a block table that grows a block at a
//               time; a prefix already cached by another sequence is shared (its blocks referenced, its
//               prefill skipped) and copied on write; the last block of each sequence is partly empty.
//   contiguous  the baseline every serving system started from: each sequence reserves its maximum length
//               up front, as one contiguous KVCache, when it is added; a shared prefix is copied.
// Both run the same arithmetic (paged attention gathers through the table, then runs the contiguous op):
// the same batch gives the same logits bit for bit in either layout.
// memory() describes where every byte is, for the Conversations view. One thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kvscope/counters.h"
#include "kvscope/paged_cache.h"
#include "kvscope/sampler.h"
#include "kvscope/session.h"
#include "kvscope/status.h"

namespace kvscope {

struct BatchScratch;

enum class KVLayout { paged, contiguous };
const char* kv_layout_name(KVLayout layout);

struct BatchOptions {
    KVLayout layout = KVLayout::paged;
    int block_size = 16;        // tokens per block (paged)
    uint64_t budget_bytes = 0;  // K/V memory for all sequences; 0: max_sequences x max_tokens
    int max_tokens = 0;         // per sequence; 0: the model's context
    int max_sequences = 8;
    bool share_prefixes = true;  // reuse the longest prefix another sequence already holds
    SamplerConfig sampler;
    int top_k = 5;
};

// One sequence's part of a step.
struct SequenceStep {
    int sequence = -1;
    int pos_begin = 0, pos_end = 0;  // positions fed this step (prefix reused included)
    int prefix_reused = 0;           // leading tokens taken from another sequence's cache, not computed
    int reused_from = -1;            // that sequence
    int blocks_copied = 0;           // copy-on-write copies this step made for it
    std::vector<TokenProb> top;
    int32_t chosen = -1;
    std::vector<float> logits;  // the rows asked for: [rows, vocab]
};

struct BatchStep {
    int64_t step = 0;
    std::vector<SequenceStep> sequences;
    Counters counters;  // the whole batch's forward pass (and any copies), counted by the ops
};

// Where the K/V bytes are. Paged: one entry per block. Contiguous: none (each sequence one region).
struct MemoryMap {
    KVLayout layout = KVLayout::paged;
    int block_size = 0, n_blocks = 0, n_free = 0;
    uint64_t bytes_per_token = 0, bytes_per_block = 0;
    uint64_t budget_bytes = 0;
    uint64_t bytes_allocated = 0;       // blocks in use (paged) or reservations (contiguous)
    uint64_t bytes_holding_tokens = 0;  // rows actually written (a shared row counted once)
    struct Block {
        int ref_count = 0;
        int rows_used = 0;           // rows written (the most any referencing sequence reached)
        std::vector<int> sequences;  // referencing sequences
    };
    std::vector<Block> blocks;
    struct Sequence {
        int id = -1;
        int length = 0;
        int reserved_tokens = 0;  // contiguous: the up-front reservation
        std::vector<int> blocks;  // paged: the block table
        int prefix_reused = 0;    // tokens taken from another sequence's cache over its life
    };
    std::vector<Sequence> sequences;
    uint64_t wasted_bytes() const { return bytes_allocated - bytes_holding_tokens; }
};

class BatchSession {
  public:
    static Result<std::unique_ptr<BatchSession>> create(std::shared_ptr<const Engine> engine,
                                                        BatchOptions options);
    ~BatchSession();

    const BatchOptions& options() const { return m_options; }
    const Engine& engine() const { return *m_engine; }
    int max_tokens() const { return m_max_tokens; }

    // A new, empty sequence; contiguous: reserves max_tokens now, or says the budget has no room.
    Result<int> add_sequence();
    void remove_sequence(int id);  // frees its blocks (or reservation)
    // A new sequence holding the first n_tokens of `parent` (paged: shared blocks; contiguous: copied).
    Result<int> fork(int parent, int n_tokens);

    struct Input {
        int sequence = -1;
        std::vector<int32_t> tokens;  // appended at the sequence's end (a prompt, a turn, or one token)
        bool all_logits = false;      // logits of every new row, else of the last only
    };
    // One forward pass over every input (at most one per sequence). An empty sequence first takes the
    // longest prefix of its tokens that another sequence holds (all but the last token at most).
    Result<BatchStep> step(std::span<const Input> inputs);

    int n_sequences() const;
    std::vector<int> sequence_ids() const;
    const std::vector<int32_t>& tokens(int id) const;
    int32_t next_token(int id) const;  // sampled at the end of its last step
    MemoryMap memory() const;
    const Counters& cumulative() const { return m_cumulative; }
    // Copies rows of a sequence's K (or V) of one layer and KV head to the host: [n_rows, head_dim].
    void read_rows(int id, int layer, int kv_head, bool key, int row_begin, int n_rows, float* out) const;

    void set_cancel_flag(const std::atomic<bool>* flag) { m_cancel = flag; }

  private:
    struct Seq;
    BatchSession();
    Seq* find(int id);
    const Seq* find(int id) const;
    Status ensure_private_blocks(Seq& seq, int pos0, int n, int* copies, Counters& counters);
    void attach_prefix(Seq& child, const Seq& parent, int n_tokens, Counters& counters);

    std::shared_ptr<const Engine> m_engine;
    BatchOptions m_options;
    int m_max_tokens = 0;
    std::unique_ptr<Stream> m_stream;
    std::unique_ptr<BlockPool> m_pool;
    std::unique_ptr<BatchScratch> m_scratch;
    std::vector<std::unique_ptr<Seq>> m_seqs;
    int m_next_id = 0;
    int64_t m_step = 0;
    uint64_t m_reserved_bytes = 0;
    Counters m_cumulative;
    const std::atomic<bool>* m_cancel = nullptr;
};

}  // namespace kvscope
