#include "model/weight_builder.h"

#include <cassert>
#include <cstring>
#include <sstream>

#include "model/dtype.h"

namespace kvscope {

int64_t RawTensor::numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

std::string shape_string(const std::vector<int64_t>& shape) {
    std::ostringstream ss;
    ss << '[';
    for (size_t i = 0; i < shape.size(); ++i)
        ss << (i ? ", " : "") << shape[i];
    ss << ']';
    return ss.str();
}

const RawTensor* TensorSource::find(const std::string& name) const {
    auto it = m_tensors.find(name);
    return it == m_tensors.end() ? nullptr : &it->second;
}

Tensor make_tensor(std::string name, std::vector<int64_t> shape, std::vector<float> values,
                   DType stored_dtype, uint64_t stored_bytes) {
    Tensor t;
    t.name = std::move(name);
    t.shape = std::move(shape);
    t.stored_dtype = stored_dtype;
    t.stored_bytes = stored_bytes;
    auto owned = std::make_shared<std::vector<float>>(std::move(values));
    t.storage = std::shared_ptr<const float>(owned, owned->data());
    return t;
}

Result<Tensor> widen_tensor(const RawTensor& raw, const std::vector<int64_t>& shape, Layout layout) {
    std::vector<int64_t> compute = raw.shape;
    if (layout == Layout::transposed) {
        if (raw.shape.size() != 2)
            return Status::error("tensor '" + raw.name + "' in " + raw.file + " has shape " +
                                 shape_string(raw.shape) + ", expected a 2-D matrix");
        compute = {raw.shape[1], raw.shape[0]};
    }
    // A 2-D [1, n] or [n] vector are the same thing to us only when the caller says so; be strict.
    if (compute != shape) {
        std::vector<int64_t> expected_stored = shape;
        if (layout == Layout::transposed && shape.size() == 2) expected_stored = {shape[1], shape[0]};
        return Status::error("tensor '" + raw.name + "' in " + raw.file + " has shape " +
                             shape_string(raw.shape) + ", expected " + shape_string(expected_stored));
    }
    const int64_t n = raw.numel();
    const uint64_t need = dtype_bytes(raw.dtype, static_cast<uint64_t>(n));
    if (n % dtype_block_size(raw.dtype) != 0)
        return Status::error("tensor '" + raw.name + "' in " + raw.file + ": " + std::to_string(n) +
                             " elements do not fill whole " + dtype_name(raw.dtype) + " blocks");
    if (raw.nbytes != need)
        return Status::error("tensor '" + raw.name + "' in " + raw.file + " needs " + std::to_string(need) +
                             " bytes (" + dtype_name(raw.dtype) + " " + shape_string(raw.shape) + "), has " +
                             std::to_string(raw.nbytes));

    Tensor t;
    t.name = raw.name;
    t.shape = shape;
    t.stored_dtype = raw.dtype;
    t.stored_bytes = raw.nbytes;

    const bool aligned = reinterpret_cast<uintptr_t>(raw.data) % alignof(float) == 0;
    if (raw.dtype == DType::f32 && aligned && raw.keepalive) {
        // Used in place: the tensor keeps the mapping alive (no second copy of the weights). A Conv1D
        // [in, out] matrix stays as stored and says so; the matmul reads it that way.
        t.storage = std::shared_ptr<const float>(raw.keepalive, reinterpret_cast<const float*>(raw.data));
        t.in_out = layout == Layout::transposed;
        return t;
    }
    auto owned = std::make_shared<std::vector<float>>(static_cast<size_t>(n));
    Status st = dequantize(raw.dtype, raw.data, static_cast<uint64_t>(n), owned->data());
    if (!st) return st.with_context("tensor '" + raw.name + "' in " + raw.file);
    if (layout == Layout::transposed) {
        const int64_t in = raw.shape[0], out = raw.shape[1];
        std::vector<float> tr(static_cast<size_t>(n));
        for (int64_t i = 0; i < in; ++i)
            for (int64_t o = 0; o < out; ++o)
                tr[o * in + i] = (*owned)[i * out + o];
        owned->swap(tr);
    }
    t.storage = std::shared_ptr<const float>(owned, owned->data());
    return t;
}

Result<Tensor> take_tensor(const TensorSource& source, const std::string& name,
                           const std::vector<int64_t>& shape, Layout layout) {
    const RawTensor* raw = source.find(name);
    if (!raw) return Status::error("tensor '" + name + "' not found in " + source.where);
    return widen_tensor(*raw, shape, layout);
}

Tensor concat_rows(const std::string& name, const std::vector<const Tensor*>& parts) {
    for (const Tensor* p : parts)
        assert(!p->in_out && "concat_rows: rows of an [in, out] tensor are not contiguous");
    int64_t rows = 0, cols = parts.front()->shape.size() == 2 ? parts.front()->shape[1] : 1;
    uint64_t bytes = 0;
    for (const Tensor* p : parts) {
        rows += p->shape[0];
        bytes += p->stored_bytes;
    }
    std::vector<float> values;
    values.reserve(static_cast<size_t>(rows * cols));
    for (const Tensor* p : parts)
        values.insert(values.end(), p->data(), p->data() + p->numel());
    std::vector<int64_t> shape =
        parts.front()->shape.size() == 2 ? std::vector<int64_t>{rows, cols} : std::vector<int64_t>{rows};
    return make_tensor(name, std::move(shape), std::move(values), parts.front()->stored_dtype, bytes);
}

Tensor slice_rows(const Tensor& t, const std::string& name, int64_t row_begin, int64_t n_rows) {
    assert(!t.in_out && "slice_rows: rows of an [in, out] tensor are not contiguous");
    const int64_t cols = t.shape.size() == 2 ? t.shape[1] : 1;
    std::vector<float> values(t.data() + row_begin * cols, t.data() + (row_begin + n_rows) * cols);
    std::vector<int64_t> shape =
        t.shape.size() == 2 ? std::vector<int64_t>{n_rows, cols} : std::vector<int64_t>{n_rows};
    const uint64_t bytes = t.stored_bytes * static_cast<uint64_t>(n_rows) / static_cast<uint64_t>(t.shape[0]);
    return make_tensor(name, std::move(shape), std::move(values), t.stored_dtype, bytes);
}

}  // namespace kvscope
