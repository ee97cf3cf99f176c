#include "run_types.h"

namespace kvscope::app {

QString sideTitle(Side side) {
    return side == Side::cached ? QStringLiteral("With KV cache") : QStringLiteral("Without KV cache");
}

QString compareModeName(CompareMode mode) {
    return mode == CompareMode::lockstep ? QStringLiteral("Lockstep") : QStringLiteral("Race");
}

void registerMetaTypes() {
    qRegisterMetaType<ModelInfo>();
    qRegisterMetaType<StepPair>();
    qRegisterMetaType<RunSettings>();
    qRegisterMetaType<Side>();
    qRegisterMetaType<kvscope::StepTracePtr>();
    qRegisterMetaType<std::vector<int32_t>>();
}

}  // namespace kvscope::app
