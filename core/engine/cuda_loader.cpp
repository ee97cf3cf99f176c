// cuda_loader.cpp — a CUDA build's answer to "is CUDA here?": the backend lives in a module
// (libkvscope_cuda.so, core/cuda) that is loaded with dlopen the first time a CUDA device is asked for.
//
// Why a module: linked in, cuBLAS, cuBLASLt and the CUDA runtime are mapped and initialised by every
// process at start (about 0.1 s and 200 MiB of resident memory before main), which a CPU run, the app's
// default, pays for nothing. Loaded here, they cost only the runs that use the GPU.
//
// Where the module is looked for: kvscope/module_loader.h ($KVSCOPE_CUDA_MODULE first).
// Nothing is loaded when the NVIDIA driver (libcuda.so.1) is absent: no GPU can be used then, and "auto"
// must not pay for cuBLAS to find that out.
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "engine/cuda_module.h"
#include "kvscope/backend.h"
#include "kvscope/module_loader.h"

namespace kvscope {

namespace {

constexpr const char* kModuleName = "libkvscope_cuda.so";

struct LoadedModule {
    const CudaModule* module = nullptr;
    std::string error;  // why module is null
};

LoadedModule load_module() {
    // The driver first: it is small, and without it the module's libraries would be loaded for nothing.
    if (!dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL))
        return {nullptr, "no NVIDIA driver is installed (libcuda.so.1 was not found)"};

    const OpenedModule opened =
        open_module({"KVSCOPE_CUDA_MODULE", KVSCOPE_CUDA_MODULE_FROM_BIN, KVSCOPE_CUDA_MODULE_BUILD_PATH,
                     KVSCOPE_CUDA_MODULE_INSTALL_PATH});
    const std::string& path = opened.path;
    if (!opened.handle && !opened.error.empty())
        return {nullptr, "the CUDA backend " + path + " could not be loaded: " + opened.error};
    if (opened.handle) {
        auto entry =
            reinterpret_cast<const CudaModule* (*)()>(dlsym(opened.handle, KVSCOPE_CUDA_MODULE_ENTRY));
        if (!entry)
            return {nullptr, "the CUDA backend " + path +
                                 " has no " KVSCOPE_CUDA_MODULE_ENTRY " (not a KVScope CUDA module)"};
        const CudaModule* module = entry();
        if (!module || module->abi_version != CudaModule::kAbiVersion ||
            module->sizeof_status != sizeof(Status) ||
            module->sizeof_backend_result != sizeof(Result<std::shared_ptr<Backend>>))
            return {nullptr, "the CUDA backend " + path +
                                 " was built from another version of KVScope (interface " +
                                 std::to_string(module ? module->abi_version : 0) + ", this program " +
                                 std::to_string(CudaModule::kAbiVersion) + "): rebuild or reinstall both"};
        return {module, {}};
    }
    return {nullptr, std::string("this KVScope was built with CUDA, but its CUDA backend ") + kModuleName +
                         " is not installed (looked in " + looked_text(opened) + ")"};
}

// Loaded once per process, on first use, from whichever thread asks first.
const LoadedModule& cuda_module() {
    static std::once_flag once;
    static LoadedModule loaded;
    std::call_once(once, [] { loaded = load_module(); });
    return loaded;
}

}  // namespace

bool cuda_compiled() {
    return true;
}

Status cuda_available() {
    const LoadedModule& m = cuda_module();
    if (!m.module) return Status::error(m.error);
    return m.module->available();
}

Result<std::shared_ptr<Backend>> make_cuda_backend(int ordinal) {
    const LoadedModule& m = cuda_module();
    if (!m.module) return Status::error(m.error);
    return m.module->make_backend(ordinal);
}

}  // namespace kvscope
