// kvscope-cli scale [MODEL] — what the KV cache costs at real scale: the size formulas of kvscope/scale.h
// over the published shapes of assets/reference/model-configs.json, with the loaded model as one row;
// the conversations that fit next to the weights on each accelerator; the decode speed memory bandwidth
// allows at batch 1 and batch B.
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "commands.h"
#include "kvscope/default_model.h"
#include "kvscope/scale.h"

namespace kvscope::cli {

namespace {

struct ScaleOptions {
    ModelOptions model;
    bool no_loaded = false;
    std::string catalog;
    std::string context = "128K";
    std::string precision = "bf16";
    std::string weights_precision, kv_precision;
    int batch = 1;
    std::string select;       // a model of the catalog (name, case-insensitive substring)
    std::string accelerator;  // an accelerator (substring); default: all
    bool json = false;
};

std::string lower(std::string s) {
    for (char& c : s)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool matches(const std::string& name, const std::string& pattern) {
    return pattern.empty() || lower(name).find(lower(pattern)) != std::string::npos;
}

std::string bytes_text(double b) {
    return human_bytes(static_cast<uint64_t>(std::llround(b)));
}

// Accelerator memory as data sheets give it (1 GB = 1e9 bytes).
std::string gb_text(double bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, bytes < 10e9 ? "%.2f GB" : "%.0f GB", bytes / 1e9);
    return buf;
}

std::string rate_text(double tokens_per_s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, tokens_per_s >= 100 ? "%.0f" : "%.1f", tokens_per_s);
    return buf;
}

int run_scale(const ScaleOptions& o) {
    const std::string path = o.catalog.empty() ? find_reference_catalog(executable_dir()) : o.catalog;
    if (path.empty())
        return fail("the reference catalog model-configs.json was not found (give one with --catalog)");
    auto catalog = load_reference_catalog(path);
    if (!catalog) return fail(catalog.message());
    auto context = parse_token_count(o.context);
    if (!context)
        return fail("--context '" + o.context + "': expected a token count such as 4096, 128K or 1M");
    auto both = parse_precision(o.precision);
    auto wp = parse_precision(o.weights_precision.empty() ? o.precision : o.weights_precision);
    auto kp = parse_precision(o.kv_precision.empty() ? o.precision : o.kv_precision);
    if (!both || !wp || !kp) return fail("precision: expected f32, f16, bf16, f8 or int4");
    ScaleQuery q;
    q.context = *context;
    q.weights = *wp;
    q.kv = *kp;
    q.batch = o.batch;

    std::vector<ModelShape> models = catalog->models;
    if (!o.no_loaded) {
        auto loaded = load_model_only(o.model);
        if (!loaded) return fail(loaded.message());
        std::string name = loaded.value()->source_path;
        name = name.substr(name.find_last_of('/') + 1);
        models.push_back(shape_of(*loaded.value(), name + " (loaded)"));
    }
    std::vector<Accelerator> accels;
    for (const Accelerator& a : catalog->accelerators)
        if (matches(a.name, o.accelerator)) accels.push_back(a);
    if (accels.empty()) return fail("--accelerator '" + o.accelerator + "' matches none of the catalog's");
    const ModelShape* selected = nullptr;
    if (!o.select.empty()) {
        for (const ModelShape& m : models)
            if (matches(m.name, o.select)) {
                selected = &m;
                break;
            }
        if (!selected) return fail("--select '" + o.select + "' matches no model of the catalog");
    }

    if (o.json) {
        nlohmann::ordered_json j;
        j["catalog"] = path;
        j["context"] = q.context;
        j["weights_precision"] = precision_name(q.weights);
        j["kv_precision"] = precision_name(q.kv);
        j["batch"] = q.batch;
        for (const ModelShape& m : models) {
            if (selected && selected != &m) continue;
            nlohmann::ordered_json jm;
            jm["name"] = m.name;
            jm["attention"] = attention_kind_name(m.kind);
            jm["loaded"] = m.loaded;
            jm["kv_values_per_token"] = kv_values_per_token(m);
            jm["kv_bytes_per_token"] = kv_bytes_per_token(m, q.kv);
            jm["kv_formula"] = kv_formula_text(m, q.kv);
            jm["fixed_state_bytes"] = fixed_state_values(m) * precision_bytes(q.kv);
            jm["kv_bytes_per_conversation"] = kv_bytes_per_conversation(m, q.context, q.kv);
            jm["weight_bytes"] = weight_bytes(m, q.weights);
            jm["weight_flops_per_token"] = weight_flops_per_token(m);
            jm["attention_flops_per_token"] = attention_flops_per_token(m, q.context);
            jm["attention_crossover_context"] = attention_crossover_context(m);
            for (const Accelerator& a : accels) {
                const ScaleResult r = evaluate_scale(m, a, q);
                nlohmann::ordered_json ja;
                ja["accelerator"] = a.name;
                ja["weights_fit"] = r.weights_fit;
                ja["conversations_fit"] = r.conversations_fit;
                ja["batch_fits"] = r.batch_fits;
                ja["bytes_per_step_batch1"] = r.bytes_per_step_batch1;
                ja["bytes_per_step_batch"] = r.bytes_per_step_batch;
                ja["tokens_per_s_batch1"] = r.tokens_per_s_batch1;
                ja["tokens_per_s_per_sequence"] = r.tokens_per_s_per_seq;
                ja["tokens_per_s_batch_total"] = r.tokens_per_s_batch_total;
                jm["accelerators"].push_back(ja);
            }
            j["models"].push_back(jm);
        }
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }

    std::printf("KV cache at %s tokens per conversation; weights %s, cache %s; batch %d (catalog %s)\n\n",
                format_token_count(q.context).c_str(), precision_name(q.weights), precision_name(q.kv),
                q.batch, path.c_str());
    std::printf("%-34s %-6s %11s  %-48s %13s %11s %13s\n", "model", "attn", "KV/token", "= formula",
                "KV/convers.", "weights", "attn>weights");
    for (const ModelShape& m : models) {
        if (selected && selected != &m) continue;
        const double n_star = attention_crossover_context(m);
        std::string cross = n_star > 0 ? format_token_count(std::round(n_star)) + " tok" : "never";
        std::printf("%-34s %-6s %11s  %-48s %13s %11s %13s%s\n", m.name.c_str(), attention_kind_name(m.kind),
                    bytes_text(kv_bytes_per_token(m, q.kv)).c_str(), kv_formula_text(m, q.kv).c_str(),
                    bytes_text(kv_bytes_per_conversation(m, q.context, q.kv)).c_str(),
                    bytes_text(weight_bytes(m, q.weights)).c_str(), cross.c_str(),
                    m.context > 0 && q.context > m.context ? "  (past its trained context)" : "");
    }
    std::printf(
        "\nattn>weights: the context past which attention's FLOPs per token exceed all the weights' "
        "(2 per weight per token)\n");

    // Conversations that fit, one column per accelerator.
    std::printf(
        "\nConversations of %s tokens that fit next to the weights (-: the weights alone do not fit)\n",
        format_token_count(q.context).c_str());
    std::printf("%-34s", "model");
    for (const Accelerator& a : accels) {
        const std::string short_name = a.name.rfind("NVIDIA ", 0) == 0 ? a.name.substr(7) : a.name;
        std::printf(" %14.14s", short_name.c_str());
    }
    std::printf("\n");
    for (const ModelShape& m : models) {
        if (selected && selected != &m) continue;
        std::printf("%-34s", m.name.c_str());
        for (const Accelerator& a : accels) {
            const ScaleResult r = evaluate_scale(m, a, q);
            std::printf(" %14s", r.weights_fit ? std::to_string(int64_t(r.conversations_fit)).c_str() : "-");
        }
        std::printf("\n");
    }

    if (selected) {
        const ModelShape& m = *selected;
        std::printf(
            "\n%s on each accelerator: decode speed bound = bandwidth / bytes read per step "
            "(weights once per batch + each conversation's KV)\n",
            m.name.c_str());
        std::printf("%-34s %9s %11s %11s %7s %12s %12s %14s %12s\n", "accelerator", "memory", "weights",
                    "free", "fit", "bytes/step@1", "tok/s @1", "bytes/step@B", "tok/s/seq @B");
        for (const Accelerator& a : accels) {
            const ScaleResult r = evaluate_scale(m, a, q);
            std::printf("%-34s %9s %11s %11s %7s %12s %12s %14s %12s%s\n", a.name.c_str(),
                        gb_text(a.memory_bytes).c_str(), bytes_text(r.weight_bytes).c_str(),
                        r.weights_fit ? bytes_text(a.memory_bytes - r.weight_bytes).c_str() : "-",
                        r.weights_fit ? std::to_string(int64_t(r.conversations_fit)).c_str() : "-",
                        bytes_text(r.bytes_per_step_batch1).c_str(), rate_text(r.tokens_per_s_batch1).c_str(),
                        bytes_text(r.bytes_per_step_batch).c_str(), rate_text(r.tokens_per_s_per_seq).c_str(),
                        r.batch_fits ? "" : "  (batch does not fit)");
        }
        if (q.batch > 1)
            std::printf("at batch %d the accelerator makes %d × tok/s/seq tokens per second in all\n",
                        q.batch, q.batch);
    }
    return 0;
}

}  // namespace

