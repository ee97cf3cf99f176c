// backend.cpp — choosing a backend by kind, or the best one available ("auto").
#include "kvscope/backend.h"

namespace kvscope {

Result<std::shared_ptr<Backend>> make_backend(DeviceKind kind, int threads) {
    if (kind == DeviceKind::cpu) return make_cpu_backend(threads);
    return make_cuda_backend(0);
}

std::shared_ptr<Backend> make_auto_backend(int threads, std::string* why_not_cuda) {
    auto cuda = make_cuda_backend(0);
    if (cuda) {
        if (why_not_cuda) why_not_cuda->clear();
        return cuda.value();
    }
    if (why_not_cuda) *why_not_cuda = cuda.message();
    return make_cpu_backend(threads);
}

}  // namespace kvscope
