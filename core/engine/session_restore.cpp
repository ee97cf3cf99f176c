// session_restore.cpp — Session::restore: a saved cache put back into a fresh session.
#include "kvscope/session.h"

namespace kvscope {

Status Session::restore(std::span<const int32_t> tokens, const std::vector<std::vector<uint8_t>>& k,
                        const std::vector<std::vector<uint8_t>>& v) {
    if (m_options.mode != SessionMode::cached)
        return Status::error("only a cached session can take a saved cache");
    if (m_options.cache.evicts())
        return Status::error("a saved cache holds a row for every position; this session runs the " +
                             m_options.cache.describe() + " cache variant, which drops rows");
    if (!m_tokens.empty())
        return Status::error("the session already holds " + std::to_string(m_tokens.size()) +
                             " tokens; a saved cache goes into an empty one");
    const ModelConfig& c = m_engine->config();
    const int n = static_cast<int>(tokens.size());
    if (n == 0) return Status::error("a saved cache with no tokens");
    if (n > m_capacity)
        return Status::error("the saved cache holds " + std::to_string(n) +
                             " tokens, past this session's capacity of " + std::to_string(m_capacity));
    const size_t head = size_t(n) * m_cache->row_bytes();
    const size_t per_layer = size_t(c.n_kv_heads) * head;
    if (int(k.size()) != c.n_layers || int(v.size()) != c.n_layers)
        return Status::error("the saved cache has " + std::to_string(k.size()) + " layers, the model " +
                             std::to_string(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l)
        if (k[size_t(l)].size() != per_layer || v[size_t(l)].size() != per_layer)
            return Status::error("layer " + std::to_string(l) + " of the saved cache holds " +
                                 std::to_string(k[size_t(l)].size()) + " bytes of K, expected " +
                                 std::to_string(per_layer) + " (" + m_cache->storage().describe() + ")");
    for (int i = 0; i < n; ++i)
        if (tokens[size_t(i)] < 0 || tokens[size_t(i)] >= c.vocab_size)
            return Status::error("token id " + std::to_string(tokens[size_t(i)]) + " at index " +
                                 std::to_string(i) + " is outside the vocabulary");
    for (int l = 0; l < c.n_layers; ++l)
        for (int h = 0; h < c.n_kv_heads; ++h)
            m_cache->write_stored_rows(*m_stream, l, h, k[size_t(l)].data() + size_t(h) * head,
                                       v[size_t(l)].data() + size_t(h) * head, n);
    KVSCOPE_TRY(m_stream->error().with_context("uploading the saved cache"));
    m_cache->set_length(n);
    m_tokens.assign(tokens.begin(), tokens.end());
    // As if one step (a prefill) had brought these tokens: truncate() and step numbering stay consistent.
    m_step_end_pos = {n};
    m_cumulative_by_step = {Counters{}};
    m_quality_by_step = {Quality{}};
    m_step = 1;
    m_logits.clear();
    return Status::ok();
}

StepTracePtr Session::restored_step(int32_t next_token, double seconds) const {
    const ModelConfig& c = m_engine->config();
    const int n = position();
    auto trace = new_trace(0, Phase::prefill, 0, n, /*computed_begin: nothing ran through the layers*/ n);
    trace->input_tokens = m_tokens;
    trace->restored = true;
    trace->chosen = next_token;
    trace->counters.wall_seconds = seconds;
    trace->counters.kv_bytes_resident = m_cache->bytes_resident();
    trace->cumulative = trace->counters;
    // The restored rows are all new to this session: what a trace's "new rows" (and "computed") hold.
    if (m_options.trace.kv != RowSelection::none && n > 0) {
        trace->kv.resize(size_t(c.n_layers));
        for (int l = 0; l < c.n_layers; ++l) {
            LayerKV& lk = trace->kv[size_t(l)];
            lk.row_begin = 0;
            lk.n_rows = n;
            read_layer_kv(l, 0, n, lk);
        }
        m_stream->synchronize();
    }
    fill_cache_state(trace->cache, n);
    return trace;
}

}  // namespace kvscope