void add_scale_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<ScaleOptions>();
    CLI::App* cmd = app.add_subcommand(
        "scale", "What the KV cache costs at real scale: published model shapes on real accelerators");
    cmd->add_option("model", o->model.model, "The model to add as a row (default: the embedded model)");
    cmd->add_flag("--no-loaded", o->no_loaded, "Only the catalog's models, no loaded one");
    cmd->add_option("--catalog", o->catalog, "model-configs.json (default: the one KVScope ships)");
    cmd->add_option("--context", o->context, "Tokens per conversation: 4096, 128K, 1M ... (default 128K)");
    cmd->add_option("--precision", o->precision,
                    "Weights and cache: f32, f16, bf16, f8, int4 (default bf16)");
    cmd->add_option("--weights-precision", o->weights_precision, "Weights only (overrides --precision)");
    cmd->add_option("--kv-precision", o->kv_precision, "Cache only (overrides --precision)");
    cmd->add_option("--batch", o->batch, "Conversations decoded together (default 1)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--select", o->select,
                    "One model (name, or part of it): its row and its table per accelerator");
    cmd->add_option("--accelerator", o->accelerator, "Only accelerators whose name contains this");
    cmd->add_flag("--json", o->json, "Print JSON instead of text");
    cmd->callback([o, &exit_code] { exit_code = run_scale(*o); });
}

}  // namespace kvscope::cli
