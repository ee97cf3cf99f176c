// fixtures.h — the reference fixtures in ../shared/fixtures, for tests.
//
// Each model folder holds reference.safetensors written by Hugging Face transformers: the prompt ids,
// full-prompt logits, attention probabilities per layer, the KV cache after the prompt, and a greedy
// continuation with its logits (see ../shared/fixtures/README.md).
#pragma once

#include <QString>
#include <QStringList>
#include <cstdint>
#include <string>
#include <vector>

#include "kvscope/status.h"

namespace kvscope::test {

// The fixtures folder; empty when it is missing (callers QFAIL with fixtures_missing_message()).
std::string fixtures_dir();
std::string fixtures_missing_message();
// Every model fixture folder name: tiny-gpt2, tiny-llama-gqa, tiny-qwen2, tiny-llama-bf16-sharded.
QStringList model_fixture_names();
std::string model_fixture_path(const QString& name);

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
