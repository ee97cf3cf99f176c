// cache_policy.cpp — the eviction rules and the table of cache variants (see cache_policy.h).
#include "kvscope/cache_policy.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <numeric>

namespace kvscope {

const char* eviction_kind_name(EvictionKind kind) {
    switch (kind) {
        case EvictionKind::none:
            return "none";
        case EvictionKind::window:
            return "window";
        case EvictionKind::sinks_window:
            return "sinks";
        case EvictionKind::heavy_hitters:
            return "h2o";
        case EvictionKind::tova:
            return "tova";
    }
    return "?";
}

int CachePolicy::held() const {
    switch (eviction) {
        case EvictionKind::none:
            return 0;
        case EvictionKind::window:
            return window;
        case EvictionKind::sinks_window:
            return sinks + window;
        case EvictionKind::heavy_hitters:
        case EvictionKind::tova:
            return budget;
    }
    return 0;
}

Status CachePolicy::validate() const {
    if (storage.integer() && (storage.group_size < 1 || storage.group_size > 4096))
        return Status::error("group size must be 1..4096, got " + std::to_string(storage.group_size));
    switch (eviction) {
        case EvictionKind::none:
            break;
        case EvictionKind::window:
            if (window < 1) return Status::error("a window needs W >= 1, got " + std::to_string(window));
            break;
        case EvictionKind::sinks_window:
            if (sinks < 0 || window < 1)
                return Status::error("sinks + window needs S >= 0 and W >= 1, got S=" +
                                     std::to_string(sinks) + " W=" + std::to_string(window));
            break;
        case EvictionKind::heavy_hitters:
            if (budget < 1 || window < 0 || window > budget)
                return Status::error("heavy hitters needs B >= 1 and 0 <= R <= B, got B=" +
                                     std::to_string(budget) + " R=" + std::to_string(window));
            break;
        case EvictionKind::tova:
            if (budget < 1) return Status::error("TOVA needs B >= 1, got " + std::to_string(budget));
            break;
    }
    return Status::ok();
}

std::string CachePolicy::describe() const {
    std::string s;
    switch (eviction) {
        case EvictionKind::none:
            s = exact() ? "exact (f32)" : "KV in " + storage.describe();
            return s;
        case EvictionKind::window:
            s = "window " + std::to_string(window);
            break;
        case EvictionKind::sinks_window:
            s = "sinks " + std::to_string(sinks) + " + window " + std::to_string(window);
            break;
        case EvictionKind::heavy_hitters:
            s = "H2O budget " + std::to_string(budget) + " (recent " + std::to_string(window) + ")";
            break;
        case EvictionKind::tova:
            s = "TOVA budget " + std::to_string(budget);
            break;
    }
    // Say so when positions are not handled as this rule's paper does (cache_policy.h).
    const bool paper_reindexes = eviction == EvictionKind::window || eviction == EvictionKind::sinks_window;
    if (reindex != paper_reindexes) s += reindex ? ", re-indexed" : ", original positions";
    if (storage.lossy()) s += ", " + storage.describe();
    return s;
}

namespace {

// Keeps the same rows in every layer and head.
RowsToKeep same_rows_everywhere(const RowMapView& map, const std::vector<int32_t>& rows) {
    RowsToKeep keep;
    keep.rows_after = static_cast<int>(rows.size());
    for (int l = 0; l < map.n_layers; ++l)
        for (int h = 0; h < map.n_kv_heads; ++h)
            keep.rows.insert(keep.rows.end(), rows.begin(), rows.end());
    return keep;
}

class WindowPolicy final : public EvictionPolicy {
  public:
    WindowPolicy(int sinks, int window) : m_sinks(sinks), m_window(window) {}
    std::optional<RowsToKeep> decide(const RowMapView& map, std::span<const LayerAttention>, int) override {
        if (map.rows <= m_sinks + m_window) return std::nullopt;
        std::vector<int32_t> rows;
        for (int r = 0; r < m_sinks; ++r)
            rows.push_back(r);
        for (int r = map.rows - m_window; r < map.rows; ++r)
            rows.push_back(r);
        return same_rows_everywhere(map, rows);
    }
    void reset() override {}

  private:
    int m_sinks, m_window;
};

// Picks, from rows [0, candidates), the `count` with the largest score (ties: the earlier row), ascending.
std::vector<int32_t> top_rows(const double* score, int candidates, int count) {
    std::vector<int32_t> idx(static_cast<size_t>(candidates));
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return score[a] > score[b]; });
    idx.resize(size_t(std::max(0, std::min(count, candidates))));
    std::sort(idx.begin(), idx.end());
    return idx;
}

