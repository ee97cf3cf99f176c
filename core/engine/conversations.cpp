// conversations.cpp — serving many conversations until memory is full; timing a chat's second turn.
#include "kvscope/conversations.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace kvscope {

namespace {

struct Active {
    int index = -1, sequence = -1;
    bool fresh = true;
    std::vector<int32_t> reply;
    int prefix_reused = 0;
};

bool out_of_memory(const std::string& message) {
    return message.find("paged KV cache is full") != std::string::npos;
}

}  // namespace

Result<ServeResult> serve_until_full(std::shared_ptr<const Engine> engine,
                                     std::span<const std::vector<int32_t>> prompts, const ServeOptions& o) {
    const auto started = std::chrono::steady_clock::now();
    BatchOptions bo = o.batch;
    bo.max_sequences = int(prompts.size()) + 1;
    auto made = BatchSession::create(engine, bo);
    if (!made) return made.status();
    BatchSession& b = *made.value();
    b.set_cancel_flag(o.cancel);
    const int limit = b.max_tokens();
    ServeResult r;
    r.layout = bo.layout;
    std::vector<Active> active;
    size_t next = 0;
    bool admitting = true;
    while (true) {
        while (admitting && int(active.size()) < o.in_flight && next < prompts.size()) {
            if (prompts[next].empty() || int(prompts[next].size()) >= limit)
                return Status::error("prompt " + std::to_string(next) + " has " +
                                     std::to_string(prompts[next].size()) + " tokens: it needs 1.." +
                                     std::to_string(limit - 1));
            auto id = b.add_sequence();
            if (!id) {  // contiguous: no room for another reservation
                admitting = false;
                r.memory_full = true;
                r.full_message = id.message();
                break;
            }
            active.push_back({int(next), id.value(), true, {}, 0});
            ++next;
        }
        if (active.empty()) break;
        std::vector<BatchSession::Input> inputs;
        for (const Active& a : active)
            inputs.push_back({a.sequence,
                              a.fresh ? prompts[size_t(a.index)] : std::vector<int32_t>{a.reply.back()},
                              false});
        auto step = b.step(inputs);
        if (!step) {
            if (!out_of_memory(step.message())) return step.status();
            // Paged: no block left. Stop admitting; drop the newest conversation in flight and try again.
            if (!r.memory_full) r.full_message = step.message();
            admitting = false;
            r.memory_full = true;
            b.remove_sequence(active.back().sequence);
            active.pop_back();
            ++r.preempted;
            continue;
        }
        ++r.steps;
        r.counters.accumulate(step->counters);
        for (const SequenceStep& s : step->sequences) {
            auto it = std::find_if(active.begin(), active.end(),
                                   [&](const Active& a) { return a.sequence == s.sequence; });
            it->fresh = false;
            it->prefix_reused += s.prefix_reused;
            it->reply.push_back(s.chosen);
        }
        // Finished replies stay resident; the rest go on.
        for (auto it = active.begin(); it != active.end();) {
            const int held = int(b.tokens(it->sequence).size());
            const bool done = (o.reply_done && o.reply_done(it->reply)) ||
                              (o.max_new_tokens > 0 && int(it->reply.size()) >= o.max_new_tokens) ||
                              held + 1 > limit;
            if (!done) {
                ++it;
                continue;
            }
            r.completed.push_back({it->index, it->sequence, int(prompts[size_t(it->index)].size()),
                                   int(it->reply.size()), it->prefix_reused});
            it = active.erase(it);
        }
    }
    r.never_admitted = int(prompts.size() - next);
    r.memory = b.memory();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return r;
}

Result<SecondTurn> measure_second_turn(std::shared_ptr<const Engine> engine, std::span<const int32_t> turn1,
                                       std::span<const int32_t> turn2, int reply_tokens,
                                       const std::function<bool(std::span<const int32_t>)>& reply_done,
                                       int repeats) {
    if (turn1.empty() || turn2.empty()) return Status::error("both turns need at least one token");
    BatchOptions bo;
    bo.max_sequences = 4;
    bo.share_prefixes = false;  // the second turn extends the sequence itself
    auto chat = BatchSession::create(engine, bo);
    if (!chat) return chat.status();
    BatchSession& b = *chat.value();
    SecondTurn t;
    auto id = b.add_sequence();
    if (!id) return id.status();
    const int seq = id.value();
    std::vector<BatchSession::Input> in = {{seq, std::vector<int32_t>(turn1.begin(), turn1.end()), false}};
    auto step = b.step(in);
    if (!step) return step.status();
    t.reply1.push_back(step->sequences[0].chosen);
    while (int(t.reply1.size()) < reply_tokens && !(reply_done && reply_done(t.reply1)) &&
           int(b.tokens(seq).size()) + 1 + int(turn2.size()) < b.max_tokens()) {
        in = {{seq, {t.reply1.back()}, false}};
        step = b.step(in);
        if (!step) return step.status();
        t.reply1.push_back(step->sequences[0].chosen);
    }
    // The history: turn 1, its reply (the last token fed with turn 2), then turn 2.
    std::vector<int32_t> turn2_in = {t.reply1.back()};
    turn2_in.insert(turn2_in.end(), turn2.begin(), turn2.end());
    t.history_tokens = int(b.tokens(seq).size());
    t.turn2_tokens = int(turn2_in.size());
    std::vector<int32_t> everything = b.tokens(seq);
    everything.insert(everything.end(), turn2_in.begin(), turn2_in.end());

    // Without the cache: a fresh engine session prefills everything. Same options, so it differs only
    // in what it must compute.
    auto fresh = BatchSession::create(engine, bo);
    if (!fresh) return fresh.status();
    std::vector<double> cached_s, uncached_s;
    std::vector<float> logits_cached, logits_uncached;
    for (int r = 0; r < std::max(1, repeats); ++r) {
        // With the cache: a fork holds turn 1's blocks; only turn 2 runs.
        auto fork = b.fork(seq, t.history_tokens);
        if (!fork) return fork.status();
        std::vector<BatchSession::Input> with = {{fork.value(), turn2_in, false}};
        auto a = b.step(with);
        if (!a) return a.status();
        cached_s.push_back(a->counters.wall_seconds);
        t.flops_cached = a->counters.flops();
        logits_cached = a->sequences[0].logits;
        t.first_token = a->sequences[0].chosen;
        b.remove_sequence(fork.value());

        auto other = fresh.value()->add_sequence();
        if (!other) return other.status();
        std::vector<BatchSession::Input> without = {{other.value(), everything, false}};
        auto u = fresh.value()->step(without);
        if (!u) return u.status();
        uncached_s.push_back(u->counters.wall_seconds);
        t.flops_uncached = u->counters.flops();
        logits_uncached = u->sequences[0].logits;
        if (u->sequences[0].chosen != t.first_token)
            return Status::error("the second turn's first token differs with (" +
                                 std::to_string(t.first_token) + ") and without (" +
                                 std::to_string(u->sequences[0].chosen) + ") the cached prefix");
        fresh.value()->remove_sequence(other.value());
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    t.ttft_cached_seconds = median(cached_s);
    t.ttft_uncached_seconds = median(uncached_s);
    for (size_t i = 0; i < logits_cached.size() && i < logits_uncached.size(); ++i)
        t.max_logit_diff = std::max(t.max_logit_diff, std::abs(logits_cached[i] - logits_uncached[i]));
    return t;
}

}  // namespace kvscope
