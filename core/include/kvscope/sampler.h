// sampler.h — choosing the next token from logits: greedy, temperature, top-k, top-p, with a seed.
//
// The random draw for a position depends only on (seed, position), never on how many draws came before,
// so stepping back and stepping again reproduces the same tokens. Ties in greedy go to the lowest id.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kvscope/status.h"

namespace kvscope {

struct SamplerConfig {
    float temperature = 0.0f;  // 0: greedy (argmax)
    int top_k = 0;             // 0: no limit
    float top_p = 1.0f;        // 1: no nucleus cut
    uint64_t seed = 0;

    bool greedy() const { return temperature <= 0.0f; }
    Status validate() const;       // e.g. "top_p must be in (0, 1], got 1.5"
    std::string describe() const;  // "greedy" or "temperature 0.8, top-k 40, top-p 0.95, seed 1"
};

struct TokenProb {
    int32_t id = -1;
    float logit = 0.0f;
    float prob = 0.0f;  // softmax at temperature 1 over the whole vocabulary
};

// The k most likely tokens of a logits row, best first, with their probabilities.
std::vector<TokenProb> top_k_tokens(std::span<const float> logits, int k);

// Samples a token for sequence position `position` (the position the token will occupy).
int32_t sample_token(std::span<const float> logits, const SamplerConfig& config, int64_t position);

}  // namespace kvscope
