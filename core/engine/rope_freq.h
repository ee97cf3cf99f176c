// rope_freq.h — the RoPE inverse frequencies, one definition for every backend.
//
// inv_freq_j = 1 / theta^(2j / hd) in float32, as Hugging Face (torch float32 ops) and llama2.c compute
// it; each backend then rounds the angle float(pos) · inv_freq_j to float before taking cos and sin, so
// CPU and GPU rotate by the same numbers.
#pragma once

#include <cmath>
#include <vector>

namespace kvscope {

inline std::vector<float> rope_inv_freq(float theta, int hd) {
    std::vector<float> inv_freq(size_t(hd / 2));
    for (int j = 0; j < hd / 2; ++j)
        inv_freq[size_t(j)] = 1.0f / std::pow(theta, float(2 * j) / float(hd));
    return inv_freq;
}

}  // namespace kvscope
