// gguf_model.cpp — from a checked GGUF file to a Model: hyperparameters, llama.cpp's tensor names and the
// tokenizer (keys listed in gguf.h).
#include <cstring>

#include "kvscope/tokenizer.h"
#include "model/formats/gguf.h"
#include "model/model_assembly.h"
#include "tokenizer/utf8.h"
#include "util/files.h"

namespace kvscope {

namespace {

// Typed access to metadata keys; every message names the file, the key and what was found.
class Metadata {
  public:
    explicit Metadata(const GgufFile& file) : m_file(file) {}

    const GgufValue* find(const std::string& key) const { return m_file.find(key); }

    Result<int64_t> integer(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const {
        return typed<int64_t>(key, fallback, "an integer", [](const GgufValue& v) { return v.as_int(); });
    }
    // A positive int-sized integer (sizes, counts).
    Result<int> size(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const {
        auto i = integer(key, fallback);
        if (!i) return i.status();
        if (*i <= 0 || *i > (int64_t{1} << 30))
            return Status::error(m_file.path + ": metadata key '" + key + "' = " + std::to_string(*i) +
                                 " is out of range");
        return int(*i);
    }
    Result<double> number(const std::string& key, std::optional<double> fallback = std::nullopt) const {
        return typed<double>(key, fallback, "a number", [](const GgufValue& v) { return v.as_float(); });
    }
    Result<bool> boolean(const std::string& key, bool fallback) const {
        return typed<bool>(key, fallback, "a bool", [](const GgufValue& v) { return v.as_bool(); });
    }
    Result<std::string> string(const std::string& key,
                               std::optional<std::string> fallback = std::nullopt) const {
        return typed<std::string>(key, fallback, "a string",
                                  [](const GgufValue& v) -> std::optional<std::string> {
                                      if (const std::string* s = v.as_string()) return *s;
                                      return std::nullopt;
                                  });
    }
    // An array whose elements are all `element` (nullptr when absent).
    Result<const std::vector<GgufValue>*> array(const std::string& key, GgufType element) const {
        const GgufValue* v = find(key);
        if (!v) return static_cast<const std::vector<GgufValue>*>(nullptr);
        const auto* a = v->as_array();
        if (!a || v->array_type != element)
            return wrong(key, std::string("an array of ") + gguf_type_name(element), *v);
        return a;
    }

    // An array with one entry per token (nullptr when absent).
    Result<const std::vector<GgufValue>*> per_token(const std::string& key, GgufType element,
                                                    size_t n_tokens) const {
        auto a = array(key, element);
        if (!a || !a.value() || a.value()->size() == n_tokens) return a;
        return Status::error(m_file.path + ": " + key + " has " + std::to_string(a.value()->size()) +
                             " entries for " + std::to_string(n_tokens) + " tokens");
    }

    Status missing(const std::string& key) const {
        return Status::error(m_file.path + ": missing required metadata key '" + key + "'");
    }
    Status wrong(const std::string& key, const std::string& expected, const GgufValue& found) const {
        return Status::error(m_file.path + ": metadata key '" + key + "' should be " + expected + ", found " +
                             found.describe());
    }

  private:
    // The key's value converted by `convert` (nullopt: the wrong type); `fallback` when the key is absent,
    // an error when it is absent and there is none.
    template <typename T, typename Convert>
    Result<T> typed(const std::string& key, std::optional<T> fallback, const char* expected,
                    Convert convert) const {
        const GgufValue* v = find(key);
        if (!v) {
            if (fallback) return *fallback;
            return missing(key);
        }
        std::optional<T> x = convert(*v);
        if (!x) return wrong(key, expected, *v);
        return *x;
    }

    const GgufFile& m_file;
};

Result<ModelConfig> read_config(const GgufFile& file, const Metadata& meta) {
    ModelConfig c;
    KVSCOPE_ASSIGN(c.arch_name, meta.string(gguf_key::architecture));
    const std::string& a = c.arch_name;
    if (a == "llama" || a == "qwen2") {
        c.arch = Architecture::llama;
        // llama.cpp's converter permutes Hugging Face's Q/K rows into Meta's interleaved pairs for "llama";
        // for "qwen2" it writes them as they are and ggml runs NeoX-style (rotate-half) RoPE.
        c.rope_layout = a == "llama" ? RopeLayout::interleaved : RopeLayout::rotate_half;
    } else if (a == "gpt2") {
        c.arch = Architecture::gpt2;
        c.rope_layout = RopeLayout::none;
    } else {
        return Status::error(file.path + ": architecture '" + a +
                             "' is not supported (KVScope runs GGUF architectures llama, qwen2 and gpt2)");
    }
    const bool gpt2 = c.arch == Architecture::gpt2;
    KVSCOPE_ASSIGN(c.context_length, meta.size(a + gguf_key::context_length));
    KVSCOPE_ASSIGN(c.d_model, meta.size(a + gguf_key::embedding_length));
    KVSCOPE_ASSIGN(c.n_layers, meta.size(a + gguf_key::block_count));
    KVSCOPE_ASSIGN(c.d_ff, meta.size(a + gguf_key::feed_forward_length));
    KVSCOPE_ASSIGN(c.n_heads, meta.size(a + gguf_key::head_count));
    KVSCOPE_ASSIGN(c.n_kv_heads, meta.size(a + gguf_key::head_count_kv, c.n_heads));
    KVSCOPE_ASSIGN(c.head_dim,
                   meta.size(a + gguf_key::key_length, c.n_heads > 0 ? c.d_model / c.n_heads : 0));
    int value_length = 0;
    KVSCOPE_ASSIGN(value_length, meta.size(a + gguf_key::value_length, c.head_dim));
    if (value_length != c.head_dim)
        return Status::error(file.path + ": key_length (" + std::to_string(c.head_dim) +
                             ") and value_length (" + std::to_string(value_length) +
                             ") differ; KVScope needs one head size");
    double eps = 0;
    KVSCOPE_ASSIGN(eps,
                   meta.number(a + (gpt2 ? gguf_key::layer_norm_epsilon : gguf_key::layer_norm_rms_epsilon)));
    c.norm_eps = float(eps);
    if (!gpt2) {
        double theta = 0;
        KVSCOPE_ASSIGN(theta, meta.number(a + gguf_key::rope_freq_base, 10000.0));
        c.rope_theta = float(theta);
        int rope_dims = 0;
        KVSCOPE_ASSIGN(rope_dims, meta.size(a + gguf_key::rope_dimension_count, c.head_dim));
        if (rope_dims != c.head_dim)
            return Status::error(file.path + ": " + a + gguf_key::rope_dimension_count + " = " +
                                 std::to_string(rope_dims) + " rotates part of each head (head size " +
                                 std::to_string(c.head_dim) +
                                 "); KVScope runs RoPE over the whole head only");
        std::string scaling;
        KVSCOPE_ASSIGN(scaling, meta.string(a + ".rope.scaling.type", std::string("none")));
        if (scaling != "none")
            return Status::error(file.path + ": RoPE scaling '" + scaling + "' is not supported");
        if (file.find_tensor("rope_freqs.weight"))
            return Status::error(file.path +
                                 ": tensor 'rope_freqs.weight' (RoPE frequency factors, as Llama 3.1 "
                                 "uses) is not supported");
        int64_t experts = 0;
        KVSCOPE_ASSIGN(experts, meta.integer(a + ".expert_count", 0));
        if (experts > 0)
            return Status::error(file.path + ": a mixture-of-experts model (" + std::to_string(experts) +
                                 " experts) is not supported");
    }

    // The vocabulary is the embedding's row count; the metadata may state it too, and must agree.
    const GgufTensorInfo* embd = file.find_tensor(gguf_tensor::token_embd);
    if (!embd)
        return Status::error("tensor '" + std::string(gguf_tensor::token_embd) + "' not found in " +
                             file.path);
    if (embd->ne.size() != 2)
        return Status::error(file.path + ": tensor '" + embd->name + "' has ggml shape " +
                             shape_string(embd->ne) + ", expected [embedding_length, vocab]");
    c.vocab_size = int(std::min<int64_t>(embd->ne[1], int64_t{1} << 30));
    int64_t stated_vocab = 0;
    KVSCOPE_ASSIGN(stated_vocab, meta.integer(a + gguf_key::vocab_size, c.vocab_size));
    if (stated_vocab != c.vocab_size)
        return Status::error(file.path + ": " + a + gguf_key::vocab_size + " says " +
                             std::to_string(stated_vocab) + " tokens, but tensor '" + embd->name + "' has " +
                             std::to_string(c.vocab_size) + " rows");

    c.qkv_bias = gpt2 || a == "qwen2" || file.find_tensor("blk.0.attn_q.bias") ||
                 file.find_tensor("blk.0.attn_qkv.bias");
    c.tied_embeddings = !file.find_tensor(gguf_tensor::output);
    Status st = c.validate();
    if (!st) return st.with_context(file.path);
    return c;
}

// Checks an id key (bos, eos, ...) lies inside the vocabulary; -1 when absent.
Result<int32_t> token_id(const Metadata& meta, const std::string& key, size_t n_tokens,
                         const std::string& path) {
    int64_t id = -1;
    KVSCOPE_ASSIGN(id, meta.integer(key, -1));
    if (id < -1 || id >= int64_t(n_tokens))
        return Status::error(path + ": " + key + " = " + std::to_string(id) +
                             " is outside the vocabulary of " + std::to_string(n_tokens) + " tokens");
    return int32_t(id);
}

}  // namespace

WeightNames gguf_weight_names(bool fused_qkv) {
    WeightNames n;
    n.tok_embd = gguf_tensor::token_embd;
    n.pos_embd = gguf_tensor::position_embd;
    n.out_norm = "output_norm.weight";
    n.out_norm_bias = "output_norm.bias";
    n.lm_head = gguf_tensor::output;
    n.linear_layout = Layout::as_stored;  // ne = [in, out] is already our [out, in] row-major (see gguf.h)
    n.layer = [fused_qkv](int i, LayerTensor t) -> std::string {
        const std::string p = "blk." + std::to_string(i) + ".";
        switch (t) {
            case LayerTensor::attn_norm:
                return p + "attn_norm.weight";
            case LayerTensor::attn_norm_bias:
                return p + "attn_norm.bias";
            case LayerTensor::wq:
                return p + "attn_q.weight";
            case LayerTensor::wk:
                return p + "attn_k.weight";
            case LayerTensor::wv:
                return p + "attn_v.weight";
            case LayerTensor::bq:
                return p + "attn_q.bias";
            case LayerTensor::bk:
                return p + "attn_k.bias";
            case LayerTensor::bv:
                return p + "attn_v.bias";
            case LayerTensor::wqkv:
                return fused_qkv ? p + "attn_qkv.weight" : std::string();
            case LayerTensor::bqkv:
                return fused_qkv ? p + "attn_qkv.bias" : std::string();
            case LayerTensor::wo:
                return p + "attn_output.weight";
            case LayerTensor::bo:
                return p + "attn_output.bias";
            case LayerTensor::ffn_norm:
                return p + "ffn_norm.weight";
            case LayerTensor::ffn_norm_bias:
                return p + "ffn_norm.bias";
            case LayerTensor::w_gate:
                return p + "ffn_gate.weight";
            case LayerTensor::w_up:
                return p + "ffn_up.weight";
            case LayerTensor::b_up:
                return p + "ffn_up.bias";
            case LayerTensor::w_down:
                return p + "ffn_down.weight";
            case LayerTensor::b_down:
                return p + "ffn_down.bias";
        }
        return {};
    };
    return n;
}

static Result<std::optional<TokenizerData>> gguf_read_tokenizer_unguarded(const GgufFile& file) {
    Metadata meta(file);
    const std::string& path = file.path;
    if (!meta.find(gguf_key::tokenizer_model)) return std::optional<TokenizerData>();
    std::string model;
    KVSCOPE_ASSIGN(model, meta.string(gguf_key::tokenizer_model));
    TokenizerData d;
    if (model == "no" || model == "none") return std::optional<TokenizerData>();
    if (model == "gpt2") {
        d.kind = TokenizerData::Kind::byte_bpe;
        // Files without tokenizer.ggml.pre predate the key (2024) and were GPT-2-style byte-level BPE;
        // llama.cpp falls back to an approximation it calls "default", we to GPT-2's own pattern.
        KVSCOPE_ASSIGN(d.pre, meta.string(gguf_key::tokenizer_pre, std::string("gpt-2")));
    } else if (model == "llama") {
        d.kind = TokenizerData::Kind::sentencepiece_bpe;
    } else {
        return Status::error(
            path + ": tokenizer.ggml.model '" + model +
            "' is not supported (KVScope reads 'gpt2' byte-level BPE and 'llama' SentencePiece)");
    }

    const std::vector<GgufValue>* tokens = nullptr;
    KVSCOPE_ASSIGN(tokens, meta.array(gguf_key::tokenizer_tokens, GgufType::string));
    if (!tokens) return meta.missing(gguf_key::tokenizer_tokens);
    d.tokens.reserve(tokens->size());
    for (size_t i = 0; i < tokens->size(); ++i) {
        const std::string& s = *(*tokens)[i].as_string();
        // Both vocabularies store text (byte-level BPE maps bytes to printable characters, SentencePiece
        // spells raw bytes "<0xNN>"), so a token that is not valid UTF-8 means a damaged file.
        const size_t bad = utf8_first_invalid(s);
        if (bad != std::string::npos) {
            char byte[8];
            std::snprintf(byte, sizeof byte, "0x%02x", unsigned(uint8_t(s[bad])));
            return Status::error(path + ": " + gguf_key::tokenizer_tokens + "[" + std::to_string(i) +
                                 "] is not valid UTF-8 (byte " + byte + " at position " +
                                 std::to_string(bad) + ")");
        }
        d.tokens.push_back(s);
    }
    const size_t n = d.tokens.size();

    const std::vector<GgufValue>* scores = nullptr;
    KVSCOPE_ASSIGN(scores, meta.per_token(gguf_key::tokenizer_scores, GgufType::float32, n));
    if (scores)
        for (const auto& s : *scores)
            d.scores.push_back(float(*s.as_float()));
    const std::vector<GgufValue>* types = nullptr;
    KVSCOPE_ASSIGN(types, meta.per_token(gguf_key::tokenizer_token_type, GgufType::int32, n));
    if (types)
        for (const auto& t : *types)
            d.token_types.push_back(int32_t(*t.as_int()));
    const std::vector<GgufValue>* merges = nullptr;
    KVSCOPE_ASSIGN(merges, meta.array(gguf_key::tokenizer_merges, GgufType::string));
    if (merges)
        for (const auto& m : *merges)
            d.merges.push_back(*m.as_string());
    if (d.kind == TokenizerData::Kind::byte_bpe && !merges) return meta.missing(gguf_key::tokenizer_merges);

    KVSCOPE_ASSIGN(d.bos_id, token_id(meta, gguf_key::bos_id, n, path));
    KVSCOPE_ASSIGN(d.eos_id, token_id(meta, gguf_key::eos_id, n, path));
    KVSCOPE_ASSIGN(d.unk_id, token_id(meta, gguf_key::unk_id, n, path));
    KVSCOPE_ASSIGN(d.pad_id, token_id(meta, gguf_key::pad_id, n, path));
    // llama.cpp's defaults: SentencePiece models add BOS and a leading space unless told otherwise.
    const bool spm = d.kind == TokenizerData::Kind::sentencepiece_bpe;
    KVSCOPE_ASSIGN(d.add_bos, meta.boolean(gguf_key::add_bos, spm));
    KVSCOPE_ASSIGN(d.add_space_prefix, meta.boolean(gguf_key::add_space_prefix, spm));
    return std::optional<TokenizerData>(std::move(d));
}

Result<std::optional<TokenizerData>> gguf_read_tokenizer(const GgufFile& file) {
    return catch_exceptions(file.path, [&] { return gguf_read_tokenizer_unguarded(file); });
}

Result<std::shared_ptr<Model>> load_gguf(const std::string& path) {
    auto opened = open_gguf(path);
    if (!opened) return opened.status();
    const GgufFile& file = opened.value();
    Metadata meta(file);
    auto config = read_config(file, meta);
    if (!config) return config.status();

    TensorSource source;
    source.where = path;
    for (const GgufTensorInfo& t : file.tensors) {
        RawTensor raw;
        raw.name = t.name;
        raw.file = path;
        raw.file_offset = t.file_offset;
        raw.dtype = t.dtype;
        raw.shape = t.shape();  // ggml's ne reversed: outermost first
        raw.data = t.data;
        raw.nbytes = t.nbytes;
        raw.keepalive = file.mapping;
        source.add(std::move(raw));
    }
    auto model =
        assemble_model(config.value(), source, gguf_weight_names(file.find_tensor("blk.0.attn_qkv.weight")));
    if (!model) return model.status();

    auto tok = gguf_read_tokenizer(file);
    if (!tok) return tok.status();
    if (tok.value()) {
        TokenizerData& data = *tok.value();
        if (int64_t(data.tokens.size()) != model.value()->config.vocab_size)
            return Status::error(path + ": the tokenizer has " + std::to_string(data.tokens.size()) +
                                 " tokens (tokenizer.ggml.tokens) but the embedding '" +
                                 std::string(gguf_tensor::token_embd) + "' has " +
                                 std::to_string(model.value()->config.vocab_size) + " rows");
        auto made = make_tokenizer(std::move(data));
        if (!made) return made.status().with_context(path + ": tokenizer");
        model.value()->tokenizer = made.value();
    }
    model.value()->source_path = path;
    model.value()->format = "gguf";
    return model;
}

}  // namespace kvscope
