// cuda_module.h — the seam between kvscope_core and the CUDA backend module (libkvscope_cuda.so).
//
// The module exports one C symbol, kvscope_cuda_module(), returning this table. kvscope_core dlopens the
// module (core/engine/cuda_loader.cpp) the first time a CUDA device is asked for, so a CPU run never maps
// cuBLAS or the CUDA runtime. The table passes C++ objects (Status, Backend) across the boundary: the
// module and the program must come from the same build, which kAbiVersion and the layout checks guard.
// The module is never unloaded (its code backs the Backends it made).
#pragma once

#include <cstdint>
#include <memory>

#include "kvscope/backend.h"

namespace kvscope {

struct CudaModule {
    // Bump when backend.h's classes, status.h or this table change shape.
    static constexpr uint32_t kAbiVersion = 2;

    uint32_t abi_version;
    uint32_t sizeof_status;  // a cheap check that both sides see the same standard library types
    uint32_t sizeof_backend_result;
    Status (*available)();
    Result<std::shared_ptr<Backend>> (*make_backend)(int ordinal);
};

}  // namespace kvscope

#define KVSCOPE_CUDA_MODULE_ENTRY "kvscope_cuda_module"
extern "C" const kvscope::CudaModule* kvscope_cuda_module();