// H2O: accumulated attention per (layer, KV head, row), carried along as rows move.
class HeavyHittersPolicy final : public EvictionPolicy {
  public:
    HeavyHittersPolicy(int budget, int recent) : m_budget(budget), m_recent(recent) {}
    bool needs_attention() const override { return true; }
    std::optional<RowsToKeep> decide(const RowMapView& map, std::span<const LayerAttention> attention,
                                     int n_heads) override {
        const int L = map.n_layers, H = map.n_kv_heads, rows = map.rows;
        assert(int(attention.size()) == L && "H2O needs every layer's attention rows");
        m_score.resize(size_t(L) * H);
        const int group = n_heads / H;
        for (int l = 0; l < L; ++l) {
            const LayerAttention& a = attention[l];
            assert(a.n_keys == rows && "H2O: attention keys must be the cache rows");
            for (int h = 0; h < H; ++h) {
                auto& s = m_score[size_t(l) * H + h];
                s.resize(size_t(rows), 0.0);
                for (int qh = h * group; qh < (h + 1) * group; ++qh)
                    for (int r = 0; r < a.n_rows; ++r) {
                        const float* p = a.row(qh, r);
                        for (int k = 0; k < rows; ++k)
                            s[size_t(k)] += p[k];
                    }
            }
        }
        if (rows <= m_budget) return std::nullopt;
        RowsToKeep keep;
        keep.rows_after = m_budget;
        const int older = rows - m_recent;  // rows that compete on score
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) {
                auto& s = m_score[size_t(l) * H + h];
                std::vector<int32_t> kept = top_rows(s.data(), older, m_budget - m_recent);
                for (int r = older; r < rows; ++r)
                    kept.push_back(r);
                std::vector<double> moved;
                for (int32_t r : kept)
                    moved.push_back(s[size_t(r)]);
                s = std::move(moved);
                keep.rows.insert(keep.rows.end(), kept.begin(), kept.end());
            }
        return keep;
    }
    void reset() override { m_score.clear(); }

  private:
    int m_budget, m_recent;
    std::vector<std::vector<double>> m_score;  // [layer · n_kv_heads + head][row]
};

// TOVA: the newest query's attention, averaged over the layer's query heads; one choice per layer.
class TovaPolicy final : public EvictionPolicy {
  public:
    explicit TovaPolicy(int budget) : m_budget(budget) {}
    bool needs_attention() const override { return true; }
    std::optional<RowsToKeep> decide(const RowMapView& map, std::span<const LayerAttention> attention,
                                     int n_heads) override {
        const int rows = map.rows;
        if (rows <= m_budget) return std::nullopt;
        assert(int(attention.size()) == map.n_layers && "TOVA needs every layer's attention rows");
        RowsToKeep keep;
        keep.rows_after = m_budget;
        std::vector<double> score(static_cast<size_t>(rows));
        for (int l = 0; l < map.n_layers; ++l) {
            const LayerAttention& a = attention[l];
            std::fill(score.begin(), score.end(), 0.0);
            for (int qh = 0; qh < n_heads; ++qh) {
                const float* p = a.row(qh, a.n_rows - 1);
                for (int k = 0; k < rows; ++k)
                    score[size_t(k)] += p[k] / n_heads;
            }
            const std::vector<int32_t> kept = top_rows(score.data(), rows, m_budget);
            for (int h = 0; h < map.n_kv_heads; ++h)
                keep.rows.insert(keep.rows.end(), kept.begin(), kept.end());
        }
        return keep;
    }
    void reset() override {}

  private:
    int m_budget;
};

}  // namespace

std::unique_ptr<EvictionPolicy> make_eviction_policy(const CachePolicy& p) {
    switch (p.eviction) {
        case EvictionKind::none:
            return nullptr;
        case EvictionKind::window:
            return std::make_unique<WindowPolicy>(0, p.window);
        case EvictionKind::sinks_window:
            return std::make_unique<WindowPolicy>(p.sinks, p.window);
        case EvictionKind::heavy_hitters:
            return std::make_unique<HeavyHittersPolicy>(p.budget, p.window);
        case EvictionKind::tova:
            return std::make_unique<TovaPolicy>(p.budget);
    }
    return nullptr;
}

// ---- the variants table -------------------------------------------------------------------------------

