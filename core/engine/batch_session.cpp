// batch_session.cpp — sequences, block tables, prefix reuse and copy-on-write around batch_forward().
#include "kvscope/batch_session.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "engine/batch_forward.h"
#include "engine/device_weights.h"
#include "engine/ops.h"

namespace kvscope {

const char* kv_layout_name(KVLayout layout) {
    return layout == KVLayout::paged ? "paged" : "contiguous";
}

struct BatchSession::Seq {
    int id = -1;
    std::vector<int32_t> tokens;
    std::vector<int> blocks;         // paged: the block table
    std::unique_ptr<KVCache> cache;  // contiguous: the reservation
    int32_t next = -1;
    int prefix_reused = 0;
};

BatchSession::BatchSession() = default;
BatchSession::~BatchSession() {
    if (m_pool)
        for (auto& s : m_seqs)
            for (int b : s->blocks)
                m_pool->release(b);
}

Result<std::unique_ptr<BatchSession>> BatchSession::create(std::shared_ptr<const Engine> engine,
                                                           BatchOptions o) {
    if (!engine) return Status::error("BatchSession::create: no engine");
    KVSCOPE_TRY(o.sampler.validate());
    const ModelConfig& c = engine->config();
    if (o.max_sequences < 1)
        return Status::error("a batch needs at least one sequence, got max_sequences " +
                             std::to_string(o.max_sequences));
    const int max_tokens = o.max_tokens > 0 ? o.max_tokens : c.context_length;
    if (max_tokens > c.context_length)
        return Status::error("a sequence limit of " + std::to_string(max_tokens) +
                             " tokens exceeds the model's context of " + std::to_string(c.context_length) +
                             " tokens");
    if (o.layout == KVLayout::paged && o.block_size <= 0)
        return Status::error("KV block size must be positive, got " + std::to_string(o.block_size));
    const uint64_t per_token = c.kv_bytes_per_token(4);
    if (o.budget_bytes == 0) o.budget_bytes = uint64_t(o.max_sequences) * uint64_t(max_tokens) * per_token;

    auto s = std::unique_ptr<BatchSession>(new BatchSession());
    s->m_engine = std::move(engine);
    s->m_options = o;
    s->m_max_tokens = max_tokens;
    s->m_stream = s->m_engine->backend().make_stream();
    s->m_scratch = std::make_unique<BatchScratch>();
    if (o.layout == KVLayout::paged) {
        const uint64_t block_bytes = per_token * uint64_t(o.block_size);
        const uint64_t n_blocks = o.budget_bytes / block_bytes;
        if (n_blocks == 0)
            return Status::error("a KV budget of " + std::to_string(o.budget_bytes) +
                                 " bytes holds no block of " + std::to_string(o.block_size) + " tokens (" +
                                 std::to_string(block_bytes) + " bytes)");
        auto pool = BlockPool::create(s->m_engine->backend(), c, o.block_size, int(n_blocks));
        if (!pool) return pool.status();
        s->m_pool = std::move(pool.value());
    }
    return s;
}

BatchSession::Seq* BatchSession::find(int id) {
    for (auto& s : m_seqs)
        if (s->id == id) return s.get();
    return nullptr;
}
const BatchSession::Seq* BatchSession::find(int id) const {
    for (auto& s : m_seqs)
        if (s->id == id) return s.get();
    return nullptr;
}

int BatchSession::n_sequences() const {
    return static_cast<int>(m_seqs.size());
}

std::vector<int> BatchSession::sequence_ids() const {
    std::vector<int> ids;
    for (auto& s : m_seqs)
        ids.push_back(s->id);
    return ids;
}

const std::vector<int32_t>& BatchSession::tokens(int id) const {
    static const std::vector<int32_t> kNone;
    const Seq* s = find(id);
    return s ? s->tokens : kNone;
}

int32_t BatchSession::next_token(int id) const {
    const Seq* s = find(id);
    return s ? s->next : -1;
}

Result<int> BatchSession::add_sequence() {
    if (n_sequences() >= m_options.max_sequences)
        return Status::error("the batch already holds its maximum of " +
                             std::to_string(m_options.max_sequences) + " sequences");
    auto seq = std::make_unique<Seq>();
    if (m_options.layout == KVLayout::contiguous) {
        const uint64_t need = m_engine->config().kv_bytes_per_token(4) * uint64_t(m_max_tokens);
        if (m_reserved_bytes + need > m_options.budget_bytes)
            return Status::error("the KV budget of " + std::to_string(m_options.budget_bytes) +
                                 " bytes has no room for another reservation of " +
                                 std::to_string(m_max_tokens) + " tokens (" + std::to_string(need) +
                                 " bytes): " + std::to_string(n_sequences()) + " sequences reserve " +
                                 std::to_string(m_reserved_bytes) + " bytes");
        auto cache = KVCache::create(m_engine->backend(), m_engine->config(), m_max_tokens);
        if (!cache) return cache.status();
        seq->cache = std::move(cache.value());
        m_reserved_bytes += need;
    }
    seq->id = m_next_id++;
    m_seqs.push_back(std::move(seq));
    return m_seqs.back()->id;
}

void BatchSession::remove_sequence(int id) {
    for (auto it = m_seqs.begin(); it != m_seqs.end(); ++it) {
        if ((*it)->id != id) continue;
        for (int b : (*it)->blocks)
            m_pool->release(b);
        if ((*it)->cache) m_reserved_bytes -= (*it)->cache->bytes_allocated();
        m_seqs.erase(it);
        return;
    }
}

void BatchSession::attach_prefix(Seq& child, const Seq& parent, int n_tokens, Counters& counters) {
    child.tokens.assign(parent.tokens.begin(), parent.tokens.begin() + n_tokens);
    child.prefix_reused += n_tokens;
    if (m_pool) {
        const int bs = m_pool->block_size();
        for (int i = 0; i * bs < n_tokens; ++i) {
            child.blocks.push_back(parent.blocks[size_t(i)]);
            m_pool->retain(parent.blocks[size_t(i)]);
        }
    } else {
        CountedOps ops(*m_stream, counters);
        copy_prefix(m_engine->config(), *parent.cache, *child.cache, n_tokens, ops);
    }
}

Result<int> BatchSession::fork(int parent_id, int n_tokens) {
    const Seq* parent = find(parent_id);
    if (!parent) return Status::error("fork: no sequence " + std::to_string(parent_id));
    if (n_tokens < 1 || n_tokens > int(parent->tokens.size()))
        return Status::error("fork: sequence " + std::to_string(parent_id) + " holds " +
                             std::to_string(parent->tokens.size()) + " tokens, cannot share " +
                             std::to_string(n_tokens));
    auto id = add_sequence();
    if (!id) return id;
    Counters copies;
    attach_prefix(*find(id.value()), *find(parent_id), n_tokens, copies);
    m_stream->synchronize();
    m_cumulative.accumulate(copies);
    return id;
}

// Makes blocks [pos0, pos0 + n) of a sequence exist and be its own: new blocks past its table, a private
// copy of any block another sequence also references (copy-on-write). The caller checked there is room.
Status BatchSession::ensure_private_blocks(Seq& seq, int pos0, int n, int* copies, Counters& counters) {
    const int bs = m_pool->block_size();
    CountedOps ops(*m_stream, counters);
    for (int idx = pos0 / bs; idx <= (pos0 + n - 1) / bs; ++idx) {
        if (idx < int(seq.blocks.size())) {
            const int old = seq.blocks[size_t(idx)];
            if (m_pool->ref_count(old) == 1) continue;
            auto fresh = m_pool->allocate();
            if (!fresh) return fresh.status();
            copy_block(m_engine->config(), *m_pool, old, fresh.value(), ops);
            m_pool->release(old);
            seq.blocks[size_t(idx)] = fresh.value();
            ++*copies;
        } else {
            auto fresh = m_pool->allocate();
            if (!fresh) return fresh.status();
            seq.blocks.push_back(fresh.value());
        }
    }
    return Status::ok();
}

Result<BatchStep> BatchSession::step(std::span<const Input> inputs) {
    const auto started = std::chrono::steady_clock::now();
    const ModelConfig& c = m_engine->config();
    if (inputs.empty()) return Status::error("a batch step needs at least one sequence");
    std::set<int> seen;
    for (const Input& in : inputs) {
        const Seq* s = find(in.sequence);
        if (!s) return Status::error("no sequence " + std::to_string(in.sequence) + " in this batch");
        if (!seen.insert(in.sequence).second)
            return Status::error("sequence " + std::to_string(in.sequence) + " appears twice in one step");
        if (in.tokens.empty())
            return Status::error("sequence " + std::to_string(in.sequence) + " brings no token to this step");
        for (size_t i = 0; i < in.tokens.size(); ++i)
            if (in.tokens[i] < 0 || in.tokens[i] >= c.vocab_size)
                return Status::error("sequence " + std::to_string(in.sequence) + ": token id " +
                                     std::to_string(in.tokens[i]) + " at index " + std::to_string(i) +
                                     " is outside the vocabulary (0.." + std::to_string(c.vocab_size - 1) +
                                     ")");
        const size_t len = s->tokens.size() + in.tokens.size();
        if (len > size_t(m_max_tokens))
            return Status::error("sequence " + std::to_string(in.sequence) + " would be " +
                                 std::to_string(len) + " tokens long, past its limit of " +
                                 std::to_string(m_max_tokens) + " tokens");
    }

    BatchStep result;
    result.step = m_step;
    Counters& counters = result.counters;
    std::vector<SequenceStep> out(inputs.size());
    std::vector<int> reused(inputs.size(), 0);

    // Prefix reuse: an empty sequence takes the longest prefix of its tokens another sequence holds.
    for (size_t i = 0; i < inputs.size(); ++i) {
        Seq& seq = *find(inputs[i].sequence);
        out[i].sequence = seq.id;
        out[i].pos_begin = int(seq.tokens.size());
        if (!m_options.share_prefixes || !seq.tokens.empty()) continue;
        const std::vector<int32_t>& want = inputs[i].tokens;
        int best = 0;
        const Seq* from = nullptr;
        for (auto& other : m_seqs) {
            if (other.get() == &seq) continue;
            const size_t limit = std::min(other->tokens.size(), want.size() - 1);
            size_t n = 0;
            while (n < limit && other->tokens[n] == want[n])
                ++n;
            if (int(n) > best) best = int(n), from = other.get();
        }
        if (!from) continue;
        attach_prefix(seq, *from, best, counters);
        reused[i] = best;
        out[i].prefix_reused = best;
        out[i].reused_from = from->id;
    }

    // Paged: count the blocks this step needs (new ones and copies-on-write) before taking any.
    auto undo_reuse = [&] {
        for (size_t i = 0; i < inputs.size(); ++i) {
            if (!reused[i]) continue;
            Seq& seq = *find(inputs[i].sequence);
            for (int b : seq.blocks)
                m_pool->release(b);
            seq.blocks.clear();
            seq.tokens.clear();
            seq.prefix_reused -= reused[i];
            if (seq.cache) seq.cache->clear();
        }
    };
    if (m_pool) {
        const int bs = m_pool->block_size();
        std::map<int, int> refs;  // simulated reference counts of the shared blocks touched
        int need = 0;
        for (size_t i = 0; i < inputs.size(); ++i) {
            const Seq& seq = *find(inputs[i].sequence);
            const int pos0 = int(seq.tokens.size()), n = int(inputs[i].tokens.size()) - reused[i];
            for (int idx = pos0 / bs; idx <= (pos0 + n - 1) / bs; ++idx) {
                if (idx >= int(seq.blocks.size())) {
                    ++need;
                    continue;
                }
                const int b = seq.blocks[size_t(idx)];
                auto it = refs.try_emplace(b, m_pool->ref_count(b)).first;
                if (it->second > 1) ++need, --it->second;
            }
        }
        if (need > m_pool->n_free()) {
            undo_reuse();
            return Status::error("the paged KV cache is full: this step needs " + std::to_string(need) +
                                 " more blocks of " + std::to_string(bs) + " tokens, " +
                                 std::to_string(m_pool->n_free()) + " of " +
                                 std::to_string(m_pool->n_blocks()) + " are free (budget " +
                                 std::to_string(m_pool->bytes_per_block() * m_pool->n_blocks()) + " bytes)");
        }
        for (size_t i = 0; i < inputs.size(); ++i) {
            Seq& seq = *find(inputs[i].sequence);
            KVSCOPE_TRY(ensure_private_blocks(seq, int(seq.tokens.size()),
                                              int(inputs[i].tokens.size()) - reused[i], &out[i].blocks_copied,
                                              counters));
        }
    }

    std::vector<BatchSegment> segs(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
        Seq& seq = *find(inputs[i].sequence);
        BatchSegment& g = segs[i];
        g.tokens = std::span<const int32_t>(inputs[i].tokens).subspan(size_t(reused[i]));
        g.pos0 = int(seq.tokens.size());
        g.logits_from = inputs[i].all_logits ? 0 : int(g.tokens.size()) - 1;
        if (seq.cache)
            g.contiguous = seq.cache.get();
        else
            g.blocks = &seq.blocks;
    }
    CountedOps ops(*m_stream, counters);
    auto logits = batch_forward(c, m_engine->weights(), m_pool.get(), segs, *m_scratch, m_engine->backend(),
                                ops, m_cancel);
    if (!logits) {
        // The step did not happen: caches shrink back; blocks taken for it go back to the pool.
        for (size_t i = 0; i < inputs.size(); ++i) {
            Seq& seq = *find(inputs[i].sequence);
            if (seq.cache) seq.cache->truncate(std::min(seq.cache->length(), int(seq.tokens.size())));
            if (m_pool) {
                const size_t keep =
                    (seq.tokens.size() + size_t(m_pool->block_size()) - 1) / size_t(m_pool->block_size());
                while (seq.blocks.size() > keep) {
                    m_pool->release(seq.blocks.back());
                    seq.blocks.pop_back();
                }
            }
        }
        return logits.status();
    }

    uint64_t rows = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
        Seq& seq = *find(inputs[i].sequence);
        seq.tokens.insert(seq.tokens.end(), segs[i].tokens.begin(), segs[i].tokens.end());
        rows += segs[i].tokens.size();
        SequenceStep& r = out[i];
        r.pos_end = int(seq.tokens.size());
        r.logits = std::move(logits.value()[i]);
        std::span<const float> last(r.logits.data() + r.logits.size() - size_t(c.vocab_size),
                                    size_t(c.vocab_size));
        r.top = top_k_tokens(last, std::max(m_options.top_k, 1));
        r.chosen = sample_token(last, m_options.sampler, r.pos_end);
        seq.next = r.chosen;
    }
    const auto seconds = m_stream->take_op_seconds();
    for (int i = 0; i < kOpClassCount; ++i)
        counters.by_op[size_t(i)].seconds = seconds[size_t(i)];
    counters.tokens_processed = rows;
    const MemoryMap map = memory();
    counters.kv_bytes_resident = map.bytes_allocated;
    counters.kv_bytes_peak = map.bytes_allocated;
    counters.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    m_cumulative.accumulate(counters);
    result.sequences = std::move(out);
    ++m_step;
    return result;
}

