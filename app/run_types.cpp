#include "run_types.h"

namespace kvscope::app {

namespace {
QString& rightTitle() {
    static QString title;
    return title;
}
}  // namespace

void setRightRunTitle(const QString& title) {
    rightTitle() = title;
}

QString sideTitle(Side side) {
    if (side == Side::cached) return QStringLiteral("With KV cache");
    return rightTitle().isEmpty() ? QStringLiteral("Without KV cache") : rightTitle();
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
