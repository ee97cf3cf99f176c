// cuda_unavailable.cpp — what a build without the CUDA backend answers when asked for it.
#include "kvscope/backend.h"

namespace kvscope {

bool cuda_compiled() {
    return false;
}

Status cuda_available() {
    return Status::error(
        "this KVScope was built without CUDA (the CUDA toolkit was not found at configure "
        "time; rebuild with -DKVSCOPE_CUDA=ON)");
}

Result<std::shared_ptr<Backend>> make_cuda_backend(int) {
    return cuda_available();
}

}  // namespace kvscope
