#include "model/formats/hf_folder.h"

#include <set>

#include "kvscope/tokenizer.h"
#include "model/formats/pytorch_pickle.h"
#include "model/formats/safetensors.h"
#include "model/model_assembly.h"
#include "model/weight_builder.h"
#include "tokenizer/tokenizer_files.h"
#include "util/files.h"
#include "util/json_value.h"

namespace kvscope {

namespace {

// Sizes and counts in config.json: 0 is allowed here (validate() names what may not be 0), more than 2^30
// is not a size any model has.
constexpr int64_t kMaxConfigInt = int64_t{1} << 30;

Result<int> int_key(const JsonRef& j, const char* key) {
    auto v = j[key].integer(0, kMaxConfigInt);
    if (!v) return v.status();
    return static_cast<int>(v.value());
}

Result<int> int_key_or(const JsonRef& j, const char* key, int fallback) {
    auto v = j[key].integer_or(fallback, 0, kMaxConfigInt);
    if (!v) return v.status();
    return static_cast<int>(v.value());
}

Result<float> float_key_or(const JsonRef& j, const char* key, float fallback) {
    auto v = j[key].number_or(fallback);
    if (!v) return v.status();
    return static_cast<float>(v.value());
}

// A setting we do not implement: its default is fine, any other value is refused rather than run wrongly.
Status refuse_bool(const JsonRef& j, const char* key, bool supported, const std::string& why) {
    auto v = j[key].boolean_or(supported);
    if (!v) return v.status();
    if (v.value() != supported)
        return Status::error(j[key].where() + " = " + (v.value() ? "true" : "false") + " is not supported" +
                             why);
    return Status::ok();
}

}  // namespace

static Result<ModelConfig> parse_hf_config_unguarded(const std::string& text, const std::string& path) {
    auto parsed = parse_json(text, path);
    if (!parsed) return parsed.status();
    const JsonRef j = JsonRef::root(parsed.value(), path);
    KVSCOPE_TRY(j.expect_object());
    std::string model_type;
    KVSCOPE_ASSIGN(model_type, j["model_type"].string_or(""));
    if (model_type.empty() && j["architectures"].size() > 0)
        KVSCOPE_ASSIGN(model_type, j["architectures"][0].string());

    ModelConfig c;
    c.arch_name = model_type;
    if (model_type == "gpt2" || model_type == "GPT2LMHeadModel") {
        c.arch = Architecture::gpt2;
        c.arch_name = "gpt2";
        KVSCOPE_ASSIGN(c.d_model, int_key(j, "n_embd"));
        KVSCOPE_ASSIGN(c.n_layers, int_key(j, "n_layer"));
        KVSCOPE_ASSIGN(c.n_heads, int_key(j, "n_head"));
        c.n_kv_heads = c.n_heads;
        if (j["n_positions"].absent() && j["n_ctx"].present())
            KVSCOPE_ASSIGN(c.context_length, int_key(j, "n_ctx"));
        else
            KVSCOPE_ASSIGN(c.context_length, int_key(j, "n_positions"));
        KVSCOPE_ASSIGN(c.d_ff, int_key_or(j, "n_inner", 4 * c.d_model));
        KVSCOPE_ASSIGN(c.vocab_size, int_key(j, "vocab_size"));
        KVSCOPE_ASSIGN(c.norm_eps, float_key_or(j, "layer_norm_epsilon", 1e-5f));
        c.head_dim = c.n_heads > 0 ? c.d_model / c.n_heads : 0;
        c.rope_layout = RopeLayout::none;
        c.qkv_bias = true;
        c.tied_embeddings = true;
        std::string act;
        KVSCOPE_ASSIGN(act, j["activation_function"].string_or("gelu_new"));
        if (act != "gelu_new" && act != "gelu_pytorch_tanh")
            return Status::error(path + ": activation_function \"" + act +
                                 "\" is not supported (KVScope runs gelu_new / gelu_pytorch_tanh)");
        KVSCOPE_TRY(refuse_bool(j, "scale_attn_by_inverse_layer_idx", false, ""));
        KVSCOPE_TRY(refuse_bool(j, "scale_attn_weights", true, ""));
    } else if (model_type == "llama" || model_type == "qwen2" || model_type == "mistral" ||
               model_type == "LlamaForCausalLM" || model_type == "Qwen2ForCausalLM") {
        c.arch = Architecture::llama;
        if (model_type == "LlamaForCausalLM") c.arch_name = "llama";
        if (model_type == "Qwen2ForCausalLM") c.arch_name = "qwen2";
        KVSCOPE_ASSIGN(c.d_model, int_key(j, "hidden_size"));
        KVSCOPE_ASSIGN(c.d_ff, int_key(j, "intermediate_size"));
        KVSCOPE_ASSIGN(c.n_layers, int_key(j, "num_hidden_layers"));
        KVSCOPE_ASSIGN(c.n_heads, int_key(j, "num_attention_heads"));
        KVSCOPE_ASSIGN(c.n_kv_heads, int_key_or(j, "num_key_value_heads", c.n_heads));
        KVSCOPE_ASSIGN(c.head_dim, int_key_or(j, "head_dim", c.n_heads > 0 ? c.d_model / c.n_heads : 0));
        KVSCOPE_ASSIGN(c.context_length, int_key(j, "max_position_embeddings"));
        KVSCOPE_ASSIGN(c.vocab_size, int_key(j, "vocab_size"));
        KVSCOPE_ASSIGN(c.norm_eps, float_key_or(j, "rms_norm_eps", 1e-6f));
        float theta = 10000.0f;
        KVSCOPE_ASSIGN(theta, float_key_or(j, "rope_theta", theta));
        const JsonRef rp = j["rope_parameters"];
        if (rp.present()) {
            KVSCOPE_TRY(rp.expect_object());
            KVSCOPE_ASSIGN(theta, float_key_or(rp, "rope_theta", theta));
            std::string type;
            KVSCOPE_ASSIGN(type, rp["rope_type"].string_or("default"));
            if (type != "default")
                return Status::error(rp["rope_type"].where() + ": \"" + type + "\" is not supported");
        }
        const JsonRef rs = j["rope_scaling"];
        if (rs.present()) {
            KVSCOPE_TRY(rs.expect_object());
            std::string type;
            KVSCOPE_ASSIGN(type, rs["type"].string_or("default"));
            KVSCOPE_ASSIGN(type, rs["rope_type"].string_or(type));
            if (type != "default")
                return Status::error(path + ": rope_scaling type \"" + type + "\" is not supported");
        }
        c.rope_theta = theta;
        c.rope_layout = RopeLayout::rotate_half;
        bool attention_bias = false;
        KVSCOPE_ASSIGN(attention_bias, j["attention_bias"].boolean_or(false));
        c.qkv_bias = c.arch_name == "qwen2" || attention_bias;
        KVSCOPE_ASSIGN(c.tied_embeddings, j["tie_word_embeddings"].boolean_or(false));
        std::string act;
        KVSCOPE_ASSIGN(act, j["hidden_act"].string_or("silu"));
        if (act != "silu")
            return Status::error(path + ": hidden_act \"" + act +
                                 "\" is not supported (llama family runs silu)");
        KVSCOPE_TRY(refuse_bool(j, "mlp_bias", false, ""));
    } else {
        return Status::error(path + ": unknown architecture \"" + model_type +
                             "\" (KVScope runs llama, qwen2, mistral and gpt2 models)");
    }
    Status st = c.validate();
    if (!st) return st.with_context(path);
    return c;
}

Result<ModelConfig> parse_hf_config(const std::string& text, const std::string& path) {
    return catch_exceptions(path, [&] { return parse_hf_config_unguarded(text, path); });
}

namespace {

Status collect_shards(const std::string& dir, TensorSource& source) {
    const std::string single = path_join(dir, "model.safetensors");
    const std::string index = path_join(dir, "model.safetensors.index.json");
    if (is_regular_file(single)) return read_safetensors(single, source);
    if (!is_regular_file(index)) {
        for (const char* torch : {"pytorch_model.bin", "pytorch_model.bin.index.json"})
            if (is_regular_file(path_join(dir, torch)))
                return Status::error(pytorch_pickle_refusal(
                    path_join(dir, torch), "the folder's weights are a PyTorch checkpoint (pickle)"));
        return Status::error(dir + ": has neither model.safetensors nor model.safetensors.index.json");
    }
    auto parsed = read_json_file(index);
    if (!parsed) return parsed.status();
    const JsonRef weight_map = JsonRef::root(parsed.value(), index)["weight_map"];
    KVSCOPE_TRY(weight_map.expect_object());
    std::set<std::string> shards;
    std::vector<std::pair<std::string, std::string>> listed;  // tensor, shard
    for (const auto& [tensor, value] : weight_map.members()) {
        std::string shard;
        KVSCOPE_ASSIGN(shard, value.string());
        if (shard.empty() || shard.find('/') != std::string::npos || shard.find("..") != std::string::npos)
            return Status::error(value.where() + ": shard name \"" + shard + "\" must be a plain file name");
        shards.insert(shard);
        listed.emplace_back(tensor, shard);
    }
    for (const auto& shard : shards) {
        const std::string p = path_join(dir, shard);
        if (!is_regular_file(p))
            return Status::error(index + " lists shard \"" + shard + "\", which is missing from " + dir);
        KVSCOPE_TRY(read_safetensors(p, source));
    }
    for (const auto& [tensor, shard] : listed)
        if (!source.contains(tensor) && !source.was_skipped(tensor))
            return Status::error(index + ": tensor '" + tensor + "' is not in its shard " + shard);
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

    // The folder's tokenizer, when it has one. Embeddings are often padded past the tokenizer (to a multiple
    // of 64 or 128), so a smaller tokenizer is fine; a larger one would produce ids the model cannot embed.
    auto tokenizer = load_hf_folder_tokenizer(dir);
    if (!tokenizer) return tokenizer.status();
    if (tokenizer.value()) {
        if (tokenizer.value()->vocab_size() > config->vocab_size)
            return Status::error(dir + ": the tokenizer has " +
                                 std::to_string(tokenizer.value()->vocab_size()) +
                                 " tokens but the model's embedding has only " +
                                 std::to_string(config->vocab_size) + " rows (config.json vocab_size)");
        model.value()->tokenizer = tokenizer.value();
    }
    return model;
}

}  // namespace kvscope