MemoryMap BatchSession::memory() const {
    MemoryMap m;
    m.layout = m_options.layout;
    m.bytes_per_token = m_engine->config().kv_bytes_per_token(4);
    m.budget_bytes = m_options.budget_bytes;
    if (m_pool) {
        const int bs = m_pool->block_size();
        m.block_size = bs;
        m.n_blocks = m_pool->n_blocks();
        m.n_free = m_pool->n_free();
        m.bytes_per_block = m_pool->bytes_per_block();
        m.budget_bytes = m.bytes_per_block * uint64_t(m.n_blocks);
        m.blocks.resize(size_t(m.n_blocks));
        for (int b = 0; b < m.n_blocks; ++b)
            m.blocks[size_t(b)].ref_count = m_pool->ref_count(b);
        for (auto& s : m_seqs) {
            const int len = int(s->tokens.size());
            for (size_t i = 0; i < s->blocks.size(); ++i) {
                MemoryMap::Block& blk = m.blocks[size_t(s->blocks[i])];
                blk.sequences.push_back(s->id);
                blk.rows_used = std::max(blk.rows_used, std::clamp(len - int(i) * bs, 0, bs));
            }
        }
        m.bytes_allocated = m.bytes_per_block * uint64_t(m_pool->n_used());
        for (auto& b : m.blocks)
            m.bytes_holding_tokens += uint64_t(b.rows_used) * m.bytes_per_token;
    } else {
        m.bytes_allocated = m_reserved_bytes;
        for (auto& s : m_seqs)
            m.bytes_holding_tokens += uint64_t(s->tokens.size()) * m.bytes_per_token;
    }
    for (auto& s : m_seqs) {
        MemoryMap::Sequence q;
        q.id = s->id;
        q.length = int(s->tokens.size());
        q.reserved_tokens = s->cache ? s->cache->capacity() : 0;
        q.blocks = s->blocks;
        q.prefix_reused = s->prefix_reused;
        m.sequences.push_back(std::move(q));
    }
    return m;
}

void BatchSession::read_rows(int id, int layer, int kv_head, bool key, int row_begin, int n_rows,
                             float* out) const {
    const Seq* s = find(id);
    if (!s) return;
    const int hd = m_engine->config().head_dim;
    if (s->cache) {
        s->cache->read_rows(*m_stream, layer, kv_head, key, row_begin, n_rows, out);
    } else {
        const int bs = m_pool->block_size();
        for (int r = row_begin; r < row_begin + n_rows;) {
            const int blk = s->blocks[size_t(r / bs)], off = r % bs,
                      cnt = std::min(bs - off, row_begin + n_rows - r);
            const float* base = key ? m_pool->k_block(layer, blk) : m_pool->v_block(layer, blk);
            m_stream->download(out + size_t(r - row_begin) * hd, base + (size_t(kv_head) * bs + off) * hd,
                               size_t(cnt) * hd);
            r += cnt;
        }
    }
    m_stream->synchronize();
}

}  // namespace kvscope
