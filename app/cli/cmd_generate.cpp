// kvscope-cli generate / trace — run a prompt and N steps, with or without the KV cache.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include "cli_common.h"
#include "commands.h"
#include "kvscope/cache_file.h"
#include "kvscope/tokenizer.h"
#include "trace_json.h"

namespace kvscope::cli {

namespace {

struct GenerateOptions {
    ModelOptions model;
    std::string tokens, prompt;
    int steps = 16;
    bool uncached = false;
    std::string variant;  // a cache variant spec (kvscope/cache_policy.h); empty: the exact cache
    bool print_ids = false;
    bool ignore_eos = false;
    float temperature = 0.0f;
    int top_k = 0;
    float top_p = 1.0f;
    uint64_t seed = 0;
    // trace only
    std::string json_path;
    std::string attention = "new", kv = "new";
    bool logits = false;
    // generate only: save the cache at the end / start from a saved cache (kvscope/cache_file.h)
    std::string save_cache, load_cache;
};

RowSelection parse_rows(const std::string& s) {
    return s == "none"       ? RowSelection::none
           : s == "computed" ? RowSelection::computed_rows
                             : RowSelection::new_rows;
}

void add_common(CLI::App& cmd, GenerateOptions& o) {
    o.model.add_to(cmd);
    cmd.add_option("--tokens", o.tokens, "Prompt as comma-separated token ids");
    cmd.add_option("--prompt", o.prompt, "Prompt text (needs the model's tokenizer)");
    cmd.add_option("--steps", o.steps, "Tokens to generate")->check(whole_number(1, 1000000));
    cmd.add_flag("--uncached", o.uncached, "Recompute the whole sequence every step (no KV cache)");
    cmd.add_option("--variant", o.variant,
                   "Run over a cache variant: f16, bf16, int8, int4, window:W=64, sinks:S=4,W=60, h2o:B=64, "
                   "tova:B=64 (an evicting, re-indexed cache can go past the model's context)");
    cmd.add_option("--temperature", o.temperature, "0 = greedy")->check(real_number(0.0, 100.0));
    cmd.add_option("--top-k", o.top_k, "Keep the k most likely tokens (0 = all)")
        ->check(whole_number(0, INT32_MAX));
    cmd.add_option("--top-p", o.top_p, "Nucleus sampling threshold in (0, 1]")
        ->check(real_number(0.0, 1.0, true));
    cmd.add_option("--seed", o.seed, "Sampling seed")->check(whole_number(0, INT64_MAX));
    cmd.add_flag("--print-ids", o.print_ids, "Print the generated token ids");
    cmd.add_flag("--ignore-eos", o.ignore_eos, "Keep going past the end-of-sequence token");
}

int run(const GenerateOptions& o, bool trace_mode) {
    auto loaded = load(o.model);
    if (!loaded) return 1;
    const Model& model = *loaded->model;
    if (!o.load_cache.empty() && (!o.tokens.empty() || !o.prompt.empty()))
        return fail("--load-cache continues a saved sequence: give no --tokens or --prompt with it");
    if ((!o.load_cache.empty() || !o.save_cache.empty()) && o.uncached)
        return fail("--save-cache and --load-cache need the KV cache: drop --uncached");
    auto prompt = o.load_cache.empty() ? prompt_tokens(model, o.tokens, o.prompt)
                                       : Result<std::vector<int32_t>>(std::vector<int32_t>{});
    if (!prompt) return fail(prompt.message());

    SessionOptions so;
    so.mode = o.uncached ? SessionMode::uncached : SessionMode::cached;
    so.capacity = o.model.capacity;
    so.sampler = {o.temperature, o.top_k, o.top_p, o.seed};
    if (!o.variant.empty()) {
        if (o.uncached) return fail("--variant is a cache: it cannot go with --uncached");
        auto p = parse_cache_variant(o.variant);
        if (!p) return fail(p.status().with_context("--variant").message());
        so.cache = p.value();
    }
    // A saved cache is read before the session exists: it says which element type the cache stores.
    std::optional<CacheFileContents> saved;
    if (!o.load_cache.empty()) {
        auto file = read_cache_file(o.load_cache);
        if (!file) return fail(file.message());
        saved = std::move(file.value());
        if (o.variant.empty()) so.cache.storage = saved->storage;
    }
    if (Status st = so.sampler.validate(); !st) return fail(st.message());
    if (trace_mode) {
        so.trace.attention = parse_rows(o.attention);
        so.trace.kv = parse_rows(o.kv);
        so.trace.logits = o.logits;
    } else {
        so.trace = TraceOptions::off();
        so.trace.top_k = 1;
    }
    auto session = Session::create(loaded->engine, so);
    if (!session) return fail(session.message());
    Session& s = *session.value();

    std::ofstream json_file;
    if (trace_mode) {
        json_file.open(o.json_path + ".tmp", std::ios::trunc);
        if (!json_file) return fail(o.json_path + ": cannot open for writing");
        json_file << "{\"model\": " << nlohmann::json(model.source_path).dump() << ", \"mode\": \""
                  << session_mode_name(so.mode) << "\", \"steps\": [\n";
    }

    const Tokenizer* tok = model.tokenizer.get();
    std::unique_ptr<StreamingDecoder> decoder = tok ? std::make_unique<StreamingDecoder>(*tok) : nullptr;
    if (decoder) {
        for (int32_t id : prompt.value())
            std::fputs(decoder->push(id).c_str(), stdout);
        std::fflush(stdout);
    }

    std::vector<int32_t> generated;
    const auto started = std::chrono::steady_clock::now();
    double prefill_seconds = 0.0;
    Result<StepTracePtr> step = Status::error("no step");
    if (o.load_cache.empty()) {
        step = s.prefill(prompt.value());
    } else {
        // A saved cache: its tokens and K/V go into the fresh session; no prefill runs.
        auto next = restore_cache_file(s, *saved, o.load_cache);
        if (!next) return fail(next.message());
        if (next.value() < 0)
            return fail(o.load_cache + ": the saved cache records no next token to continue with");
        std::fprintf(stderr, "[cache] %s: %d tokens restored (%s), continuing from token %d\n",
                     o.load_cache.c_str(), s.position(), saved->storage.describe().c_str(), next.value());
        step = s.decode(next.value());
    }
    for (int i = 0;; ++i) {
        if (!step) {
            if (decoder) std::fputs("\n", stdout);
            if (trace_mode) std::remove((o.json_path + ".tmp").c_str());
            return fail(step.message());
        }
        const StepTrace& t = *step.value();
        if (i == 0) prefill_seconds = t.counters.wall_seconds;
        if (trace_mode) json_file << (i ? ",\n" : "") << trace_to_json(t).dump();
        generated.push_back(t.chosen);
        if (decoder) {
            std::fputs(decoder->push(t.chosen).c_str(), stdout);
            std::fflush(stdout);
        }
        const bool eos = tok && !o.ignore_eos && t.chosen == tok->data().eos_id;
        if (int(generated.size()) >= o.steps || eos) break;
        if (!so.cache.evicts() && s.position() >= s.capacity()) {
            std::fprintf(stderr,
                         "kvscope-cli: stopped after %zu tokens: the sequence reached the KV cache capacity "
                         "(%d tokens)\n",
                         generated.size(), s.capacity());
            break;
        }
        step = s.decode(t.chosen);
    }
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!o.save_cache.empty()) {
        // The last token chosen has not been fed yet: it is the one a resumed run feeds first.
        if (Status st = save_cache_file(s, generated.back(), o.save_cache); !st) return fail(st.message());
        std::fprintf(stderr, "[cache] saved %d tokens to %s (%s of K/V)\n", s.position(),
                     o.save_cache.c_str(), human_bytes(s.cache()->bytes_resident()).c_str());
    }
    if (decoder) std::fputs((decoder->flush() + "\n").c_str(), stdout);
    if (o.print_ids || !decoder) {
        for (size_t i = 0; i < generated.size(); ++i)
            std::printf("%s%d", i ? "," : "", generated[i]);
        std::printf("\n");
    }
    if (trace_mode) {
        json_file << "\n]}\n";
        json_file.close();
        if (!json_file || std::rename((o.json_path + ".tmp").c_str(), o.json_path.c_str()) != 0) {
            std::remove((o.json_path + ".tmp").c_str());
            return fail(o.json_path + ": write failed");
        }
    }
    const Counters& cum = s.cumulative();
    const int decodes = int(generated.size()) - 1;
    std::fprintf(stderr,
                 "[%s%s, %s] prompt %zu tokens, generated %zu; prefill %.2f ms, decode %.2f ms/token; "
                 "%s FLOPs, %s read, KV resident %s\n",
                 session_mode_name(so.mode), so.cache.exact() ? "" : (", " + so.cache.describe()).c_str(),
                 loaded->engine->backend().name().c_str(), prompt->size(), generated.size(),
                 prefill_seconds * 1e3, decodes > 0 ? (total - prefill_seconds) * 1e3 / decodes : 0.0,
                 human_count(cum.flops()).c_str(), human_bytes(cum.bytes_read()).c_str(),
                 human_bytes(cum.kv_bytes_resident).c_str());
    const Backend& backend = loaded->engine->backend();
    if (!backend.host_memory())
        std::fprintf(stderr, "[%s] device memory held: %s (weights %s; the rest: KV cache and activations)\n",
                     device_kind_name(backend.kind()), human_bytes(backend.bytes_allocated()).c_str(),
                     human_bytes(loaded->engine->weight_bytes_on_device()).c_str());
    return 0;
}

}  // namespace

