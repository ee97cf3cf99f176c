// session.h — one sequence run token by token on one backend, with or without a KV cache.
//
//   Engine   a model whose weights are on a backend; shared by every session that runs it.
//   Session  one sequence. Cached: prefill computes K/V for the prompt in one pass, each decode computes
//            q/k/v for one token, appends one row per layer and KV head, and attends over the cache.
//            Uncached: every step runs the whole sequence through the model from scratch into a scratch
//            cache that is thrown away: exactly the work a model without a cache does.
// Both produce the same logits for the same tokens (float32: within 1e-4) and return a StepTrace per
// step. A cached session may run a cache variant (SessionOptions::cache, cache_policy.h): the model then
// really attends over what that cache stores and keeps; with the default policy it is the exact cache. A
// Session is used from one thread at a time; different sessions may run on different threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kvscope/backend.h"
#include "kvscope/cache_policy.h"
#include "kvscope/kv_cache.h"
#include "kvscope/model.h"
#include "kvscope/sampler.h"
#include "kvscope/status.h"
#include "kvscope/trace.h"

namespace kvscope {

struct DeviceWeights;
struct Scratch;

class Engine {
  public:
    static Result<std::shared_ptr<Engine>> create(std::shared_ptr<const Model> model,
                                                  std::shared_ptr<Backend> backend);
    ~Engine();
    const Model& model() const { return *m_model; }
    const ModelConfig& config() const { return m_model->config; }
    const std::shared_ptr<const Model>& model_ptr() const { return m_model; }
    Backend& backend() const { return *m_backend; }
    const DeviceWeights& weights() const { return *m_weights; }
    uint64_t weight_bytes_on_device() const;  // 0 on the CPU, where weights are used in place

  private:
    Engine() = default;
    std::shared_ptr<const Model> m_model;
    std::shared_ptr<Backend> m_backend;
    std::unique_ptr<DeviceWeights> m_weights;
};

struct SessionOptions {
    SessionMode mode = SessionMode::cached;
    // Tokens the sequence may reach; 0: the model's context length, at most kDefaultMaxCapacity (a longer
    // cache must be asked for explicitly: it is allocated up front).
    int capacity = 0;
    static constexpr int kDefaultMaxCapacity = 8192;
    SamplerConfig sampler;
    TraceOptions trace;
    // The cache variant (cached mode only); the default is the exact float32 cache. An evicting policy
    // holds at most held() + the new tokens' rows, so it may run past `capacity` and, re-indexed (or on a
    // RoPE model), past the model's context.
    CachePolicy cache;
};

class Session {
  public:
    static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Engine> engine,
                                                   SessionOptions options);
    ~Session();

    SessionMode mode() const { return m_options.mode; }
    const SessionOptions& options() const { return m_options; }
    void set_sampler(const SamplerConfig& sampler) { m_options.sampler = sampler; }
    void set_trace_options(const TraceOptions& trace) { m_options.trace = trace; }
    const Engine& engine() const { return *m_engine; }

    // Runs the prompt (the session must be empty) and samples the token that follows it.
    // With all_logits, logits() holds a row for every prompt position, else only the last.
    Result<StepTracePtr> prefill(std::span<const int32_t> tokens, bool all_logits = false);
    // Feeds one token at position() and samples the next.
    Result<StepTracePtr> decode(int32_t token);

    // Forgets everything from position `pos` on: the next decode(token) runs at position pos.
    // Keeps the step counter consistent (the next step is numbered as if the rest had never happened).
    // A cache that evicted rows (or scores rows by the attention they received) cannot step back: the
    // error says so, and reset() then replaying the tokens is the way back.
    Status truncate(int pos);
    bool can_truncate() const;

    // Makes the next step compare its last logits row with `reference` (the exact run's, for the same
    // tokens) and record the result in its trace's Quality, with running totals.
    void compare_next_step_with(std::span<const float> reference);
    void reset();

