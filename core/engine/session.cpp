#include "kvscope/session.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/device_weights.h"
#include "engine/forward.h"
#include "engine/ops.h"
#include "kvscope/logit_compare.h"

namespace kvscope {

// ---- Engine -------------------------------------------------------------------------------------------

Result<std::shared_ptr<Engine>> Engine::create(std::shared_ptr<const Model> model,
                                               std::shared_ptr<Backend> backend) {
    if (!model) return Status::error("Engine::create: no model");
    if (!backend) return Status::error("Engine::create: no backend");
    KVSCOPE_TRY(model->validate());
    auto weights = upload_weights(*model, *backend);
    if (!weights) return weights.status().with_context(backend->name());
    auto engine = std::shared_ptr<Engine>(new Engine());
    engine->m_model = std::move(model);
    engine->m_backend = std::move(backend);
    engine->m_weights = std::move(weights.value());
    return engine;
}

Engine::~Engine() = default;

uint64_t Engine::weight_bytes_on_device() const {
    return m_weights->bytes;
}

// ---- Session ------------------------------------------------------------------------------------------

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Engine> engine,
                                                 SessionOptions options) {
    if (!engine) return Status::error("Session::create: no engine");
    KVSCOPE_TRY(options.sampler.validate());
    const ModelConfig& c = engine->config();
    int capacity = options.capacity;
    if (capacity <= 0) capacity = std::min(c.context_length, SessionOptions::kDefaultMaxCapacity);
    if (capacity > c.context_length)
        return Status::error("a KV cache of " + std::to_string(capacity) +
                             " tokens exceeds the model's context of " + std::to_string(c.context_length) +
                             " tokens");
    KVSCOPE_TRY(options.cache.validate().with_context("cache variant"));
    if (options.mode == SessionMode::uncached && !options.cache.exact())
        return Status::error("a cache variant (" + options.cache.describe() +
                             ") needs a cached session: the uncached run keeps no cache");
    auto session = std::unique_ptr<Session>(new Session());
    session->m_engine = std::move(engine);
    session->m_options = options;
    session->m_capacity = capacity;
    session->m_stream = session->m_engine->backend().make_stream();
    auto cache = KVCache::create(session->m_engine->backend(), c, capacity, options.cache);
    if (!cache) return cache.status();
    session->m_cache = std::move(cache.value());
    session->m_evictor = make_eviction_policy(options.cache);
    session->m_scratch = std::make_unique<Scratch>();
    return session;
}

Session::~Session() = default;

int Session::logits_rows() const {
    const int v = m_engine->config().vocab_size;
    return v > 0 ? static_cast<int>(m_logits.size()) / v : 0;
}

const Counters& Session::cumulative() const {
    static const Counters kZero{};
    return m_cumulative_by_step.empty() ? kZero : m_cumulative_by_step.back();
}

Result<StepTracePtr> Session::prefill(std::span<const int32_t> tokens, bool all_logits) {
    if (!m_tokens.empty())
        return Status::error("prefill on a session that already holds " + std::to_string(m_tokens.size()) +
                             " tokens; reset() it first");
    if (tokens.empty()) return Status::error("the prompt is empty: prefill needs at least one token");
    return run_step(tokens, Phase::prefill, all_logits);
}

Result<StepTracePtr> Session::decode(int32_t token) {
    if (m_tokens.empty()) return Status::error("decode before prefill: run the prompt first");
    return run_step(std::span<const int32_t>(&token, 1), Phase::decode, false);
}