void add_generate_commands(CLI::App& app, int& exit_code) {
    auto gen = std::make_shared<GenerateOptions>();
    CLI::App* g = app.add_subcommand("generate", "Generate tokens from a prompt");
    add_common(*g, *gen);
    g->add_option("--save-cache", gen->save_cache,
                  "At the end, write the tokens, their K/V (in the element type the cache stores: f32, or "
                  "--variant f16, bf16, int8 or int4) and the next token to this file");
    g->add_option("--load-cache", gen->load_cache,
                  "Start from a saved cache (no prompt, no prefill) and generate --steps more tokens; the "
                  "cache stores the file's element type");
    g->callback([gen, &exit_code] { exit_code = run(*gen, false); });

    auto tr = std::make_shared<GenerateOptions>();
    CLI::App* t = app.add_subcommand("trace", "Generate and write every step's trace as JSON");
    add_common(*t, *tr);
    t->add_option("--json", tr->json_path, "Output file")->required();
    t->add_option("--attention", tr->attention, "Attention rows to record: new, computed, none")
        ->check(CLI::IsMember({"new", "computed", "none"}));
    t->add_option("--kv", tr->kv, "K/V rows to record: new, computed, none")
        ->check(CLI::IsMember({"new", "computed", "none"}));
    t->add_flag("--logits", tr->logits, "Record the whole last logits row of every step");
    t->callback([tr, &exit_code] { exit_code = run(*tr, true); });
}

}  // namespace kvscope::cli
