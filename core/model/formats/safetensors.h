// safetensors.h — reading Hugging Face's safetensors files.
//
// File layout (little-endian):
//   u64   N                 length of the JSON header in bytes
//   u8[N] header            JSON object: { "<tensor name>": { "dtype": "F32"|"F16"|"BF16"|...,
//                                                            "shape": [d0, d1, ...],
//                                                            "data_offsets": [begin, end] }, ...,
//                                          "__metadata__": { "<key>": "<string>", ... } (optional) }
//   u8[]  data              the tensors; data_offsets are relative to the first byte after the header
// Limits we check: N fits in the file (and is below 100 MB), the header parses, every tensor's dtype is
// known, its byte range lies inside the data section and has exactly numel x sizeof(dtype) bytes.
// Tensors are not copied: RawTensors point into the mapped file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kvscope/status.h"
#include "model/weight_builder.h"

namespace kvscope {

struct SafetensorsEntry {
    std::string name;
    std::string dtype;  // as written: "F32", "BF16", "I64", ...
    std::vector<int64_t> shape;
    const uint8_t* data = nullptr;  // into the mapping
    uint64_t nbytes = 0;
    uint64_t file_offset = 0;
};

struct SafetensorsFile {
    std::string path;
    std::shared_ptr<const void> keepalive;  // the mapping
    std::vector<SafetensorsEntry> entries;  // in header order
    const SafetensorsEntry* find(const std::string& name) const;
};

// Maps and checks a safetensors file; every entry's byte range is inside the file and has the size its
// dtype and shape require (for the dtypes whose size we know).
Result<SafetensorsFile> open_safetensors(const std::string& path);

// Adds every float tensor (F32, F16, BF16) of `path` to `source`; integer tensors are skipped (a model
// that needs one fails later, naming it). Errors name the file, the tensor and the offsets.
Status read_safetensors(const std::string& path, TensorSource& source);

}  // namespace kvscope