Result<StepTracePtr> Session::run_step(std::span<const int32_t> new_tokens, Phase phase, bool all_logits) {
    const auto started = std::chrono::steady_clock::now();
    const ModelConfig& c = m_engine->config();
    const int n_new = static_cast<int>(new_tokens.size());
    for (int i = 0; i < n_new; ++i) {
        if (new_tokens[i] < 0 || new_tokens[i] >= c.vocab_size)
            return Status::error("token id " + std::to_string(new_tokens[i]) + " at index " +
                                 std::to_string(i) + " is outside the vocabulary (0.." +
                                 std::to_string(c.vocab_size - 1) + ")");
    }
    const int new_length = position() + n_new;
    const bool bounded = m_evictor != nullptr;  // an evicting cache: rows held stay below its budget
    if (!bounded && new_length > m_capacity) {
        if (m_capacity == c.context_length)
            return Status::error("the sequence would be " + std::to_string(new_length) +
                                 " tokens long, past the model's context of " +
                                 std::to_string(c.context_length) + " tokens");
        return Status::error("the sequence would be " + std::to_string(new_length) +
                             " tokens long, past this " + "session's KV cache capacity of " +
                             std::to_string(m_capacity) + " tokens (model context " +
                             std::to_string(c.context_length) + ")");
    }
    if (bounded) {
        if (m_cache->length() + n_new > m_capacity)
            return Status::error(std::to_string(n_new) + " new tokens do not fit this " +
                                 m_options.cache.describe() + " cache: it holds " +
                                 std::to_string(m_cache->length()) + " rows of " +
                                 std::to_string(m_capacity));
        if (c.arch == Architecture::gpt2 && new_length > c.context_length)
            return Status::error("the sequence would be " + std::to_string(new_length) +
                                 " tokens long: this model's learned positions end at " +
                                 std::to_string(c.context_length) + " (only a RoPE model can run past them)");
    }

    const bool cached = m_options.mode == SessionMode::cached;
    const TraceOptions& topt = m_options.trace;

    // What runs through the layers: cached: only the new tokens after the cache; uncached: everything,
    // from position 0, into a scratch cache emptied first.
    std::vector<int32_t> full;
    std::span<const int32_t> run = new_tokens;
    int pos0 = cached ? m_cache->length() : position();  // cache row of the first token run
    if (!cached) {
        full = m_tokens;
        full.insert(full.end(), new_tokens.begin(), new_tokens.end());
        run = full;
        pos0 = 0;
        m_cache->clear();
    }
    const int n_run = static_cast<int>(run.size());
    const int first_new_row = n_run - n_new;  // row of the first new token within this run

    auto row_begin = [&](RowSelection sel) { return sel == RowSelection::computed_rows ? 0 : first_new_row; };
    ForwardRequest req;
    req.tokens = run;
    req.pos0 = pos0;
    req.position0 = cached ? position() : 0;
    req.logits_from = all_logits ? first_new_row : n_run - 1;
    req.attention_from = topt.attention == RowSelection::none ? -1 : row_begin(topt.attention);
    const bool policy_reads_attention = m_evictor && m_evictor->needs_attention();
    if (policy_reads_attention) req.attention_from = 0;  // cached: the new rows are all the rows run
    // Rows over cache rows that are not positions are mapped below, from the float rows.
    const bool compact_in_forward =
        topt.compact_attention && !policy_reads_attention && (!cached || m_cache->contiguous());
    req.compact_attention = compact_in_forward;
    req.cancel = m_cancel;

    Counters step;
    CountedOps ops(*m_stream, step);
    auto fwd = forward(c, m_engine->weights(), *m_cache, *m_scratch, m_engine->backend(), ops, req);
    if (!fwd) {
        if (cached) m_cache->truncate(std::min(m_cache->length(), pos0));
        return fwd.status();
    }
    const int rows_in_step = cached ? m_cache->length() : 0;  // rows held before any eviction

    auto trace = new_trace(m_step, phase, position(), new_length, cached ? position() : 0);
    trace->input_tokens.assign(new_tokens.begin(), new_tokens.end());
    // The attention the variant computed is over cache rows; the trace speaks positions (a key the cache
    // no longer holds has weight 0), so views draw it over the text like the exact run's.
    const bool rows_are_positions = !cached || m_cache->contiguous();
    if (topt.attention != RowSelection::none) {
        if (rows_are_positions) {
            // The policy still reads the rows below; otherwise they can move.
            if (policy_reads_attention)
                trace->attention = fwd->attention;
            else
                trace->attention = std::move(fwd->attention);
        } else {
            const RowMapView map = m_cache->row_map();
            const int group = c.n_heads / c.n_kv_heads;
            for (int l = 0; l < int(fwd->attention.size()); ++l) {
                const LayerAttention& src = fwd->attention[size_t(l)];
                LayerAttention dst;
                dst.row_begin = position() + (src.row_begin - pos0);
                dst.n_rows = src.n_rows;
                dst.n_keys = dst.row_begin + dst.n_rows;
                dst.probs.assign(size_t(c.n_heads) * dst.n_rows * dst.n_keys, 0.0f);
                for (int h = 0; h < c.n_heads; ++h)
                    for (int r = 0; r < src.n_rows; ++r) {
                        const float* in = src.row(h, r);
                        float* out = dst.probs.data() + (size_t(h) * dst.n_rows + r) * dst.n_keys;
                        const int seen = src.row_begin + r + 1;  // causal: rows this query read
                        for (int j = 0; j < seen; ++j)
                            out[map.position(l, h / group, j)] = in[j];
                    }
                trace->attention.push_back(std::move(dst));
            }
        }
        if (topt.compact_attention && !compact_in_forward)
            for (LayerAttention& a : trace->attention)
                a = compact_attention(std::move(a), c.n_heads);
    }

    if (topt.kv != RowSelection::none) {
        const int kv_first = pos0 + row_begin(topt.kv);
        const int kv_rows = pos0 + n_run - kv_first;
        trace->kv.resize(c.n_layers);
        for (int l = 0; l < c.n_layers; ++l) {
            LayerKV& lk = trace->kv[l];
            lk.row_begin = kv_first - pos0 + (cached ? position() : 0);  // a position, not a cache row
            lk.n_rows = kv_rows;
            if (auto computed = m_cache->computed_rows(l); !computed.empty() && cached) {
                // [2][H][n][hd]: K then V, as the model computed them before the cache rounded them
                const size_t half = computed.size() / 2;
                lk.k_computed.assign(computed.begin(), computed.begin() + half);
                lk.v_computed.assign(computed.begin() + half, computed.end());
            }
            read_layer_kv(l, kv_first, kv_rows, lk);
        }
        m_stream->synchronize();
        if (Status st = m_stream->error(); !st) {
            m_cache->truncate(cached ? pos0 : 0);  // the step did not happen
            return st.with_context("reading the KV rows of the trace");
        }
    }

    // ---- the cache variant's eviction: after the step, the policy decides which rows stay
    // ------------------
    uint64_t rows_evicted = 0;
    if (cached && m_evictor) {
        const uint64_t before = m_cache->rows_evicted();
        std::span<const LayerAttention> rows_attention;
        if (policy_reads_attention) rows_attention = fwd->attention;
        if (auto keep = m_evictor->decide(m_cache->row_map(), rows_attention, c.n_heads)) {
            m_cache->keep_rows(*m_stream, *keep, c.rope_theta, c.rope_layout);
            if (Status st = m_stream->error(); !st) return st.with_context("evicting cache rows");
        }
        rows_evicted = m_cache->rows_evicted() - before;
    }
    fill_cache_state(trace->cache, n_run);

    m_logits = std::move(fwd->logits);
    std::span<const float> last(m_logits.data() + m_logits.size() - c.vocab_size, size_t(c.vocab_size));
    trace->top = top_k_tokens(last, std::max(topt.top_k, 1));
    trace->chosen = sample_token(last, m_options.sampler, new_length);
    if (auto it = std::find_if(trace->top.begin(), trace->top.end(),
                               [&](const TokenProb& t) { return t.id == trace->chosen; });
        it != trace->top.end()) {
        // Already computed with the top-k (always, when greedy): a second pass of exp over a large
        // vocabulary costs as much as a whole decode step on a GPU.
        trace->chosen_prob = it->prob;
    } else {
        // Probability of the chosen token at temperature 1 (what the token strip shows).
        float mx = last[0];
        for (float l : last)
            mx = std::max(mx, l);
        double sum = 0.0;
        for (float l : last)
            sum += std::exp(double(l) - mx);
        trace->chosen_prob = float(std::exp(double(last[trace->chosen]) - mx) / sum);
    }
    if (topt.top_k <= 0) trace->top.clear();
    if (topt.logits) trace->logits.assign(last.begin(), last.end());
    if (!m_reference.empty()) {
        Quality q = m_quality_by_step.empty() ? Quality{} : m_quality_by_step.back();
        if (m_reference.size() == last.size()) {
            const LogitComparison cmp = compare_logits(m_reference, last);
            q.measured = true;
            q.kl = cmp.kl;
            q.max_abs_logit_diff = cmp.max_abs_logit_diff;
            q.top1_agrees = cmp.top1_agrees();
            q.reference_top1 = cmp.exact_top1;
            q.steps += 1;
            q.kl_sum += cmp.kl;
            q.top1_agreements += cmp.top1_agrees() ? 1 : 0;
            q.max_abs_logit_diff_so_far = std::max(q.max_abs_logit_diff_so_far, cmp.max_abs_logit_diff);
            if (!cmp.top1_agrees() && q.first_disagreement_step < 0) q.first_disagreement_step = m_step;
        }
        trace->quality = q;
        m_reference.clear();
    } else if (!m_quality_by_step.empty()) {
        trace->quality = m_quality_by_step.back();
        trace->quality.measured = false;
    }

    m_tokens.insert(m_tokens.end(), new_tokens.begin(), new_tokens.end());
    if (!cached) m_cache->clear();  // the uncached run keeps nothing between steps

    const auto seconds = m_stream->take_op_seconds();
    for (int i = 0; i < kOpClassCount; ++i)
        step.by_op[i].seconds = seconds[i];
    step.tokens_processed = uint64_t(n_run);
    step.tokens_recomputed = uint64_t(first_new_row);
    step.kv_bytes_resident = cached ? m_cache->bytes_resident() : 0;
    step.kv_bytes_peak = m_cache->bytes_for(cached ? rows_in_step : n_run);
    step.kv_bytes_full = cached ? c.kv_bytes_per_token(4) * uint64_t(new_length) : 0;
    step.kv_rows_evicted = rows_evicted;
    step.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    Counters cumulative = this->cumulative();
    cumulative.accumulate(step);
    trace->counters = step;
    trace->cumulative = cumulative;
    m_cumulative_by_step.push_back(cumulative);
    m_quality_by_step.push_back(trace->quality);
    m_step_end_pos.push_back(new_length);
    ++m_step;
    return StepTracePtr(std::move(trace));
}

