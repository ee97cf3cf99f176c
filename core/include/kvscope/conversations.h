// conversations.h — many conversations served from one KV memory budget, and a chat's second turn.
//
// serve_until_full() runs conversations through one BatchSession the way a server would: up to in_flight
// of them decode together as a batch; a conversation is admitted with its prompt, replies until
// reply_done says its reply is over (or a length limit), and is then kept resident, its cache held for
// its next turn. Admission stops when the memory is full: under contiguous reservation when the budget
// has no room for another maximum-length reservation; under paging when a step finds no free block, and
// then the conversations still in flight are dropped (preempted) one by one, newest first, until the rest
// can finish. What remains is the number of complete conversations that memory holds at once.
//
// measure_second_turn() times the first token of a chat's second turn twice on the same engine: with the
// first turn's cache (only the new message is prefilled) and without it (the whole history is).
// Nothing here is estimated: every figure is counted or timed from the steps that ran.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kvscope/batch_session.h"

namespace kvscope {

struct ServeOptions {
    BatchOptions batch;      // layout, block size, budget, per-conversation token limit, sharing
    int in_flight = 8;       // conversations decoding together
    int max_new_tokens = 0;  // a reply's longest; 0: up to the token limit
    // Whether a reply (the tokens generated so far) is over, e.g. it ends a speech; null: never.
    std::function<bool(std::span<const int32_t> reply)> reply_done;
    const std::atomic<bool>* cancel = nullptr;
};

struct ServedConversation {
    int index = -1;  // into the prompts
    int sequence = -1;
    int prompt_tokens = 0;
    int reply_tokens = 0;   // generated (the last one is chosen, not yet fed: the cache holds one fewer)
    int prefix_reused = 0;  // prompt tokens taken from another conversation's cache
};

struct ServeResult {
    KVLayout layout = KVLayout::paged;
    std::vector<ServedConversation> completed;  // held in memory at the end
    int preempted = 0;                          // in flight when memory ran out, dropped
    int never_admitted = 0;                     // prompts left when admission stopped
    bool memory_full = false;
    std::string full_message;  // what the memory said when it ran out
    MemoryMap memory;          // at the end: the completed conversations, held at once
    Counters counters;         // every step, summed
    int64_t steps = 0;
    double seconds = 0.0;
};

Result<ServeResult> serve_until_full(std::shared_ptr<const Engine> engine,
                                     std::span<const std::vector<int32_t>> prompts,
                                     const ServeOptions& options);

struct SecondTurn {
    int history_tokens = 0;  // turn 1 (prompt and reply) held in the cache
    int turn2_tokens = 0;    // the new message
    double ttft_cached_seconds = 0.0, ttft_uncached_seconds = 0.0;  // medians over the repeats
    uint64_t flops_cached = 0, flops_uncached = 0;                  // of one such step
    float max_logit_diff = 0.0f;                                    // between the two first-token logits
    int32_t first_token = -1;     // the same with and without the cache (checked)
    std::vector<int32_t> reply1;  // turn 1's reply
};

// Turn 1: `turn1` is prefilled and answered (up to reply_tokens tokens, or until reply_done); turn 2:
// `turn2` follows, and the step that yields its first token is timed with the cached history and with a
// fresh prefill of everything, `repeats` times each (alternating); medians are reported.
Result<SecondTurn> measure_second_turn(std::shared_ptr<const Engine> engine, std::span<const int32_t> turn1,
                                       std::span<const int32_t> turn2, int reply_tokens,
                                       const std::function<bool(std::span<const int32_t>)>& reply_done,
                                       int repeats = 3);

}  // namespace kvscope
