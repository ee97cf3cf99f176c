// reference_catalog.cpp — reads model-configs.json: published model shapes and accelerator data sheets.
//
// Layout (assets/reference/model-configs.json, a copy of ../shared/reference/model-configs.json):
//   { "about": "...",
//     "models": [ { "name", "params", "layers", "attention": "mha|gqa|mqa|mla|ssm|hybrid",
//                   mha/gqa/mqa/hybrid: "d_model", "n_heads", "n_kv_heads", "head_dim";
//                   mla: "n_heads", "kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim";
//                   ssm/hybrid: "d_model", "d_state", "expand", "d_conv"; hybrid: "attention_layers";
//                   optional: "active_params", "context", "sliding_window", "note" }, ... ],
//     "accelerators": [ { "name", "memory_GB", "bandwidth_GBps", optional "note" }, ... ] }
// GB are 1e9 bytes, GB/s 1e9 bytes per second, as data sheets write them.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kvscope/scale.h"

namespace kvscope {

namespace {

using nlohmann::json;

struct EntryReader {
    const json& j;
    std::string where;  // "models[3] (Llama-2-7B)"
    Status status;

    double number(const char* key, bool required) {
        auto it = j.find(key);
        if (it == j.end()) {
            if (required && status) status = Status::error(where + ": '" + key + "' is missing");
            return 0;
        }
        if (!it->is_number()) {
            if (status)
                status = Status::error(where + ": '" + key + "' is not a number (" + it->dump() + ")");
            return 0;
        }
        const double v = it->get<double>();
        if (v < 0 && status)
            status = Status::error(where + ": '" + key + "' is negative (" + it->dump() + ")");
        return v;
    }
    int integer(const char* key, bool required) { return int(number(key, required)); }
    std::string text(const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    }
};

Result<ModelShape> read_model(const json& j, size_t index) {
    if (!j.is_object()) return Status::error("models[" + std::to_string(index) + "] is not an object");
    ModelShape m;
    EntryReader r{j, "models[" + std::to_string(index) + "]", Status::ok()};
    m.name = r.text("name");
    if (m.name.empty()) return Status::error(r.where + ": 'name' is missing");
    r.where += " (" + m.name + ")";
    const std::string kind = r.text("attention");
    if (kind == "mha")
        m.kind = AttentionKind::mha;
    else if (kind == "gqa")
        m.kind = AttentionKind::gqa;
    else if (kind == "mqa")
        m.kind = AttentionKind::mqa;
    else if (kind == "mla")
        m.kind = AttentionKind::mla;
    else if (kind == "ssm")
        m.kind = AttentionKind::ssm;
    else if (kind == "hybrid")
        m.kind = AttentionKind::hybrid;
    else
        return Status::error(r.where + ": 'attention' is '" + kind +
                             "', expected mha, gqa, mqa, mla, ssm or hybrid");
    m.params = r.number("params", true);
    m.active_params = r.number("active_params", false);
    m.layers = r.integer("layers", true);
    m.d_model = r.integer("d_model", true);
    m.context = r.integer("context", false);
    m.sliding_window = r.integer("sliding_window", false);
    m.note = r.text("note");
    const bool heads = m.kind != AttentionKind::ssm;
    const bool kv_heads = heads && m.kind != AttentionKind::mla;
    const bool ssm = m.kind == AttentionKind::ssm || m.kind == AttentionKind::hybrid;
    m.n_heads = r.integer("n_heads", heads);
    m.n_kv_heads = r.integer("n_kv_heads", kv_heads);
    m.head_dim = r.integer("head_dim", kv_heads);
    m.kv_lora_rank = r.integer("kv_lora_rank", m.kind == AttentionKind::mla);
    m.qk_rope_head_dim = r.integer("qk_rope_head_dim", m.kind == AttentionKind::mla);
    m.qk_nope_head_dim = r.integer("qk_nope_head_dim", m.kind == AttentionKind::mla);
    m.v_head_dim = r.integer("v_head_dim", m.kind == AttentionKind::mla);
    m.d_state = r.integer("d_state", ssm);
    m.expand = r.integer("expand", ssm);
    m.d_conv = r.integer("d_conv", ssm);
    m.attention_layers = r.integer("attention_layers", m.kind == AttentionKind::hybrid);
    if (!r.status) return r.status;
    if (m.params <= 0 || m.layers <= 0) return Status::error(r.where + ": 'params' and 'layers' must be > 0");
    if (m.attention_layers > m.layers)
        return Status::error(r.where + ": 'attention_layers' (" + std::to_string(m.attention_layers) +
                             ") is more than 'layers' (" + std::to_string(m.layers) + ")");
    return m;
}

Result<Accelerator> read_accelerator(const json& j, size_t index) {
    if (!j.is_object()) return Status::error("accelerators[" + std::to_string(index) + "] is not an object");
    Accelerator a;
    EntryReader r{j, "accelerators[" + std::to_string(index) + "]", Status::ok()};
    a.name = r.text("name");
    if (a.name.empty()) return Status::error(r.where + ": 'name' is missing");
    r.where += " (" + a.name + ")";
    a.memory_bytes = r.number("memory_GB", true) * 1e9;
    a.bandwidth = r.number("bandwidth_GBps", true) * 1e9;
    a.note = r.text("note");
    if (!r.status) return r.status;
    if (a.memory_bytes <= 0 || a.bandwidth <= 0)
        return Status::error(r.where + ": 'memory_GB' and 'bandwidth_GBps' must be > 0");
    return a;
}

}  // namespace

Result<ReferenceCatalog> parse_reference_catalog(const std::string& text, const std::string& source) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::error(source + ": not valid JSON");
    if (!j.is_object() || !j.contains("models") || !j["models"].is_array())
        return Status::error(source + ": expected an object with a 'models' array");
    if (!j.contains("accelerators") || !j["accelerators"].is_array())
        return Status::error(source + ": expected an 'accelerators' array");
    ReferenceCatalog catalog;
    catalog.source_path = source;
    for (size_t i = 0; i < j["models"].size(); ++i) {
        auto m = read_model(j["models"][i], i);
        if (!m) return m.status().with_context(source);
        catalog.models.push_back(std::move(m.value()));
    }
    for (size_t i = 0; i < j["accelerators"].size(); ++i) {
        auto a = read_accelerator(j["accelerators"][i], i);
        if (!a) return a.status().with_context(source);
        catalog.accelerators.push_back(std::move(a.value()));
    }
    return catalog;
}

Result<ReferenceCatalog> load_reference_catalog(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::error(path + ": cannot open the reference model catalog");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_reference_catalog(text.str(), path);
}

std::string find_reference_catalog(const std::string& executable_dir) {
    namespace fs = std::filesystem;
    std::vector<fs::path> places;
    if (!executable_dir.empty())
        places.push_back(fs::path(executable_dir) / ".." / "share" / "kvscope" / "reference" /
                         "model-configs.json");
    places.push_back(fs::path(KVSCOPE_INSTALL_DATA_DIR) / "reference" / "model-configs.json");
    places.push_back(fs::path(KVSCOPE_SOURCE_ASSETS_DIR) / "reference" / "model-configs.json");
    for (const fs::path& p : places) {
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) return p.lexically_normal().string();
    }
    return {};
}

}  // namespace kvscope
