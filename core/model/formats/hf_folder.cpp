#include "model/formats/hf_folder.h"

#include <nlohmann/json.hpp>
#include <set>

#include "model/formats/safetensors.h"
#include "model/model_assembly.h"
#include "model/weight_builder.h"
#include "util/files.h"

namespace kvscope {

namespace {

using nlohmann::json;

// Reads an integer key; `fallback` < 0 means required.
Result<int> int_key(const json& j, const std::string& key, const std::string& path, int fallback = -1) {
    if (!j.contains(key) || j[key].is_null()) {
        if (fallback >= 0) return fallback;
        return Status::error(path + ": missing required key \"" + key + "\"");
    }
    if (!j[key].is_number_integer())
        return Status::error(path + ": \"" + key + "\" must be an integer, found " + j[key].dump());
    const int64_t v = j[key].get<int64_t>();
    if (v < 0 || v > (int64_t{1} << 30))
        return Status::error(path + ": \"" + key + "\" = " + std::to_string(v) + " is out of range");
    return static_cast<int>(v);
}

Result<float> float_key(const json& j, const std::string& key, const std::string& path, float fallback) {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_number())
        return Status::error(path + ": \"" + key + "\" must be a number, found " + j[key].dump());
    return j[key].get<float>();
}

#define KV_ASSIGN(lhs, expr)               \
    do {                                   \
        auto kv_r_ = (expr);               \
        if (!kv_r_) return kv_r_.status(); \
        lhs = kv_r_.value();               \
    } while (0)

}  // namespace

Result<ModelConfig> parse_hf_config(const std::string& text, const std::string& path) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        return Status::error(path + ": does not parse as JSON: " + e.what());
    }
    if (!j.is_object()) return Status::error(path + ": expected a JSON object");
    std::string model_type = j.value("model_type", "");
    if (model_type.empty() && j.contains("architectures") && j["architectures"].is_array() &&
        !j["architectures"].empty())
        model_type = j["architectures"][0].get<std::string>();

    ModelConfig c;
    c.arch_name = model_type;
    if (model_type == "gpt2" || model_type == "GPT2LMHeadModel") {
        c.arch = Architecture::gpt2;
        c.arch_name = "gpt2";
        KV_ASSIGN(c.d_model, int_key(j, "n_embd", path));
        KV_ASSIGN(c.n_layers, int_key(j, "n_layer", path));
        KV_ASSIGN(c.n_heads, int_key(j, "n_head", path));
        c.n_kv_heads = c.n_heads;
        KV_ASSIGN(c.context_length,
                  int_key(j, "n_positions", path, j.contains("n_ctx") ? j["n_ctx"].get<int>() : -1));
        KV_ASSIGN(c.d_ff, int_key(j, "n_inner", path, 4 * c.d_model));
        KV_ASSIGN(c.vocab_size, int_key(j, "vocab_size", path));
        KV_ASSIGN(c.norm_eps, float_key(j, "layer_norm_epsilon", path, 1e-5f));
        c.head_dim = c.n_heads > 0 ? c.d_model / c.n_heads : 0;
        c.rope_layout = RopeLayout::none;
        c.qkv_bias = true;
        c.tied_embeddings = true;
        const std::string act = j.value("activation_function", "gelu_new");
        if (act != "gelu_new" && act != "gelu_pytorch_tanh")
            return Status::error(path + ": activation_function \"" + act +
                                 "\" is not supported (KVScope runs gelu_new / gelu_pytorch_tanh)");
        if (j.value("scale_attn_by_inverse_layer_idx", false))
            return Status::error(path + ": scale_attn_by_inverse_layer_idx = true is not supported");
        if (!j.value("scale_attn_weights", true))
            return Status::error(path + ": scale_attn_weights = false is not supported");
    } else if (model_type == "llama" || model_type == "qwen2" || model_type == "mistral" ||
               model_type == "LlamaForCausalLM" || model_type == "Qwen2ForCausalLM") {
        c.arch = Architecture::llama;
        if (model_type == "LlamaForCausalLM") c.arch_name = "llama";
        if (model_type == "Qwen2ForCausalLM") c.arch_name = "qwen2";
        KV_ASSIGN(c.d_model, int_key(j, "hidden_size", path));
        KV_ASSIGN(c.d_ff, int_key(j, "intermediate_size", path));
        KV_ASSIGN(c.n_layers, int_key(j, "num_hidden_layers", path));
        KV_ASSIGN(c.n_heads, int_key(j, "num_attention_heads", path));
        KV_ASSIGN(c.n_kv_heads, int_key(j, "num_key_value_heads", path, c.n_heads));
        KV_ASSIGN(c.head_dim, int_key(j, "head_dim", path, c.n_heads > 0 ? c.d_model / c.n_heads : 0));
        KV_ASSIGN(c.context_length, int_key(j, "max_position_embeddings", path));
        KV_ASSIGN(c.vocab_size, int_key(j, "vocab_size", path));
        KV_ASSIGN(c.norm_eps, float_key(j, "rms_norm_eps", path, 1e-6f));
        float theta = 10000.0f;
        KV_ASSIGN(theta, float_key(j, "rope_theta", path, theta));
        if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
            const json& rp = j["rope_parameters"];
            KV_ASSIGN(theta, float_key(rp, "rope_theta", path + " (rope_parameters)", theta));
            const std::string type = rp.value("rope_type", "default");
            if (type != "default")
                return Status::error(path + ": rope_parameters.rope_type \"" + type + "\" is not supported");
        }
        if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) {
            const json& rs = j["rope_scaling"];
            const std::string type = rs.value("rope_type", rs.value("type", "default"));
            if (type != "default")
                return Status::error(path + ": rope_scaling type \"" + type + "\" is not supported");
        }
        c.rope_theta = theta;
        c.rope_layout = RopeLayout::rotate_half;
        c.qkv_bias = c.arch_name == "qwen2" || j.value("attention_bias", false);
        c.tied_embeddings = j.value("tie_word_embeddings", false);
        const std::string act = j.value("hidden_act", "silu");
        if (act != "silu")
            return Status::error(path + ": hidden_act \"" + act +
                                 "\" is not supported (llama family runs silu)");
        if (j.value("mlp_bias", false)) return Status::error(path + ": mlp_bias = true is not supported");
    } else {
        return Status::error(path + ": unknown architecture \"" + model_type +
                             "\" (KVScope runs llama, qwen2, mistral and gpt2 models)");
    }
    Status st = c.validate();
    if (!st) return st.with_context(path);
    return c;
}

