#include "model/dtype.h"

#include <Eigen/Core>
#include <cstring>

namespace kvscope {

namespace {
struct DTypeInfo {
    const char* name;
    int block_size;
    int block_bytes;
};
// ggml's block definitions: Q8_0 = f16 scale + 32 int8; Q4_0 = f16 scale + 16 bytes of nibbles;
// the K-quants pack 256 weights in super-blocks of 144 (Q4_K), 176 (Q5_K) and 210 (Q6_K) bytes.
constexpr DTypeInfo kInfo[] = {
    {"F32", 1, 4},    {"F16", 1, 2},      {"BF16", 1, 2},     {"Q8_0", 32, 34},
    {"Q4_0", 32, 18}, {"Q4_K", 256, 144}, {"Q5_K", 256, 176}, {"Q6_K", 256, 210},
};
const DTypeInfo& info(DType t) {
    return kInfo[static_cast<int>(t)];
}
}  // namespace

const char* dtype_name(DType type) {
    return info(type).name;
}
int dtype_block_size(DType type) {
    return info(type).block_size;
}
int dtype_block_bytes(DType type) {
    return info(type).block_bytes;
}
uint64_t dtype_bytes(DType type, uint64_t n) {
    const auto& i = info(type);
    return (n / i.block_size) * i.block_bytes;
}

float f16_to_f32(uint16_t bits) {
    return static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(bits));
}
uint16_t f32_to_f16(float value) {
    return Eigen::numext::bit_cast<uint16_t>(Eigen::half(value));
}
float bf16_to_f32(uint16_t bits) {
    return static_cast<float>(Eigen::numext::bit_cast<Eigen::bfloat16>(bits));
}
uint16_t f32_to_bf16(float value) {
    return Eigen::numext::bit_cast<uint16_t>(Eigen::bfloat16(value));
}

std::optional<DType> dtype_from_safetensors(const std::string& name) {
    if (name == "F32") return DType::f32;
    if (name == "F16") return DType::f16;
    if (name == "BF16") return DType::bf16;
    return std::nullopt;
}

Status dequantize(DType type, const uint8_t* src, uint64_t n, float* dst) {
    switch (type) {
        case DType::f32:
            std::memcpy(dst, src, n * sizeof(float));
            return Status::ok();
        case DType::f16:
            for (uint64_t i = 0; i < n; ++i) {
                uint16_t h;
                std::memcpy(&h, src + 2 * i, 2);
                dst[i] = f16_to_f32(h);
            }
            return Status::ok();
        case DType::bf16:
            for (uint64_t i = 0; i < n; ++i) {
                uint16_t h;
                std::memcpy(&h, src + 2 * i, 2);
                dst[i] = bf16_to_f32(h);
            }
            return Status::ok();
        default:
            if (n % dtype_block_size(type) != 0)
                return Status::error(std::to_string(n) + " elements do not fill whole " + dtype_name(type) +
                                     " blocks of " + std::to_string(dtype_block_size(type)));
            return dequantize_blocks(type, src, n, dst);
    }
}

}  // namespace kvscope
