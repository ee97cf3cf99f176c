// kvscope-cli info MODEL — what the model is: architecture, sizes, dtype, KV bytes per token, tokenizer.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "commands.h"
#include "kvscope/tokenizer.h"

namespace kvscope::cli {

void add_info_command(CLI::App& app, int& exit_code) {
    auto opts = std::make_shared<ModelOptions>();
    auto json_out = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand("info", "Describe a model");
    opts->add_to(*cmd);
    cmd->add_flag("--json", *json_out, "Print JSON instead of text");
    cmd->callback([opts, json_out, &exit_code] {
        auto loaded = load_model_only(*opts);
        if (!loaded) {
            exit_code = fail(loaded.message());
            return;
        }
        const Model& m = *loaded.value();
        const ModelConfig& c = m.config;
        const std::string tok = m.tokenizer ? m.tokenizer->describe() + ", " +
                                                  std::to_string(m.tokenizer->vocab_size()) + " tokens"
                                            : std::string("none");
        if (*json_out) {
            nlohmann::ordered_json j;
            j["path"] = m.source_path;
            j["format"] = m.format;
            j["architecture"] = c.arch_name;
            j["family"] = architecture_name(c.arch);
            j["parameters"] = m.n_params();
            j["layers"] = c.n_layers;
            j["d_model"] = c.d_model;
            j["heads"] = c.n_heads;
            j["kv_heads"] = c.n_kv_heads;
            j["head_dim"] = c.head_dim;
            j["d_ff"] = c.d_ff;
            j["vocab_size"] = c.vocab_size;
            j["context"] = c.context_length;
            j["dtype"] = dtype_name(m.main_dtype());
            j["weight_bytes"] = m.stored_bytes();
            j["kv_bytes_per_token"] = c.kv_bytes_per_token();
            j["rope"] = rope_layout_name(c.rope_layout);
            j["rope_theta"] = c.rope_theta;
            j["qkv_bias"] = c.qkv_bias;
            j["tied_embeddings"] = c.tied_embeddings;
            j["tokenizer"] = tok;
            std::printf("%s\n", j.dump(2).c_str());
            return;
        }
        const char* attention = c.n_kv_heads == c.n_heads ? "multi-head"
                                : c.n_kv_heads == 1       ? "multi-query"
                                                          : "grouped-query";
        std::printf("model         %s (%s)\n", m.source_path.c_str(), m.format.c_str());
        std::printf("architecture  %s (%s family)\n", c.arch_name.c_str(), architecture_name(c.arch));
        std::printf("parameters    %s (%llu)\n", human_count(m.n_params()).c_str(),
                    (unsigned long long)m.n_params());
        std::printf("layers        %d\n", c.n_layers);
        std::printf("d_model       %d\n", c.d_model);
        std::printf("heads         %d query, %d KV (%s attention, %d query heads per KV head)\n", c.n_heads,
                    c.n_kv_heads, attention, c.group_size());
        std::printf("head dim      %d\n", c.head_dim);
        std::printf("MLP           %d (%s)\n", c.d_ff, c.arch == Architecture::gpt2 ? "GELU-tanh" : "SwiGLU");
        std::printf("vocabulary    %d\n", c.vocab_size);
        std::printf("context       %d tokens\n", c.context_length);
        std::printf("dtype         %s (%s of weights)\n", dtype_name(m.main_dtype()),
                    human_bytes(m.stored_bytes()).c_str());
        if (c.rope_layout != RopeLayout::none)
            std::printf("positions     RoPE, %s pairs, theta %g\n", rope_layout_name(c.rope_layout),
                        double(c.rope_theta));
        else
            std::printf("positions     learned embeddings\n");
        std::printf(
            "KV per token  %llu bytes = 2 (K,V) x %d layers x %d KV heads x %d dims x 4 bytes (float32)\n",
            (unsigned long long)c.kv_bytes_per_token(), c.n_layers, c.n_kv_heads, c.head_dim);
        std::printf("KV at context %s for %d tokens\n",
                    human_bytes(c.kv_bytes_per_token() * c.context_length).c_str(), c.context_length);
        std::printf("tokenizer     %s\n", tok.c_str());
    });
}

}  // namespace kvscope::cli
