// quant.cpp — dequantizing ggml's block-quantized weight types.
// (Filled in with the GGUF reader: issue "GGUF files and real tokenizers".)
#include "model/dtype.h"

namespace kvscope {

Status dequantize_blocks(DType type, const uint8_t*, uint64_t, float*) {
    return Status::error(std::string("dequantizing ") + dtype_name(type) + " is not implemented yet");
}

}  // namespace kvscope
