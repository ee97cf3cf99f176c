// writers.h — writing model files: safetensors (layout in core/model/formats/safetensors.h) and GGUF
// (layout in core/model/formats/gguf.h).
// Used by `kvscope-cli make-model` (random models for benchmarks), by `convert`, and by tests that build
// bad inputs on purpose. Writers never leave a half-written file: they write a temporary and rename it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kvscope/model.h"
#include "kvscope/status.h"

namespace kvscope {

struct SafetensorsTensor {
    std::string name;
    std::vector<int64_t> shape;
    DType dtype = DType::f32;  // F32, F16 or BF16: values are converted on write
    std::vector<float> values;
};

// Writes atomically (to path + ".tmp", then renamed).
Status write_safetensors(const std::string& path, const std::vector<SafetensorsTensor>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

struct GgufWriteOptions {
    // Storage of the 2-D weight matrices: F32, F16 or Q8_0. As llama.cpp's converter does, 1-D tensors
    // (norms, biases) and GPT-2's position table stay F32, and a Q8_0 matrix whose rows are not a whole
    // number of 32-weight blocks is written F16.
    DType type = DType::f32;
    std::string name;  // general.name; empty: the source file's or folder's name
};

// Writes `model` as a GGUF file llama.cpp loads: architecture "llama" (Q/K rows in interleaved RoPE order,
// permuted from rotate-half when the model holds them so), "qwen2" (rotate-half) or "gpt2", llama.cpp's
// tensor names and hyperparameter keys, general.alignment 32, and the tokenizer from
// model.tokenizer->data() when the model has one. Atomic (to path + ".tmp", then renamed).
Status write_gguf(const std::string& path, const Model& model, const GgufWriteOptions& options = {});

}  // namespace kvscope
