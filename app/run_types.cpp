#include "run_types.h"

#include <algorithm>

#include "engine_worker.h"

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

bool rightRunIsVariant() {
    return !rightTitle().isEmpty();
}

QString sideTitle(Side side) {
    if (side == Side::cached) return QStringLiteral("With KV cache");
    return rightTitle().isEmpty() ? QStringLiteral("Without KV cache") : rightTitle();
}

int runTokenLimit(const kvscope::ModelConfig& config, int capacity, bool cachedRun,
                  const kvscope::CachePolicy& cache) {
    const bool past = cachedRun && cache.evicts() && config.arch != kvscope::Architecture::gpt2;
    if (!past) return capacity;
    return std::max(capacity, std::min(kPastContextTokens, historyTokenLimit(config, historyBudgetBytes())));
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