    int position() const { return static_cast<int>(m_tokens.size()); }
    int capacity() const { return m_capacity; }
    int64_t steps_taken() const { return m_step; }
    const std::vector<int32_t>& tokens() const { return m_tokens; }
    // Logits of the last step on the host: [rows, vocab].
    std::span<const float> logits() const { return m_logits; }
    int logits_rows() const;
    // The persistent cache (cached mode), or null.
    const KVCache* cache() const { return m_options.mode == SessionMode::cached ? m_cache.get() : nullptr; }
    // The cumulative counters of the steps taken (truncate rolls them back).
    const Counters& cumulative() const;
    // Copies rows of the cache to the host (cached mode only).
    void read_cache_rows(int layer, int kv_head, bool key, int row_begin, int n_rows, float* out) const;
    // Copies rows [0, n_rows) of one head's K (or V) as the cache stores them (KVCache::read_stored_rows).
    void read_stored_cache_rows(int layer, int kv_head, bool key, int n_rows, uint8_t* out) const;

    // Fills an empty cached session with a saved state (kvscope/cache_file.h): `tokens` and their K/V rows
    // as the session's cache stores them (KVCache::read_stored_rows: float32, or the variant's encoding),
    // k[layer] and v[layer] as [n_kv_heads][tokens][row bytes]; the next decode() continues after them.
    // A cache variant that drops rows cannot take one.
    Status restore(std::span<const int32_t> tokens, const std::vector<std::vector<uint8_t>>& k,
                   const std::vector<std::vector<uint8_t>>& v);

    // After restore(): the trace of the restored tokens as one step (StepTrace::restored): their K/V rows
    // as the trace options select them, the cache's state, `next_token` as the chosen token and
    // `seconds` (the time the restore took) as the wall time; nothing else was computed. (For a cache of
    // fewer bits the values before rounding are not in a saved cache: LayerKV::k_computed stays empty.)
    StepTracePtr restored_step(int32_t next_token, double seconds) const;

    // A step checks this flag between layers and gives up with an error when it is set.
    void set_cancel_flag(const std::atomic<bool>* flag) { m_cancel = flag; }

  private:
    Session() = default;
    Result<StepTracePtr> run_step(std::span<const int32_t> new_tokens, Phase phase, bool all_logits);
    // The cache after a step: its policy, sizes and row map (`rows`: the rows an uncached step ran).
    void fill_cache_state(CacheState& cs, int rows) const;
    // Queues the copy of cache rows [first_row, first_row + n_rows) of one layer, K and V of every KV head,
    // into lk.k and lk.v ([n_kv_heads][n_rows][head_dim]); the caller synchronizes the stream.
    void read_layer_kv(int layer, int first_row, int n_rows, LayerKV& lk) const;
    // A step's trace with its number, phase, positions and the model's shapes filled in.
    std::shared_ptr<StepTrace> new_trace(int64_t step, Phase phase, int pos_begin, int pos_end,
                                         int computed_begin) const;

    std::shared_ptr<const Engine> m_engine;
    SessionOptions m_options;
    int m_capacity = 0;
    std::unique_ptr<Stream> m_stream;
    std::unique_ptr<KVCache> m_cache;  // cached: persistent; uncached: scratch, cleared every step
    std::unique_ptr<Scratch> m_scratch;
    std::vector<int32_t> m_tokens;
    std::vector<float> m_logits;
    std::vector<Counters> m_cumulative_by_step;  // cumulative counters after each step, for truncate
    std::vector<Quality> m_quality_by_step;      // running quality totals after each step
    std::unique_ptr<EvictionPolicy> m_evictor;   // null: nothing is evicted
    std::vector<float> m_reference;              // the next step's reference logits, when set
    int64_t m_step = 0;
    std::vector<int> m_step_end_pos;  // position after each step
    const std::atomic<bool>* m_cancel = nullptr;
};

}  // namespace kvscope
