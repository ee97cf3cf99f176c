// kvscope-cli lab MODEL --variant SPEC --text FILE — the cache techniques lab from the command line.
//
// Runs the exact cache and each variant over the text, teacher-forced, segment by segment (kvscope/lab.h),
// and prints one row per variant: bytes a value takes, KV bytes held, perplexity next to the exact run's,
// mean KL(exact ‖ variant), top-1 agreement, the largest |Δ logit|. --sweep KEY=v1,v2,... repeats each
// variant for each value (bits=16,8,4; budget=32,64; window=...; see with_sweep_value). Segments longer
// than the model's context (--segment 2048) show perplexity per window of positions, past where the exact
// run must stop. --csv and --json write the same rows.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_common.h"
#include "commands.h"
#include "kvscope/lab.h"
#include "kvscope/tokenizer.h"

namespace kvscope::cli {

namespace {

struct LabCliOptions {
    ModelOptions model;
    std::vector<std::string> variants;
    std::vector<std::string> sweeps;
    std::string text_path;
    double from_fraction = 0.0;
    int64_t max_chars = 0;
    int segment = 0;
    int segments = 0;
    int window = 0;
    std::string csv_path, json_path;
    bool quiet = false;
};

Result<std::vector<CachePolicy>> build_variants(const LabCliOptions& o) {
    std::vector<CachePolicy> out;
    for (const std::string& spec : o.variants) {
        auto p = parse_cache_variant(spec);
        if (!p) return p.status().with_context("--variant");
        out.push_back(p.value());
    }
    for (const std::string& sweep : o.sweeps) {
        const size_t eq = sweep.find('=');
        if (eq == std::string::npos || eq == 0)
            return Status::error("--sweep '" + sweep +
                                 "': expected KEY=v1,v2,... (e.g. budget=32,64 or bits=16,8,4)");
        const std::string key = sweep.substr(0, eq);
        auto values = parse_token_list(sweep.substr(eq + 1));
        if (!values) return values.status().with_context("--sweep " + key);
        std::vector<CachePolicy> swept;
        const std::vector<CachePolicy> base = out.empty() ? std::vector<CachePolicy>{CachePolicy{}} : out;
        for (const CachePolicy& p : base)
            for (int32_t v : values.value()) {
                auto s = with_sweep_value(p, key, v);
                if (!s) return s.status().with_context("--sweep " + sweep + " on " + p.describe());
                swept.push_back(s.value());
            }
        out = swept;
    }
    if (out.empty())
        return Status::error("give at least one --variant (e.g. --variant int4 or --variant sinks:S=4,W=60)");
    return out;
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

nlohmann::json result_json(const LabResult& r, bool exact) {
    nlohmann::json j;
    j["variant"] = r.spec;
    j["label"] = r.label;
    j["bytes_per_value"] = r.bytes_per_value;
    j["kv_bytes_held"] = r.kv_bytes_held;
    j["kv_bytes_exact"] = r.kv_bytes_exact;
    j["perplexity"] = r.perplexity();
    j["tokens_scored"] = r.tokens;
    if (!exact) {
        j["positions_compared"] = r.compared;
        j["mean_kl_nats"] = r.mean_kl();
        j["top1_agreement"] = r.top1_agreement();
        j["max_abs_logit_diff"] = r.max_abs_logit_diff;
    }
    nlohmann::json w = nlohmann::json::array();
    for (const auto& win : r.windows)
        w.push_back(
            {{"begin", win.begin},
             {"end", win.end},
             {"tokens", win.tokens},
             {"perplexity", win.tokens ? nlohmann::json(win.perplexity()) : nlohmann::json(nullptr)}});
    j["windows"] = w;
    return j;
}

int run_lab_command(const LabCliOptions& o) {
    auto variants = build_variants(o);
    if (!variants) return fail(variants.message());
    auto loaded = load(o.model);
    if (!loaded) return 1;
    const Model& model = *loaded->model;
    if (!model.tokenizer) return fail("the model carries no tokenizer: the lab needs one to read --text");
    std::ifstream in(o.text_path, std::ios::binary);
    if (!in) return fail("cannot open --text " + o.text_path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (o.from_fraction < 0.0 || o.from_fraction >= 1.0) return fail("--from-fraction must be in [0, 1)");
    const size_t from = size_t(double(text.size()) * o.from_fraction);
    text = text.substr(from);
    if (o.max_chars > 0 && int64_t(text.size()) > o.max_chars) text.resize(size_t(o.max_chars));
    auto tokens = model.tokenizer->encode(text, false);
    if (!tokens) return fail(tokens.status().with_context(o.text_path).message());

    LabOptions lo;
    lo.segment_tokens = o.segment;
    lo.max_segments = o.segments;
    lo.window_tokens = o.window;
    if (!o.quiet)
        lo.progress = [](int done, int total) {
            std::fprintf(stderr, "\rkvscope-cli lab: segment %d/%d", done, total);
            if (done == total) std::fprintf(stderr, "\n");
        };
    auto report = run_lab(loaded->engine, tokens.value(), variants.value(), lo);
    if (!report) return fail(report.message());
    const LabReport& r = report.value();

    std::printf(
        "text: %s from character %zu (%zu characters, %lld tokens); %d segments of %d tokens, "
        "teacher-forced; model context %d\n",
        o.text_path.c_str(), from, text.size(), (long long)r.text_tokens, r.segments, r.segment_tokens,
        r.context);
    std::printf("%-34s %9s %11s %7s %10s %10s %8s %9s\n", "variant", "B/value", "KV held", "saved", "ppl",
                "mean KL", "top-1", "max|dl|");
    auto row = [&](const LabResult& x, bool exact) {
        const double saved =
            x.kv_bytes_exact ? 1.0 - double(x.kv_bytes_held) / double(x.kv_bytes_exact) : 0.0;
        std::printf("%-34s %9.3f %11s %6.1f%% %10.4f %10s %8s %9s\n", x.label.c_str(), x.bytes_per_value,
                    human_bytes(x.kv_bytes_held).c_str(), 100.0 * saved, x.perplexity(),
                    exact ? "-" : fmt("%.3g", x.mean_kl()).c_str(),
                    exact ? "-" : fmt("%.2f%%", 100.0 * x.top1_agreement()).c_str(),
                    exact ? "-" : fmt("%.3f", x.max_abs_logit_diff).c_str());
    };
    row(r.exact, true);
    for (const auto& v : r.variants)
        row(v, false);
    if (r.exact.windows.size() > 1) {
        std::printf("\nperplexity per window of positions (the exact run stops at %d):\n%-34s", r.context,
                    "variant");
        for (const auto& w : r.exact.windows)
            std::printf(" %11s", (std::to_string(w.begin) + "-" + std::to_string(w.end)).c_str());
        std::printf("\n");
        auto wrow = [&](const LabResult& x) {
            std::printf("%-34s", x.label.c_str());
            for (const auto& w : x.windows)
                std::printf(" %11s", w.tokens ? fmt("%.4f", w.perplexity()).c_str() : "-");
            std::printf("\n");
        };
        wrow(r.exact);
        for (const auto& v : r.variants)
            wrow(v);
    }

    if (!o.csv_path.empty()) {
        std::ofstream csv(o.csv_path);
        if (!csv) return fail("cannot write --csv " + o.csv_path);
        csv << "variant,label,bytes_per_value,kv_bytes_held,kv_bytes_exact,perplexity,exact_perplexity,mean_"
               "kl,"
               "top1_agreement,max_abs_logit_diff,positions_compared,tokens_scored";
        for (const auto& w : r.exact.windows)
            csv << ",ppl_" << w.begin << "_" << w.end;
        csv << "\n";
        auto crow = [&](const LabResult& x, bool exact) {
            csv << "\"" << x.spec << "\",\"" << x.label << "\"," << x.bytes_per_value << ","
                << x.kv_bytes_held << "," << x.kv_bytes_exact << "," << fmt("%.6f", x.perplexity()) << ","
                << fmt("%.6f", r.exact.perplexity()) << "," << (exact ? "0" : fmt("%.8f", x.mean_kl())) << ","
                << (exact ? "1" : fmt("%.6f", x.top1_agreement())) << ","
                << (exact ? "0" : fmt("%.6f", x.max_abs_logit_diff)) << "," << x.compared << "," << x.tokens;
            for (const auto& w : x.windows)
                csv << "," << (w.tokens ? fmt("%.6f", w.perplexity()) : "");
            csv << "\n";
        };
        crow(r.exact, true);
        for (const auto& v : r.variants)
            crow(v, false);
    }
    if (!o.json_path.empty()) {
        nlohmann::json j;
        j["text"] = o.text_path;
        j["from_character"] = from;
        j["characters"] = text.size();
        j["text_tokens"] = r.text_tokens;
        j["segments"] = r.segments;
        j["segment_tokens"] = r.segment_tokens;
        j["context"] = r.context;
        j["exact"] = result_json(r.exact, true);
        j["variants"] = nlohmann::json::array();
        for (const auto& v : r.variants)
            j["variants"].push_back(result_json(v, false));
        std::ofstream out(o.json_path);
        if (!out) return fail("cannot write --json " + o.json_path);
        out << j.dump(2) << "\n";
    }
    return 0;
}

}  // namespace

void add_lab_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<LabCliOptions>();
    std::string variants_help = "Cache variant(s), repeatable: ID[:KEY=VALUE,...]. IDs:";
    for (const auto& v : cache_variants()) {
        variants_help += std::string("\n  ") + v.id + ": " + v.summary;
        for (const auto& p : v.params)
            variants_help +=
                std::string("; ") + p.key + "=" + std::to_string(p.default_value) + " (" + p.meaning + ")";
    }
    auto* cmd = app.add_subcommand(
        "lab", "Exact cache vs cache variants over a text: perplexity, KL, top-1, KV bytes");
    o->model.add_to(*cmd);
    cmd->add_option("--variant", o->variants, variants_help);
    cmd->add_option(
        "--sweep", o->sweeps,
        "KEY=v1,v2,...: each variant once per value (bits=32,16,8,4; budget=N; window=N; B=N; S=N; "
        "group=N)");
    cmd->add_option("--text", o->text_path, "The text to run, teacher-forced")->required();
    cmd->add_option("--from-fraction", o->from_fraction,
                    "Start this far into the text by characters (0.9: the embedded model's held-out 10%)");
    cmd->add_option("--max-chars", o->max_chars, "Use at most this many characters (0: all)");
    cmd->add_option("--segment", o->segment, "Tokens per segment (0: the model's context)");
    cmd->add_option("--segments", o->segments, "At most this many segments (0: all)");
    cmd->add_option("--window", o->window, "Positions per perplexity window (0: the model's context)");
    cmd->add_option("--csv", o->csv_path, "Also write the rows as CSV");
    cmd->add_option("--json", o->json_path, "Also write the rows as JSON");
    cmd->add_flag("--quiet", o->quiet, "No progress on stderr");
    cmd->callback([o, &exit_code] { exit_code = run_lab_command(*o); });
}

}  // namespace kvscope::cli