const std::vector<CacheVariant>& cache_variants() {
    static const std::vector<CacheVariant> table = {
        {"exact", "exact cache (f32)", "every row kept in float32: the reference, bit for bit", {}},
        {"f16", "KV in f16", "K and V rounded to IEEE half precision (2 bytes a value)", {}},
        {"bf16", "KV in bf16", "K and V rounded to bfloat16: float32's range, 8 bits of precision", {}},
        {"int8",
         "KV in int8",
         "8-bit codes with a float32 scale and minimum per group of values",
         {{"group", "values per scale", 32}}},
        {"int4",
         "KV in int4 (group 32)",
         "4-bit codes with a float32 scale and minimum per group of values",
         {{"group", "values per scale", 32}}},
        {"window",
         "sliding window W",
         "keeps the W most recent tokens; positions re-indexed within the cache",
         {{"W", "recent tokens kept", 64},
          {"reindex", "RoPE by row in the cache (1) or by position (0)", 1}}},
        {"sinks",
         "attention sinks S + window W",
         "StreamingLLM: keeps the first S tokens and the W most recent; positions re-indexed within the "
         "cache",
         {{"S", "sink tokens kept", 4},
          {"W", "recent tokens kept", 60},
          {"reindex", "RoPE by row in the cache (1) or by position (0)", 1}}},
        {"h2o",
         "heavy hitters: budget B",
         "H2O: keeps the R most recent tokens and the B - R with the most accumulated attention, per head",
         {{"B", "tokens kept", 64},
          {"R", "of those, most recent (-1: B/2)", -1},
          {"reindex", "RoPE by row in the cache (1) or by position (0)", 0}}},
        {"tova",
         "TOVA: budget B",
         "keeps the B tokens the newest query attends to most (averaged over the layer's heads)",
         {{"B", "tokens kept", 64}, {"reindex", "RoPE by row in the cache (1) or by position (0)", 0}}},
    };
    return table;
}

const CacheVariant* find_cache_variant(const std::string& id) {
    for (const auto& v : cache_variants())
        if (id == v.id) return &v;
    return nullptr;
}

Result<CachePolicy> make_cache_variant(const std::string& id,
                                       const std::vector<std::pair<std::string, int>>& given) {
    const CacheVariant* v = find_cache_variant(id);
    if (!v) {
        std::string ids;
        for (const auto& e : cache_variants())
            ids += std::string(ids.empty() ? "" : ", ") + e.id;
        return Status::error("unknown cache variant '" + id + "' (expected one of: " + ids + ")");
    }
    auto value = [&](const char* key) {
        int out = 0;
        for (const auto& p : v->params)
            if (std::string(p.key) == key) out = p.default_value;
        for (const auto& [k, val] : given)
            if (k == key) out = val;
        return out;
    };
    for (const auto& [k, val] : given) {
        bool known = false;
        std::string keys;
        for (const auto& p : v->params) {
            known = known || k == p.key;
            keys += std::string(keys.empty() ? "" : ", ") + p.key;
        }
        if (!known)
            return Status::error(
                "cache variant '" + id + "' has no parameter '" + k + "'" +
                (keys.empty() ? std::string(" (it takes none)") : " (it takes " + keys + ")"));
    }
    CachePolicy p;
    const std::string s = id;
    if (s == "f16") p.storage.element = KVElement::f16;
    if (s == "bf16") p.storage.element = KVElement::bf16;
    if (s == "int8") p.storage.element = KVElement::int8;
    if (s == "int4") p.storage.element = KVElement::int4;
    if (p.storage.integer()) p.storage.group_size = value("group");
    if (s == "window") {
        p.eviction = EvictionKind::window;
        p.window = value("W");
    } else if (s == "sinks") {
        p.eviction = EvictionKind::sinks_window;
        p.sinks = value("S");
        p.window = value("W");
    } else if (s == "h2o") {
        p.eviction = EvictionKind::heavy_hitters;
        p.budget = value("B");
        p.window = value("R") < 0 ? p.budget / 2 : value("R");
    } else if (s == "tova") {
        p.eviction = EvictionKind::tova;
        p.budget = value("B");
    }
    if (p.evicts()) p.reindex = value("reindex") != 0;
    KVSCOPE_TRY(p.validate().with_context("cache variant '" + id + "'"));
    return p;
}

