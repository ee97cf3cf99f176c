// reference.h — the reference outputs in a fixture folder (reference.safetensors), without Qt.
//
// Each model fixture holds reference.safetensors written by Hugging Face transformers: the prompt ids,
// full-prompt logits, attention probabilities per layer, the KV cache after the prompt, and a greedy
// continuation with its logits (see ../shared/fixtures/README.md). Qt-free so that the backend parity
// check (tests/parity) builds where Qt is absent, e.g. on a GPU machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kvscope/status.h"

namespace kvscope::test {

struct FloatArray {
    std::vector<int64_t> shape;
    std::vector<float> values;
    int64_t dim(int i) const { return shape[size_t(i)]; }
};

struct Reference {
    std::vector<int32_t> input_ids;       // [T]
    std::vector<int32_t> generated;       // [N]
    FloatArray logits;                    // [T, V]
    FloatArray gen_logits;                // [N, V]
    std::vector<FloatArray> attention;    // per layer [H, T, T]
    std::vector<FloatArray> cache_key;    // per layer [KVH, T, D]
    std::vector<FloatArray> cache_value;  // per layer [KVH, T, D]
};

Result<Reference> load_reference(const std::string& model_dir);

// Largest |a − b| over two equally long arrays.
float max_abs_diff(const float* a, const float* b, size_t n);

}  // namespace kvscope::test
