#include "trace_store.h"

#include <algorithm>

namespace kvscope::app {

StepTracePtr keepNewKVRows(const StepTrace& trace) {
    auto copy = std::make_shared<StepTrace>(trace);
    const int hd = trace.head_dim;
    for (LayerKV& lk : copy->kv) {
        if (lk.row_begin >= trace.pos_begin) continue;  // already only the new rows
        const int skip = trace.pos_begin - lk.row_begin;
        const int keep = lk.n_rows - skip;
        std::vector<float> k(size_t(trace.n_kv_heads) * keep * hd), v(k.size());
        for (int h = 0; h < trace.n_kv_heads; ++h) {
            const size_t src = (size_t(h) * lk.n_rows + skip) * hd, dst = size_t(h) * keep * hd;
            std::copy_n(lk.k.begin() + long(src), size_t(keep) * hd, k.begin() + long(dst));
            std::copy_n(lk.v.begin() + long(src), size_t(keep) * hd, v.begin() + long(dst));
        }
        lk.k = std::move(k);
        lk.v = std::move(v);
        lk.row_begin = trace.pos_begin;
        lk.n_rows = keep;
    }
    return copy;
}

TraceStore::TraceStore(QObject* parent) : QObject(parent) {
    qRegisterMetaType<StoreChange>();
}

uint64_t TraceStore::traceBytes(const StepTrace& t) {
    uint64_t bytes = sizeof(StepTrace) + t.input_tokens.size() * 4 + t.top.size() * sizeof(TokenProb) +
                     t.logits.size() * 4;
    for (const auto& a : t.attention)
        bytes += a.bytes();
    for (const auto& kv : t.kv)
        bytes += (kv.k.size() + kv.v.size() + kv.k_computed.size() + kv.v_computed.size()) * 4;
    return bytes;
}

void TraceStore::setModel(const ModelInfo& info) {
    m_model = info;
    for (auto& s : m_steps)
        s.clear();
    m_bytes = 0;
    m_selectedStep = -1;
    m_follow = true;
    m_layer = 0;
    m_head = 0;
    m_userPickedHead = false;
    emit changed({StoreChange::Kind::model});
}

void TraceStore::clear() {
    for (auto& s : m_steps)
        s.clear();
    m_bytes = 0;
    m_selectedStep = -1;
    m_follow = true;
    emit changed({StoreChange::Kind::cleared});
}

int TraceStore::maxStepCount() const {
    return std::max(stepCount(Side::cached), stepCount(Side::uncached));
}

const StepTrace* TraceStore::trace(Side side, int index) const {
    const auto& s = steps(side);
    return index >= 0 && index < int(s.size()) ? s[size_t(index)].trace.get() : nullptr;
}

void TraceStore::appendPair(const StepPair& pair) {
    append(Side::cached, pair.cached, pair.maxLogitDiff);
    append(Side::uncached, pair.uncached, pair.maxLogitDiff, pair.recompute);
    if (pair.openLayer >= 0 && !m_userPickedHead) openOnHead(pair.openLayer, pair.openHead);
}

void TraceStore::append(Side side, const StepTracePtr& trace, double maxLogitDiff,
                        RecomputeCheckPtr recompute) {
    Q_ASSERT_X(trace, "TraceStore::append", "a null trace: the worker sends a trace with every step");
    auto& steps = m_steps[size_t(sideIndex(side))];
    // The previous step's recomputed rows are superseded by this step's: keep only its new rows.
    if (!steps.empty()) {
        Step& previous = steps.back();
        const StepTrace& p = *previous.trace;
        if (!p.kv.empty() && p.kv.front().row_begin < p.pos_begin) {
            m_bytes -= traceBytes(p);
            previous.trace = keepNewKVRows(p);
            m_bytes += traceBytes(*previous.trace);
        }
        // Only the latest step keeps its per-row differences (layers × rows floats a step); older steps
        // keep the summary.
        if (previous.recompute && !previous.recompute->diff.row_max.empty()) {
            auto summary = std::make_shared<RecomputeCheck>(*previous.recompute);
            summary->diff = {};
            previous.recompute = std::move(summary);
        }
    }
    steps.push_back({trace, maxLogitDiff, m_nextSerial++, std::move(recompute)});
    m_bytes += traceBytes(*trace);
    const int index = int(steps.size()) - 1;
    emit changed({StoreChange::Kind::appended, side, index});
    if (m_follow) {
        const int latest = maxStepCount() - 1;
        if (latest != m_selectedStep) {
            m_selectedStep = latest;
            emitSelection(StoreChange::stepField);
        }
    }
}

int64_t TraceStore::rowsRebuiltUpTo(int index) const {
    const StepTrace* t = trace(Side::uncached, index);
    return t ? int64_t(t->cumulative.tokens_recomputed) : 0;
}

void TraceStore::truncate(int keepSteps) {
    keepSteps = std::max(0, keepSteps);
    bool changedAny = false;
    for (auto& steps : m_steps) {
        while (int(steps.size()) > keepSteps) {
            m_bytes -= traceBytes(*steps.back().trace);
            steps.pop_back();
            changedAny = true;
        }
    }
    if (!changedAny) return;
    emit changed({StoreChange::Kind::truncated, Side::cached, keepSteps});
    const int latest = maxStepCount() - 1;
    if (m_selectedStep >= latest || m_follow) {  // the selection is (now) the newest step: follow again
        m_selectedStep = latest;
        m_follow = true;
        emitSelection(StoreChange::stepField);
    }
}

std::vector<int32_t> TraceStore::tokensUpTo(Side side, int index) const {
    std::vector<int32_t> tokens;
    const auto& s = steps(side);
    for (int i = 0; i <= index && i < int(s.size()); ++i)
        tokens.insert(tokens.end(), s[size_t(i)].trace->input_tokens.begin(),
                      s[size_t(i)].trace->input_tokens.end());
    return tokens;
}

int TraceStore::promptLength(Side side) const {
    const auto& s = steps(side);
    return s.empty() ? 0 : int(s.front().trace->input_tokens.size());
}

int TraceStore::stepThatChose(Side side, int position) const {
    const int prompt = promptLength(side);
    if (position < prompt) return -1;
    // Step 0 (the prefill) chose the token at position `prompt`; each decode step one more.
    const int index = position - prompt;
    return index < stepCount(side) ? index : -1;
}

int TraceStore::sameLengthStep() const {
    const int a = stepFor(Side::cached), b = stepFor(Side::uncached);
    if (a < 0 || b < 0) return -1;
    const int step = std::min(a, b);
    const StepTrace* ta = trace(Side::cached, step);
    const StepTrace* tb = trace(Side::uncached, step);
    return ta && tb && ta->pos_end == tb->pos_end ? step : -1;
}

int TraceStore::stepFor(Side side) const {
    const int n = stepCount(side);
    if (n == 0 || m_selectedStep < 0) return n - 1;
    return std::min(m_selectedStep, n - 1);
}

void TraceStore::emitSelection(unsigned fields) {
    StoreChange c;
    c.kind = StoreChange::Kind::selection;
    c.fields = fields;
    c.index = m_selectedStep;
    emit changed(c);
}

void TraceStore::selectStep(int index) {
    const int latest = maxStepCount() - 1;
    index = std::clamp(index, latest < 0 ? -1 : 0, latest);
    m_follow = index == latest;
    if (index == m_selectedStep) return;
    m_selectedStep = index;
    emitSelection(StoreChange::stepField);
}

void TraceStore::selectLatest() {
    selectStep(maxStepCount() - 1);
}

void TraceStore::openOnHead(int layer, int head) {
    if (!hasModel()) return;
    layer = std::clamp(layer, 0, m_model.config().n_layers - 1);
    head = std::clamp(head, 0, m_model.config().n_heads - 1);
    unsigned fields = 0;
    if (layer != m_layer) fields |= StoreChange::layerField;
    if (head != m_head) fields |= StoreChange::headField;
    m_layer = layer;
    m_head = head;
    if (fields) emitSelection(fields);
}

void TraceStore::setAttentionScale(AttentionScale scale) {
    if (scale == m_attentionScale) return;
    m_attentionScale = scale;
    emitSelection(StoreChange::scaleField);
}

void TraceStore::setAttentionRowNormalised(bool on) {
    if (on == m_rowNormalised) return;
    m_rowNormalised = on;
    emitSelection(StoreChange::scaleField);
}

void TraceStore::setCountersPage(int page) {
    page = std::max(0, page);
    if (page == m_countersPage) return;
    m_countersPage = page;
    emitSelection(StoreChange::layoutField);
}

void TraceStore::setAttentionZoom(bool on) {
    if (on == m_attentionZoom) return;
    m_attentionZoom = on;
    emitSelection(StoreChange::scaleField);
}

void TraceStore::selectLayer(int layer) {
    if (!hasModel()) return;
    m_userPickedHead = true;
    layer = std::clamp(layer, 0, m_model.config().n_layers - 1);
    if (layer == m_layer) return;
    m_layer = layer;
    emitSelection(StoreChange::layerField);
}

void TraceStore::selectHead(int head) {
    if (!hasModel()) return;
    m_userPickedHead = true;
    head = std::clamp(head, 0, m_model.config().n_heads - 1);
    if (head == m_head) return;
    m_head = head;
    emitSelection(StoreChange::headField);
}

void TraceStore::setAllHeads(bool all) {
    if (all == m_allHeads) return;
    m_allHeads = all;
    emitSelection(StoreChange::layoutField);
}

}  // namespace kvscope::app