Result<CachePolicy> parse_cache_variant(const std::string& spec) {
    const size_t colon = spec.find(':');
    const std::string id = spec.substr(0, colon);
    std::vector<std::pair<std::string, int>> params;
    if (colon != std::string::npos) {
        std::string rest = spec.substr(colon + 1);
        size_t at = 0;
        while (at <= rest.size()) {
            const size_t comma = std::min(rest.find(',', at), rest.size());
            const std::string item = rest.substr(at, comma - at);
            const size_t eq = item.find('=');
            if (eq == std::string::npos || eq == 0)
                return Status::error("cache variant '" + spec + "': expected KEY=VALUE, found '" + item +
                                     "'");
            const std::string key = item.substr(0, eq), val = item.substr(eq + 1);
            char* end = nullptr;
            const long n = std::strtol(val.c_str(), &end, 10);
            if (val.empty() || *end != '\0' || n < -1 || n > 1000000)
                return Status::error("cache variant '" + spec + "': '" + key + "' needs an integer, found '" +
                                     val + "'");
            params.emplace_back(key, int(n));
            at = comma + 1;
        }
    }
    return make_cache_variant(id, params);
}

std::string cache_variant_spec(const CachePolicy& p) {
    std::string id;
    std::vector<std::string> kv;
    switch (p.eviction) {
        case EvictionKind::none:
            id = p.exact() ? "exact" : kv_element_name(p.storage.element);
            if (p.storage.integer()) kv.push_back("group=" + std::to_string(p.storage.group_size));
            break;
        case EvictionKind::window:
            id = "window";
            kv.push_back("W=" + std::to_string(p.window));
            break;
        case EvictionKind::sinks_window:
            id = "sinks";
            kv.push_back("S=" + std::to_string(p.sinks));
            kv.push_back("W=" + std::to_string(p.window));
            break;
        case EvictionKind::heavy_hitters:
            id = "h2o";
            kv.push_back("B=" + std::to_string(p.budget));
            kv.push_back("R=" + std::to_string(p.window));
            break;
        case EvictionKind::tova:
            id = "tova";
            kv.push_back("B=" + std::to_string(p.budget));
            break;
    }
    if (p.evicts()) {
        const bool default_reindex =
            p.eviction == EvictionKind::window || p.eviction == EvictionKind::sinks_window;
        if (p.reindex != default_reindex) kv.push_back(std::string("reindex=") + (p.reindex ? "1" : "0"));
    }
    std::string s = id;
    for (size_t i = 0; i < kv.size(); ++i)
        s += (i == 0 ? ":" : ",") + kv[i];
    return s;
}

Result<CachePolicy> with_sweep_value(CachePolicy p, const std::string& key, int value) {
    if (key == "bits") {
        switch (value) {
            case 32:
                p.storage.element = KVElement::f32;
                break;
            case 16:
                p.storage.element = KVElement::f16;
                break;
            case 8:
                p.storage.element = KVElement::int8;
                break;
            case 4:
                p.storage.element = KVElement::int4;
                break;
            default:
                return Status::error("bits must be 32, 16, 8 or 4, got " + std::to_string(value));
        }
    } else if (key == "budget") {
        switch (p.eviction) {
            case EvictionKind::none:
                return Status::error("'budget' sweeps an eviction variant (window, sinks, h2o, tova)");
            case EvictionKind::window:
                p.window = value;
                break;
            case EvictionKind::sinks_window:
                p.window = value - p.sinks;
                break;
            case EvictionKind::heavy_hitters:
                p.budget = value;
                p.window = value / 2;
                break;
            case EvictionKind::tova:
                p.budget = value;
                break;
        }
    } else if (key == "window" || key == "W") {
        if (p.eviction != EvictionKind::window && p.eviction != EvictionKind::sinks_window)
            return Status::error("'" + key + "' sweeps the window of the window or sinks variant");
        p.window = value;
    } else if (key == "group") {
        if (!p.storage.integer()) return Status::error("'group' sweeps the int8 or int4 variant");
        p.storage.group_size = value;
    } else if (key == "S" || key == "sinks") {
        if (p.eviction != EvictionKind::sinks_window) return Status::error("'S' sweeps the sinks variant");
        p.sinks = value;
    } else if (key == "B") {
        if (p.eviction != EvictionKind::heavy_hitters && p.eviction != EvictionKind::tova)
            return Status::error("'B' sweeps the h2o or tova variant");
        p.budget = value;
        if (p.eviction == EvictionKind::heavy_hitters) p.window = std::min(p.window, value);
    } else {
        return Status::error("cannot sweep '" + key + "' (expected bits, budget, window, S, B or group)");
    }
    KVSCOPE_TRY(p.validate());
    return p;
}

}  // namespace kvscope

namespace kvscope {

bool CacheState::holds(int layer, int kv_head, int pos) const {
    if (contiguous) return pos >= 0 && pos < rows;
    const int32_t* b = positions.data() + (size_t(layer) * n_kv_heads + kv_head) * rows;
    return std::binary_search(b, b + rows, pos);
}

}  // namespace kvscope
