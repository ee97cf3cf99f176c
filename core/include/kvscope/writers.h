// writers.h — writing model files: safetensors (layout in core/model/formats/safetensors.h).
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

}  // namespace kvscope
