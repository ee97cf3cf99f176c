#include "trace_json.h"

namespace kvscope::cli {

nlohmann::ordered_json counters_to_json(const Counters& c) {
    nlohmann::ordered_json j;
    const OpCounters t = c.total();
    j["flops"] = t.flops;
    j["weight_bytes"] = t.weight_bytes;
    j["kv_read"] = t.kv_read;
    j["kv_written"] = t.kv_written;
    j["seconds"] = t.seconds;
    j["wall_seconds"] = c.wall_seconds;
    j["tokens_processed"] = c.tokens_processed;
    j["tokens_recomputed"] = c.tokens_recomputed;
    j["kv_bytes_resident"] = c.kv_bytes_resident;
    j["kv_bytes_peak"] = c.kv_bytes_peak;
    nlohmann::ordered_json ops = nlohmann::ordered_json::object();
    for (int i = 0; i < kOpClassCount; ++i) {
        const OpCounters& o = c.by_op[i];
        ops[op_class_name(static_cast<OpClass>(i))] = {
            {"flops", o.flops},           {"weight_bytes", o.weight_bytes}, {"kv_read", o.kv_read},
            {"kv_written", o.kv_written}, {"seconds", o.seconds},           {"calls", o.calls}};
    }
    j["by_op"] = std::move(ops);
    return j;
}

nlohmann::ordered_json trace_to_json(const StepTrace& t) {
    nlohmann::ordered_json j;
    j["step"] = t.step;
    j["phase"] = phase_name(t.phase);
    j["mode"] = session_mode_name(t.mode);
    j["pos_begin"] = t.pos_begin;
    j["pos_end"] = t.pos_end;
    j["computed_begin"] = t.computed_begin;
    j["input_tokens"] = t.input_tokens;
    j["chosen"] = t.chosen;
    j["chosen_prob"] = t.chosen_prob;
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    for (const auto& tp : t.top)
        top.push_back({{"id", tp.id}, {"logit", tp.logit}, {"prob", tp.prob}});
    j["top"] = std::move(top);
    if (!t.logits.empty()) j["logits"] = t.logits;
    nlohmann::ordered_json att = nlohmann::ordered_json::array();
    for (const auto& la : t.attention) {
        // Always the full [heads][rows][keys] layout, whichever form the trace holds.
        std::vector<float> probs = la.probs;
        if (la.compact()) {
            probs.resize(size_t(t.n_heads) * la.n_rows * la.n_keys);
            for (int h = 0; h < t.n_heads; ++h)
                for (int r = 0; r < la.n_rows; ++r)
                    la.read_row(h, r, probs.data() + (size_t(h) * la.n_rows + r) * la.n_keys);
        }
        att.push_back({{"row_begin", la.row_begin},
                       {"n_rows", la.n_rows},
                       {"n_keys", la.n_keys},
                       {"shape", {t.n_heads, la.n_rows, la.n_keys}},
                       {"probs", std::move(probs)}});
    }
    j["attention"] = std::move(att);
    nlohmann::ordered_json kv = nlohmann::ordered_json::array();
    for (const auto& lk : t.kv)
        kv.push_back({{"row_begin", lk.row_begin},
                      {"n_rows", lk.n_rows},
                      {"shape", {t.n_kv_heads, lk.n_rows, t.head_dim}},
                      {"k", lk.k},
                      {"v", lk.v}});
    j["kv"] = std::move(kv);
    j["counters"] = counters_to_json(t.counters);
    j["cumulative"] = counters_to_json(t.cumulative);
    return j;
}

}  // namespace kvscope::cli