namespace {

Status collect_shards(const std::string& dir, TensorSource& source) {
    const std::string single = path_join(dir, "model.safetensors");
    const std::string index = path_join(dir, "model.safetensors.index.json");
    if (is_regular_file(single)) return read_safetensors(single, source);
    if (!is_regular_file(index))
        return Status::error(dir + ": has neither model.safetensors nor model.safetensors.index.json");
    auto text = read_text_file(index);
    if (!text) return text.status();
    json j;
    try {
        j = json::parse(text.value());
    } catch (const json::exception& e) {
        return Status::error(index + ": does not parse as JSON: " + e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
        return Status::error(index + ": has no \"weight_map\" object");
    std::set<std::string> shards;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        if (!it.value().is_string())
            return Status::error(index + ": weight_map[\"" + it.key() + "\"] is not a file name");
        const std::string shard = it.value().get<std::string>();
        if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos)
            return Status::error(index + ": shard name \"" + shard + "\" must be a plain file name");
        shards.insert(shard);
    }
    for (const auto& shard : shards) {
        const std::string p = path_join(dir, shard);
        if (!is_regular_file(p))
            return Status::error(index + " lists shard \"" + shard + "\", which is missing from " + dir);
        KVSCOPE_TRY(read_safetensors(p, source));
    }
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it)
        if (!source.contains(it.key()))
            return Status::error(index + ": tensor '" + it.key() + "' is not in its shard " +
                                 it.value().get<std::string>());
    return Status::ok();
}