Status Session::truncate(int pos) {
    if (pos < 0 || pos > position())
        return Status::error("cannot truncate to position " + std::to_string(pos) + ": the session holds " +
                             std::to_string(position()) + " tokens");
    if (pos == 0) {
        reset();
        return Status::ok();
    }
    if (pos != position() && !can_truncate())
        return Status::error("this " + m_options.cache.describe() +
                             " cache cannot step back: it evicted rows or scored them by attention that the "
                             "later tokens gave; reset and replay the tokens instead");
    m_tokens.resize(size_t(pos));
    if (m_options.mode == SessionMode::cached) m_cache->truncate(pos);
    // Keep the steps that end at or before pos, and a step that pos falls inside (part of a prompt).
    size_t keep = 0;
    while (keep < m_step_end_pos.size() && (keep == 0 || m_step_end_pos[keep - 1] < pos))
        ++keep;
    m_step_end_pos.resize(keep);
    m_cumulative_by_step.resize(keep);
    m_quality_by_step.resize(keep);
    m_step = static_cast<int64_t>(keep);
    m_logits.clear();
    return Status::ok();
}

bool Session::can_truncate() const {
    if (!m_evictor) return true;
    return !m_evictor->needs_attention() && m_cache->rows_evicted() == 0;
}

void Session::compare_next_step_with(std::span<const float> reference) {
    m_reference.assign(reference.begin(), reference.end());
}

