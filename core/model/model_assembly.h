// model_assembly.h — one place that turns a TensorSource into a Model, given the file's tensor names.
//
// Each format only says how it names tensors (WeightNames); shapes, fusing Q/K/V, tying embeddings and
// the final consistency check are done here, the same way for every format.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "kvscope/model.h"
#include "model/weight_builder.h"

namespace kvscope {

enum class LayerTensor {
    attn_norm,
    attn_norm_bias,
    wq,
    wk,
    wv,
    bq,
    bk,
    bv,  // separate projections (llama family)
    wqkv,
    bqkv,  // fused projection (gpt2); used when the name is non-empty
    wo,
    bo,
    ffn_norm,
    ffn_norm_bias,
    w_gate,
    w_up,
    b_up,
    w_down,
    b_down,
};

struct WeightNames {
    std::string tok_embd, pos_embd, out_norm, out_norm_bias, lm_head;
    std::function<std::string(int layer, LayerTensor)> layer;  // "" when the format has no such tensor
    Layout linear_layout = Layout::as_stored;                  // how 2-D linear weights are stored
};

// Builds the model; the config must already be valid. Tied embeddings share tok_embd's storage.
Result<std::shared_ptr<Model>> assemble_model(const ModelConfig& config, const TensorSource& source,
                                              const WeightNames& names);

}  // namespace kvscope
