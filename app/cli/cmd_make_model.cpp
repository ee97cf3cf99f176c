// kvscope-cli make-model DIR — a Hugging Face folder with random weights of a chosen shape, for
// benchmarks (e.g. --preset gpt2-small: 12 layers, 768 wide, 12 heads, 1024 context, 50257 tokens).
// The weights are N(0, 0.02) like GPT-2's initialisation, so activations stay in a realistic range.
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "cli_common.h"
#include "commands.h"
#include "kvscope/writers.h"

namespace kvscope::cli {

namespace {

struct MakeOptions {
    std::string dir;
    std::string preset;
    std::string arch = "llama";
    int layers = 2, d_model = 64, heads = 4, kv_heads = 0, d_ff = 0, vocab = 320, context = 256;
    std::string dtype = "f32";
    uint64_t seed = 0;
};

int run(MakeOptions o) {
    if (o.preset == "gpt2-small") {
        o.arch = "gpt2";
        o.layers = 12, o.d_model = 768, o.heads = 12, o.vocab = 50257, o.context = 1024;
    } else if (!o.preset.empty()) {
        return fail("unknown preset \"" + o.preset + "\" (known: gpt2-small)");
    }
    if (o.kv_heads == 0) o.kv_heads = o.heads;
    if (o.d_ff == 0) o.d_ff = 4 * o.d_model;
    if (o.d_model % o.heads != 0) return fail("d_model must be a multiple of heads");
    if (o.heads % o.kv_heads != 0) return fail("heads must be a multiple of kv_heads");
    const bool gpt2 = o.arch == "gpt2";
    if (gpt2 && o.kv_heads != o.heads) return fail("gpt2 has as many KV heads as query heads");
    const DType dtype = o.dtype == "f16" ? DType::f16 : o.dtype == "bf16" ? DType::bf16 : DType::f32;

    std::error_code ec;
    std::filesystem::create_directories(o.dir, ec);
    if (ec) return fail(o.dir + ": cannot create: " + ec.message());

    std::mt19937_64 rng(o.seed);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<SafetensorsTensor> tensors;
    auto add = [&](std::string name, std::vector<int64_t> shape, float constant = 0.0f, bool random = true) {
        int64_t n = 1;
        for (auto d : shape)
            n *= d;
        SafetensorsTensor t{std::move(name), std::move(shape), dtype,
                            std::vector<float>(size_t(n), constant)};
        if (random)
            for (auto& v : t.values)
                v = normal(rng);
        tensors.push_back(std::move(t));
    };
    const int64_t d = o.d_model, hd = o.d_model / o.heads, kv = hd * o.kv_heads, ff = o.d_ff;
    nlohmann::ordered_json config;
    if (gpt2) {
        add("transformer.wte.weight", {o.vocab, d});
        add("transformer.wpe.weight", {o.context, d});
        for (int l = 0; l < o.layers; ++l) {
            const std::string p = "transformer.h." + std::to_string(l) + ".";
            add(p + "ln_1.weight", {d}, 1.0f, false);
            add(p + "ln_1.bias", {d}, 0.0f, false);
            add(p + "attn.c_attn.weight", {d, 3 * d});
            add(p + "attn.c_attn.bias", {3 * d}, 0.0f, false);
            add(p + "attn.c_proj.weight", {d, d});
            add(p + "attn.c_proj.bias", {d}, 0.0f, false);
            add(p + "ln_2.weight", {d}, 1.0f, false);
            add(p + "ln_2.bias", {d}, 0.0f, false);
            add(p + "mlp.c_fc.weight", {d, ff});
            add(p + "mlp.c_fc.bias", {ff}, 0.0f, false);
            add(p + "mlp.c_proj.weight", {ff, d});
            add(p + "mlp.c_proj.bias", {d}, 0.0f, false);
        }
        add("transformer.ln_f.weight", {d}, 1.0f, false);
        add("transformer.ln_f.bias", {d}, 0.0f, false);
        config = {{"model_type", "gpt2"},
                  {"architectures", {"GPT2LMHeadModel"}},
                  {"n_embd", d},
                  {"n_layer", o.layers},
                  {"n_head", o.heads},
                  {"n_positions", o.context},
                  {"n_inner", ff},
                  {"vocab_size", o.vocab},
                  {"layer_norm_epsilon", 1e-5},
                  {"activation_function", "gelu_new"},
                  {"tie_word_embeddings", true}};
    } else {
        add("model.embed_tokens.weight", {o.vocab, d});
        for (int l = 0; l < o.layers; ++l) {
            const std::string p = "model.layers." + std::to_string(l) + ".";
            add(p + "input_layernorm.weight", {d}, 1.0f, false);
            add(p + "self_attn.q_proj.weight", {d, d});
            add(p + "self_attn.k_proj.weight", {kv, d});
            add(p + "self_attn.v_proj.weight", {kv, d});
            add(p + "self_attn.o_proj.weight", {d, d});
            add(p + "post_attention_layernorm.weight", {d}, 1.0f, false);
            add(p + "mlp.gate_proj.weight", {ff, d});
            add(p + "mlp.up_proj.weight", {ff, d});
            add(p + "mlp.down_proj.weight", {d, ff});
        }
        add("model.norm.weight", {d}, 1.0f, false);
        add("lm_head.weight", {o.vocab, d});
        config = {{"model_type", "llama"},
                  {"architectures", {"LlamaForCausalLM"}},
                  {"hidden_size", d},
                  {"intermediate_size", ff},
                  {"num_hidden_layers", o.layers},
                  {"num_attention_heads", o.heads},
                  {"num_key_value_heads", o.kv_heads},
                  {"head_dim", hd},
                  {"max_position_embeddings", o.context},
                  {"rms_norm_eps", 1e-5},
                  {"rope_theta", 10000.0},
                  {"vocab_size", o.vocab},
                  {"tie_word_embeddings", false},
                  {"hidden_act", "silu"}};
    }
    std::ofstream cfg(o.dir + "/config.json");
    cfg << config.dump(2) << "\n";
    if (!cfg) return fail(o.dir + "/config.json: write failed");
    cfg.close();
    if (Status st = write_safetensors(o.dir + "/model.safetensors", tensors, {{"format", "pt"}}); !st)
        return fail(st.message());
    std::printf("wrote %s (%s, %d layers, d_model %d, %d heads, %d KV heads, vocab %d, context %d, %s)\n",
                o.dir.c_str(), o.arch.c_str(), o.layers, o.d_model, o.heads, o.kv_heads, o.vocab, o.context,
                o.dtype.c_str());
    return 0;
}

}  // namespace

void add_make_model_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<MakeOptions>();
    CLI::App* cmd =
        app.add_subcommand("make-model", "Write a Hugging Face folder with random weights (benchmarks)");
    cmd->add_option("dir", o->dir, "Output folder")->required();
    cmd->add_option("--preset", o->preset, "gpt2-small");
    cmd->add_option("--arch", o->arch, "llama or gpt2")->check(CLI::IsMember({"llama", "gpt2"}));
    cmd->add_option("--layers", o->layers)->check(whole_number(1, 1024));
    cmd->add_option("--d-model", o->d_model)->check(whole_number(1, 1 << 16));
    cmd->add_option("--heads", o->heads)->check(whole_number(1, 1024));
    cmd->add_option("--kv-heads", o->kv_heads, "0: as many as heads")->check(whole_number(0, 1024));
    cmd->add_option("--d-ff", o->d_ff, "0: 4 x d_model")->check(whole_number(0, 1 << 20));
    cmd->add_option("--vocab", o->vocab)->check(whole_number(1, 1 << 24));
    cmd->add_option("--context", o->context)->check(whole_number(1, 1 << 20));
    cmd->add_option("--dtype", o->dtype)->check(CLI::IsMember({"f32", "f16", "bf16"}));
    cmd->add_option("--seed", o->seed)->check(whole_number(0, INT64_MAX));
    cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace kvscope::cli