void Session::reset() {
    m_tokens.clear();
    m_cache->clear();
    if (m_evictor) m_evictor->reset();
    m_quality_by_step.clear();
    m_reference.clear();
    m_logits.clear();
    m_cumulative_by_step.clear();
    m_step_end_pos.clear();
    m_step = 0;
}

void Session::read_layer_kv(int layer, int first_row, int n_rows, LayerKV& lk) const {
    const ModelConfig& c = m_engine->config();
    const size_t head = size_t(n_rows) * size_t(c.head_dim);
    lk.k.resize(size_t(c.n_kv_heads) * head);
    lk.v.resize(lk.k.size());
    for (int h = 0; h < c.n_kv_heads; ++h) {
        m_cache->read_rows(*m_stream, layer, h, true, first_row, n_rows, lk.k.data() + size_t(h) * head);
        m_cache->read_rows(*m_stream, layer, h, false, first_row, n_rows, lk.v.data() + size_t(h) * head);
    }
}

std::shared_ptr<StepTrace> Session::new_trace(int64_t step, Phase phase, int pos_begin, int pos_end,
                                              int computed_begin) const {
    const ModelConfig& c = m_engine->config();
    auto trace = std::make_shared<StepTrace>();
    trace->step = step;
    trace->phase = phase;
    trace->mode = m_options.mode;
    trace->pos_begin = pos_begin;
    trace->pos_end = pos_end;
    trace->computed_begin = computed_begin;
    trace->n_layers = c.n_layers;
    trace->n_heads = c.n_heads;
    trace->n_kv_heads = c.n_kv_heads;
    trace->head_dim = c.head_dim;
    trace->vocab_size = c.vocab_size;
    trace->capacity = m_capacity;
    return trace;
}

