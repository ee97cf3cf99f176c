// device_weights.h — a model's weights as pointers in a backend's memory.
//
// On the CPU the pointers are the Model's own float32 arrays (no copy, [in, out] ones included); on a GPU
// each tensor is uploaded once, always as [out, in], and the Engine owns the buffers. Tied embeddings are
// uploaded once. The stored bytes stay with the Model's Tensors: the counters charge what the file stored,
// not the float32 copy.
#pragma once

#include <memory>
#include <vector>

#include "kvscope/backend.h"
#include "kvscope/model.h"

namespace kvscope {

struct DeviceTensor {
    const float* data = nullptr;   // backend memory; null when the model has no such tensor
    const Tensor* host = nullptr;  // the Model's tensor (shape, stored dtype and bytes)
    bool in_out = false;           // data holds [in, out] (Tensor::in_out, used in place on the CPU)
    explicit operator bool() const { return data != nullptr; }
};

struct DeviceLayer {
    DeviceTensor attn_norm, attn_norm_bias, wqkv, bqkv, wo, bo, ffn_norm, ffn_norm_bias;
    DeviceTensor w_gate, w_up, b_up, w_down, b_down;
};

struct DeviceWeights {
    DeviceTensor tok_embd, pos_embd, out_norm, out_norm_bias, lm_head;
    std::vector<DeviceLayer> layers;
    std::vector<std::unique_ptr<Buffer>> owned;  // uploads (GPU backends)
    uint64_t bytes = 0;                          // device bytes held by `owned`
};

Result<std::unique_ptr<DeviceWeights>> upload_weights(const Model& model, Backend& backend);

}  // namespace kvscope
