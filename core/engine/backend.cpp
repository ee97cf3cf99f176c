#include "kvscope/backend.h"

namespace kvscope {

Result<std::shared_ptr<Backend>> make_backend(DeviceKind kind, int threads) {
    if (kind == DeviceKind::cpu) return make_cpu_backend(threads);
    return make_cuda_backend(0);
}

}  // namespace kvscope
