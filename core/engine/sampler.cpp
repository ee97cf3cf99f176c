#include "kvscope/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace kvscope {

namespace {

// splitmix64: a fixed, portable mixer, so a (seed, position) pair gives the same draw on every platform.
uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Uniform in [0, 1) from the top 53 bits.
double uniform(uint64_t seed, int64_t position) {
    const uint64_t bits = mix(mix(seed) ^ static_cast<uint64_t>(position));
    return double(bits >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace

Status SamplerConfig::validate() const {
    if (!(temperature >= 0.0f) || !std::isfinite(temperature) || temperature > 100.0f)
        return Status::error("temperature must be between 0 and 100, got " + std::to_string(temperature));
    if (top_k < 0) return Status::error("top-k must be 0 (off) or positive, got " + std::to_string(top_k));
    if (!(top_p > 0.0f && top_p <= 1.0f))
        return Status::error("top-p must be in (0, 1], got " + std::to_string(top_p));
    return Status::ok();
}

std::string SamplerConfig::describe() const {
    if (greedy()) return "greedy";
    std::ostringstream ss;
    ss << "temperature " << temperature;
    if (top_k > 0) ss << ", top-k " << top_k;
    if (top_p < 1.0f) ss << ", top-p " << top_p;
    ss << ", seed " << seed;
    return ss.str();
}

std::vector<TokenProb> top_k_tokens(std::span<const float> logits, int k) {
    const int n = static_cast<int>(logits.size());
    k = std::clamp(k, 0, n);
    if (k == 0 || n == 0) return {};
    const float mx = *std::max_element(logits.begin(), logits.end());
    double sum = 0.0;
    for (float l : logits)
        sum += std::exp(double(l) - mx);
    std::vector<int32_t> ids(n);
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int32_t a, int32_t b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    std::vector<TokenProb> top(k);
    for (int i = 0; i < k; ++i)
        top[i] = {ids[i], logits[ids[i]], float(std::exp(double(logits[ids[i]]) - mx) / sum)};
    return top;
}

int32_t sample_token(std::span<const float> logits, const SamplerConfig& config, int64_t position) {
    const int n = static_cast<int>(logits.size());
    if (config.greedy()) {
        // Argmax; the first of equal maxima wins (as torch.argmax does).
        return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    // Candidates best first; keep top-k, then the smallest prefix whose probability reaches top-p.
    std::vector<int32_t> ids(n);
    std::iota(ids.begin(), ids.end(), 0);
    std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
    int keep = config.top_k > 0 ? std::min(config.top_k, n) : n;
    std::vector<double> p(keep);
    const double mx = logits[ids[0]];
    double sum = 0.0;
    for (int i = 0; i < keep; ++i)
        sum += p[i] = std::exp((double(logits[ids[i]]) - mx) / config.temperature);
    if (config.top_p < 1.0f) {
        double cum = 0.0;
        int cut = keep;
        for (int i = 0; i < keep; ++i) {
            cum += p[i] / sum;
            if (cum >= config.top_p) {
                cut = i + 1;
                break;
            }
        }
        keep = cut;
        sum = std::accumulate(p.begin(), p.begin() + keep, 0.0);
    }
    const double r = uniform(config.seed, position) * sum;
    double acc = 0.0;
    for (int i = 0; i < keep; ++i) {
        acc += p[i];
        if (r < acc) return ids[i];
    }
    return ids[keep - 1];
}

}  // namespace kvscope
