// names.cpp — display names of the core's enums (one place, so the CLI, the app and traces agree).
#include "kvscope/backend.h"
#include "kvscope/counters.h"
#include "kvscope/trace.h"

namespace kvscope {

const char* op_class_name(OpClass op) {
    switch (op) {
        case OpClass::embedding:
            return "embedding";
        case OpClass::norm:
            return "norm";
        case OpClass::qkv:
            return "qkv";
        case OpClass::rope:
            return "rope";
        case OpClass::kv_write:
            return "kv_write";
        case OpClass::attention:
            return "attention";
        case OpClass::out_proj:
            return "out_proj";
        case OpClass::mlp:
            return "mlp";
        case OpClass::activation:
            return "activation";
        case OpClass::residual:
            return "residual";
        case OpClass::lm_head:
            return "lm_head";
        case OpClass::count:
            break;
    }
    return "?";
}

const char* session_mode_name(SessionMode mode) {
    return mode == SessionMode::cached ? "cached" : "uncached";
}
const char* phase_name(Phase phase) {
    return phase == Phase::prefill ? "prefill" : "decode";
}
const char* device_kind_name(DeviceKind kind) {
    return kind == DeviceKind::cuda ? "cuda" : "cpu";
}

}  // namespace kvscope