// Hugging Face tensor names for each architecture.
WeightNames hf_llama_names() {
    WeightNames n;
    n.tok_embd = "model.embed_tokens.weight";
    n.out_norm = "model.norm.weight";
    n.lm_head = "lm_head.weight";
    n.layer = [](int i, LayerTensor t) -> std::string {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        switch (t) {
            case LayerTensor::attn_norm:
                return p + "input_layernorm.weight";
            case LayerTensor::wq:
                return p + "self_attn.q_proj.weight";
            case LayerTensor::wk:
                return p + "self_attn.k_proj.weight";
            case LayerTensor::wv:
                return p + "self_attn.v_proj.weight";
            case LayerTensor::bq:
                return p + "self_attn.q_proj.bias";
            case LayerTensor::bk:
                return p + "self_attn.k_proj.bias";
            case LayerTensor::bv:
                return p + "self_attn.v_proj.bias";
            case LayerTensor::wo:
                return p + "self_attn.o_proj.weight";
            case LayerTensor::ffn_norm:
                return p + "post_attention_layernorm.weight";
            case LayerTensor::w_gate:
                return p + "mlp.gate_proj.weight";
            case LayerTensor::w_up:
                return p + "mlp.up_proj.weight";
            case LayerTensor::w_down:
                return p + "mlp.down_proj.weight";
            default:
                return {};
        }
    };
    return n;
}

WeightNames hf_gpt2_names(const std::string& prefix) {
    WeightNames n;
    n.tok_embd = prefix + "wte.weight";
    n.pos_embd = prefix + "wpe.weight";
    n.out_norm = prefix + "ln_f.weight";
    n.out_norm_bias = prefix + "ln_f.bias";
    n.linear_layout = Layout::transposed;  // Conv1D stores [in, out]
    n.layer = [prefix](int i, LayerTensor t) -> std::string {
        const std::string p = prefix + "h." + std::to_string(i) + ".";
        switch (t) {
            case LayerTensor::attn_norm:
                return p + "ln_1.weight";
            case LayerTensor::attn_norm_bias:
                return p + "ln_1.bias";
            case LayerTensor::wqkv:
                return p + "attn.c_attn.weight";
            case LayerTensor::bqkv:
                return p + "attn.c_attn.bias";
            case LayerTensor::wo:
                return p + "attn.c_proj.weight";
            case LayerTensor::bo:
                return p + "attn.c_proj.bias";
            case LayerTensor::ffn_norm:
                return p + "ln_2.weight";
            case LayerTensor::ffn_norm_bias:
                return p + "ln_2.bias";
            case LayerTensor::w_up:
                return p + "mlp.c_fc.weight";
            case LayerTensor::b_up:
                return p + "mlp.c_fc.bias";
            case LayerTensor::w_down:
                return p + "mlp.c_proj.weight";
            case LayerTensor::b_down:
                return p + "mlp.c_proj.bias";
            default:
                return {};
        }
    };
    return n;
}

}  // namespace

Result<std::shared_ptr<Model>> load_hf_folder(const std::string& dir) {
    const std::string config_path = path_join(dir, "config.json");
    if (!is_regular_file(config_path))
        return Status::error(dir + ": has no config.json (not a Hugging Face model folder)");
    auto text = read_text_file(config_path);
    if (!text) return text.status();
    auto config = parse_hf_config(text.value(), config_path);
    if (!config) return config.status();

    TensorSource source;
    source.where = dir;
    KVSCOPE_TRY(collect_shards(dir, source));

    WeightNames names;
    if (config->arch == Architecture::gpt2) {
        const bool prefixed = source.contains("transformer.wte.weight");
        names = hf_gpt2_names(prefixed ? "transformer." : "");
    } else {
        names = hf_llama_names();
        // Some checkpoints say tie_word_embeddings=false yet ship no lm_head; others tie and still ship one.
        if (!config->tied_embeddings && !source.contains(names.lm_head))
            return Status::error("tensor '" + names.lm_head + "' not found in " + dir +
                                 " (config.json says tie_word_embeddings = false)");
    }
    auto model = assemble_model(config.value(), source, names);
    if (!model) return model.status();
    model.value()->source_path = dir;
    model.value()->format = "safetensors";
    return model;
}

}  // namespace kvscope
