// mapped_file.h — a read-only memory mapping of a whole file.
//
// Model files are mapped, not read: a 500 MB GGUF costs its pages once, and float32 weights that need no
// conversion are used in place. The mapping lives as long as any shared_ptr to it (tensors alias it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kvscope/status.h"

namespace kvscope {

class MappedFile {
  public:
    static Result<std::shared_ptr<const MappedFile>> open(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return m_data; }
    uint64_t size() const { return m_size; }
    const std::string& path() const { return m_path; }

  private:
    MappedFile() = default;
    std::string m_path;
    const uint8_t* m_data = nullptr;
    uint64_t m_size = 0;
};

}  // namespace kvscope
