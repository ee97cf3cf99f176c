// weight_builder.h — from tensors as a file stores them to the Model's float32 compute tensors.
//
// Every format reader (safetensors, GGUF, llama2.c) produces RawTensors: a name, the stored dtype and
// shape (outermost first) and a pointer into a mapped file. The builder checks each one's shape against
// what the config says it must be, widens it to float32 (in place, with no copy, when it is already
// aligned float32 in the right layout) and fuses Q, K, V. Errors name the tensor, the file and the
// expected versus found shape or size.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kvscope/model.h"
#include "kvscope/status.h"

namespace kvscope {

struct RawTensor {
    std::string name;
    std::string file;          // for messages
    uint64_t file_offset = 0;  // of the first byte, for messages
    DType dtype = DType::f32;
    std::vector<int64_t> shape;  // as stored, outermost first
    const uint8_t* data = nullptr;
    uint64_t nbytes = 0;
    std::shared_ptr<const void> keepalive;  // the mapping `data` points into

    int64_t numel() const;
};

std::string shape_string(const std::vector<int64_t>& shape);

// A set of raw tensors by name (one safetensors file, a sharded folder, a GGUF).
class TensorSource {
  public:
    void add(RawTensor tensor) { m_tensors[tensor.name] = std::move(tensor); }
    const RawTensor* find(const std::string& name) const;
    bool contains(const std::string& name) const { return find(name) != nullptr; }
    const std::map<std::string, RawTensor>& all() const { return m_tensors; }
    // Tensors of the file that cannot be weights (integer dtypes): kept by name so that the model can report
    // them as unused, and a shard index that lists them is not taken as wrong.
    void skip(const std::string& name, const std::string& dtype) { m_skipped[name] = dtype; }
    bool was_skipped(const std::string& name) const { return m_skipped.count(name) != 0; }
    const std::map<std::string, std::string>& skipped() const { return m_skipped; }
    std::string where;  // "tiny-gpt2/" or "model.gguf": used in "tensor 'x' not found in <where>"

  private:
    std::map<std::string, RawTensor> m_tensors;
    std::map<std::string, std::string> m_skipped;  // name -> dtype
};

enum class Layout {
    as_stored,   // the stored shape is the compute shape
    transposed,  // 2-D stored [in, out] (GPT-2 Conv1D), compute [out, in]
};

// Finds `name` and widens it; the compute shape must equal `shape`.
Result<Tensor> take_tensor(const TensorSource& source, const std::string& name,
                           const std::vector<int64_t>& shape, Layout layout = Layout::as_stored);
// Widens one raw tensor to float32 in compute layout; checks its shape.
Result<Tensor> widen_tensor(const RawTensor& raw, const std::vector<int64_t>& shape, Layout layout);
// Stacks 2-D tensors (or 1-D vectors) along rows into a new tensor named `name`.
Tensor concat_rows(const std::string& name, const std::vector<const Tensor*>& parts);
// Splits rows [row_begin, row_begin + n_rows) of a 2-D (or 1-D) tensor into a new tensor. The stored
// bytes are charged in proportion.
Tensor slice_rows(const Tensor& t, const std::string& name, int64_t row_begin, int64_t n_rows);
// A float32 tensor that owns `values`.
Tensor make_tensor(std::string name, std::vector<int64_t> shape, std::vector<float> values,
                   DType stored_dtype, uint64_t stored_bytes);

}  // namespace kvscope
