// dtype.h — converting stored weights to float32 (and back, for writers).
//
// Float types convert element by element (F16 and BF16 through Eigen's half types, round-to-nearest-even
// on the way back). Block-quantized types (ggml's Q8_0, Q4_0, Q4_K, Q5_K, Q6_K) are dequantized block by
// block in quant.cpp, which documents each block layout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kvscope/model.h"
#include "kvscope/status.h"

namespace kvscope {

// Widens n_elements stored as `type` at `src` into dst. n_elements must be a whole number of blocks.
Status dequantize(DType type, const uint8_t* src, uint64_t n_elements, float* dst);
// Block-quantized types only (quant.cpp).
Status dequantize_blocks(DType type, const uint8_t* src, uint64_t n_elements, float* dst);
// Q8_0 blocks of n_elements weights (a multiple of 32) into dst (n/32 × 34 bytes), as ggml's reference
// quantizer writes them.
void quantize_q8_0(const float* src, uint64_t n_elements, uint8_t* dst);

float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);

// "F32", "F16", "BF16" (safetensors names) to DType; nullopt for anything else.
std::optional<DType> dtype_from_safetensors(const std::string& name);

}  // namespace kvscope