void Session::fill_cache_state(CacheState& cs, int rows) const {
    const ModelConfig& c = m_engine->config();
    const bool cached = m_options.mode == SessionMode::cached;
    const CachePolicy& p = m_cache->policy();
    cs.policy = cache_variant_spec(p);
    cs.label = p.describe();
    cs.element = kv_element_name(p.storage.element);
    cs.bytes_per_value = m_cache->bytes_per_value();
    cs.row_bytes = m_cache->row_bytes();
    cs.rows = cached ? m_cache->length() : rows;
    cs.reindexed = p.reindex;
    cs.sinks = p.eviction == EvictionKind::sinks_window ? p.sinks : 0;
    cs.n_kv_heads = c.n_kv_heads;
    cs.contiguous = !cached || m_cache->contiguous();
    if (!cs.contiguous) {
        const RowMapView map = m_cache->row_map();
        cs.positions.reserve(size_t(c.n_layers) * c.n_kv_heads * cs.rows);
        for (int l = 0; l < c.n_layers; ++l)
            for (int h = 0; h < c.n_kv_heads; ++h)
                for (int r = 0; r < cs.rows; ++r)
                    cs.positions.push_back(map.position(l, h, r));
    }
}

void Session::read_cache_rows(int layer, int kv_head, bool key, int row_begin, int n_rows, float* out) const {
    m_cache->read_rows(*m_stream, layer, kv_head, key, row_begin, n_rows, out);
    m_stream->synchronize();
}

void Session::read_stored_cache_rows(int layer, int kv_head, bool key, int n_rows, uint8_t* out) const {
    m_cache->read_stored_rows(*m_stream, layer, kv_head, key, 0, n_rows, out);
}

}  // namespace kvscope
