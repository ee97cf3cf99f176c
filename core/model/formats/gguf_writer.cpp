// gguf_writer.cpp — writing a Model as a GGUF file that llama.cpp loads (layout and names in gguf.h).
#include <cstring>
#include <filesystem>

#include "kvscope/tokenizer.h"
#include "kvscope/writers.h"
#include "model/dtype.h"
#include "model/formats/gguf.h"
#include "util/files.h"

namespace kvscope {

namespace {

constexpr uint32_t kVersion = 3;
constexpr uint64_t kAlignment = 32;
// llama_ftype values for general.file_type.
constexpr uint32_t kFileTypeAllF32 = 0, kFileTypeMostlyF16 = 1, kFileTypeMostlyQ8_0 = 7;
constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION
// llama.cpp's token types.
constexpr int32_t kTokenNormal = 1, kTokenUnknown = 2, kTokenControl = 3, kTokenUnused = 5, kTokenByte = 6;

using Metadata = std::vector<std::pair<std::string, GgufValue>>;

// ---- serialization of the header and metadata ----
class Bytes {
  public:
    template <typename T>
    void put(T v) {
        const size_t at = m_bytes.size();
        m_bytes.resize(at + sizeof(T));
        std::memcpy(m_bytes.data() + at, &v, sizeof(T));
    }
    void put_string(const std::string& s) {
        put<uint64_t>(s.size());
        m_bytes.insert(m_bytes.end(), s.begin(), s.end());
    }
    void put_value(const GgufValue& v) {
        switch (v.type) {
            case GgufType::uint8:
                put<uint8_t>(uint8_t(unsigned_of(v)));
                break;
            case GgufType::int8:
                put<int8_t>(int8_t(*v.as_int()));
                break;
            case GgufType::uint16:
                put<uint16_t>(uint16_t(unsigned_of(v)));
                break;
            case GgufType::int16:
                put<int16_t>(int16_t(*v.as_int()));
                break;
            case GgufType::uint32:
                put<uint32_t>(uint32_t(unsigned_of(v)));
                break;
            case GgufType::int32:
                put<int32_t>(int32_t(*v.as_int()));
                break;
            case GgufType::uint64:
                put<uint64_t>(unsigned_of(v));
                break;
            case GgufType::int64:
                put<int64_t>(*v.as_int());
                break;
            case GgufType::float32:
                put<float>(float(*v.as_float()));
                break;
            case GgufType::float64:
                put<double>(*v.as_float());
                break;
            case GgufType::boolean:
                put<uint8_t>(*v.as_bool() ? 1 : 0);
                break;
            case GgufType::string:
                put_string(*v.as_string());
                break;
            case GgufType::array: {
                const auto& items = *v.as_array();
                put<uint32_t>(uint32_t(v.array_type));
                put<uint64_t>(items.size());
                for (const auto& item : items) {
                    assert(item.type == v.array_type &&
                           "GGUF array items must all have the array's element type");
                    put_value(item);
                }
                break;
            }
        }
    }
    void pad_to(uint64_t alignment) {
        m_bytes.resize((m_bytes.size() + alignment - 1) / alignment * alignment, 0);
    }
    const std::vector<uint8_t>& data() const { return m_bytes; }

  private:
    static uint64_t unsigned_of(const GgufValue& v) {
        if (const auto* u = std::get_if<uint64_t>(&v.value)) return *u;
        return uint64_t(*v.as_int());
    }
    std::vector<uint8_t> m_bytes;
};

// ---- the tokenizer as tokenizer.ggml.* keys ----

// Token types for a vocabulary that does not carry them, as llama.cpp's llama2.c converter assigns them:
// the unknown token, the special ids, SentencePiece's byte pieces "<0xNN>", everything else normal.
std::vector<int32_t> derived_token_types(const TokenizerData& d) {
    std::vector<int32_t> types(d.tokens.size(), kTokenNormal);
    for (size_t i = 0; i < d.tokens.size(); ++i) {
        const std::string& t = d.tokens[i];
        if (d.kind == TokenizerData::Kind::sentencepiece_bpe && t.size() == 6 && t.starts_with("<0x") &&
            t[5] == '>' && std::isxdigit(uint8_t(t[3])) && std::isxdigit(uint8_t(t[4])))
            types[i] = kTokenByte;
    }
    for (int32_t id : {d.bos_id, d.eos_id, d.pad_id})
        if (id >= 0 && size_t(id) < types.size()) types[size_t(id)] = kTokenControl;
    if (d.unk_id >= 0 && size_t(d.unk_id) < types.size()) types[size_t(d.unk_id)] = kTokenUnknown;
    return types;
}

// The tokenizer as llama.cpp's converter writes it. A vocabulary smaller than the embedding (Qwen2 pads its
// embedding past the tokenizer) is padded with "[PAD<id>]" tokens of type unused (score −1000), because
// llama.cpp takes the vocabulary size from the token list and checks the embedding against it.
void add_tokenizer(const TokenizerData& d, int vocab_size, Metadata& kv) {
    const bool bpe = d.kind == TokenizerData::Kind::byte_bpe;
    const size_t n = size_t(vocab_size), have = d.tokens.size();
    kv.emplace_back(gguf_key::tokenizer_model, GgufValue::str(bpe ? "gpt2" : "llama"));
    // llama.cpp knows GPT-2's pattern as "gpt-2" only; an empty name would make it fall back to "default".
    if (bpe)
        kv.emplace_back(gguf_key::tokenizer_pre,
                        GgufValue::str(d.pre.empty() || d.pre == "gpt2" ? "gpt-2" : d.pre));
    std::vector<GgufValue> tokens, scores, types;
    tokens.reserve(n);
    for (size_t i = 0; i < n; ++i)
        tokens.push_back(GgufValue::str(i < have ? d.tokens[i] : "[PAD" + std::to_string(i) + "]"));
    kv.emplace_back(gguf_key::tokenizer_tokens, GgufValue::array(GgufType::string, std::move(tokens)));
    if (!d.scores.empty()) {
        for (size_t i = 0; i < n; ++i)
            scores.push_back(GgufValue::f32(i < have ? d.scores[i] : -1000.0f));
        kv.emplace_back(gguf_key::tokenizer_scores, GgufValue::array(GgufType::float32, std::move(scores)));
    }
    const std::vector<int32_t> known = d.token_types.empty() ? derived_token_types(d) : d.token_types;
    for (size_t i = 0; i < n; ++i)
        types.push_back(GgufValue::i32(i < known.size() ? known[i] : kTokenUnused));
    kv.emplace_back(gguf_key::tokenizer_token_type, GgufValue::array(GgufType::int32, std::move(types)));
    if (bpe) {
        std::vector<GgufValue> merges;
        merges.reserve(d.merges.size());
        for (const auto& m : d.merges)
            merges.push_back(GgufValue::str(m));
        kv.emplace_back(gguf_key::tokenizer_merges, GgufValue::array(GgufType::string, std::move(merges)));
    }
    const std::pair<const char*, int32_t> ids[] = {{gguf_key::bos_id, d.bos_id},
                                                   {gguf_key::eos_id, d.eos_id},
                                                   {gguf_key::unk_id, d.unk_id},
                                                   {gguf_key::pad_id, d.pad_id}};
    for (auto [key, id] : ids)
        if (id >= 0) kv.emplace_back(key, GgufValue::u32(uint32_t(id)));
    kv.emplace_back(gguf_key::add_bos, GgufValue::boolean(d.add_bos));
    kv.emplace_back(gguf_key::add_space_prefix, GgufValue::boolean(d.add_space_prefix));
}

// ---- tensors ----

struct OutTensor {
    std::string name;
    std::vector<int64_t> shape;  // ours, outermost first (written as ne reversed)
    DType type = DType::f32;
    const float* values = nullptr;
    std::shared_ptr<const std::vector<float>> owned;  // when the rows were permuted or transposed

    int64_t numel() const {
        int64_t n = 1;
        for (int64_t d : shape)
            n *= d;
        return n;
    }
};

// Reorders the rows of each head of a Q or K projection between the two RoPE layouts. Row r of a head
// pairs with row r + hd/2 in rotate-half order and with row r ^ 1 in interleaved order: interleaved row
// 2i + j is rotate-half row j·hd/2 + i (this is llama.cpp's converter's permute, and its inverse).
std::vector<float> permute_rope_rows(const float* src, int64_t n_heads, int64_t hd, int64_t cols,
                                     bool to_interleaved) {
    std::vector<float> out(size_t(n_heads * hd * cols));
    for (int64_t h = 0; h < n_heads; ++h)
        for (int64_t i = 0; i < hd / 2; ++i)
            for (int64_t j = 0; j < 2; ++j) {
                const int64_t interleaved = h * hd + 2 * i + j, rotate_half = h * hd + j * hd / 2 + i;
                const int64_t from = to_interleaved ? rotate_half : interleaved;
                const int64_t to = to_interleaved ? interleaved : rotate_half;
                std::memcpy(out.data() + to * cols, src + from * cols, size_t(cols) * sizeof(float));
            }
    return out;
}

class TensorList {
  public:
    TensorList(DType matrix_type) : m_matrix_type(matrix_type) {}

    // A weight matrix (quantized as asked) or, for 1-D tensors, F32.
    void add(const std::string& name, const Tensor& t, bool keep_f32 = false) {
        add_rows(name, t, 0, t.rows(), keep_f32);
    }
    // Rows [row_begin, row_begin + n_rows) of t (a slice of the fused QKV), optionally RoPE-permuted.
    void add_rows(const std::string& name, const Tensor& t, int64_t row_begin, int64_t n_rows,
                  bool keep_f32 = false, int64_t rope_heads = 0, int64_t head_dim = 0,
                  bool to_interleaved = false) {
        OutTensor o;
        o.name = name;
        const int64_t cols = t.shape.size() == 2 ? t.shape[1] : 1;
        o.shape = t.shape.size() == 2 ? std::vector<int64_t>{n_rows, cols} : std::vector<int64_t>{n_rows};
        if (t.in_out) {
            // GPT-2's Conv1D used in place ([in, out]): GGUF wants [out, in] rows, so write a transposed
            // copy.
            auto rows = std::make_shared<std::vector<float>>(t.row_major_values());
            o.values = rows->data() + row_begin * cols;
            o.owned = std::move(rows);
        } else {
            o.values = t.data() + row_begin * cols;
        }
        if (rope_heads > 0) {
            auto p = std::make_shared<std::vector<float>>(
                permute_rope_rows(o.values, rope_heads, head_dim, cols, to_interleaved));
            o.values = p->data();
            o.owned = std::move(p);
        }
        o.type = DType::f32;
        if (o.shape.size() == 2 && !keep_f32) {
            o.type = m_matrix_type;
            // llama.cpp's converter falls back to F16 when rows do not fill whole Q8_0 blocks.
            if (o.type == DType::q8_0 && cols % dtype_block_size(DType::q8_0) != 0) o.type = DType::f16;
        }
        m_tensors.push_back(std::move(o));
    }
    std::vector<OutTensor>& tensors() { return m_tensors; }

  private:
    DType m_matrix_type;
    std::vector<OutTensor> m_tensors;
};

Status encode_tensor(const OutTensor& t, std::vector<uint8_t>& buf) {
    const uint64_t n = uint64_t(t.numel());
    buf.resize(dtype_bytes(t.type, n));
    switch (t.type) {
        case DType::f32:
            std::memcpy(buf.data(), t.values, n * sizeof(float));
            break;
        case DType::f16:
            for (uint64_t i = 0; i < n; ++i) {
                const uint16_t h = f32_to_f16(t.values[i]);
                std::memcpy(buf.data() + 2 * i, &h, 2);
            }
            break;
        case DType::q8_0:
            quantize_q8_0(t.values, n, buf.data());
            break;
        default:
            return Status::error(std::string("cannot write tensors as ") + dtype_name(t.type));
    }
    return Status::ok();
}

std::string default_name(const std::string& source) {
    std::string s = source;
    while (s.size() > 1 && s.back() == '/')
        s.pop_back();
    std::filesystem::path p(s);
    return p.has_extension() ? p.stem().string() : p.filename().string();
}

}  // namespace

Status write_gguf(const std::string& path, const Model& model, const GgufWriteOptions& options) {
    if (options.type != DType::f32 && options.type != DType::f16 && options.type != DType::q8_0)
        return Status::error(path + ": GGUF is written as F32, F16 or Q8_0, not " + dtype_name(options.type));
    KVSCOPE_TRY(model.validate().with_context(path + ": the model to write"));
    const ModelConfig& c = model.config;
    const bool gpt2 = c.arch == Architecture::gpt2;
    // llama.cpp runs "llama" with interleaved RoPE pairs and "qwen2" with rotate-half; a Mistral folder is a
    // llama to it.
    const std::string arch = gpt2 ? "gpt2" : c.arch_name == "qwen2" ? "qwen2" : "llama";
    const RopeLayout file_layout = gpt2              ? RopeLayout::none
                                   : arch == "llama" ? RopeLayout::interleaved
                                                     : RopeLayout::rotate_half;
    const bool permute = !gpt2 && c.rope_layout != file_layout;

    // ---- metadata ----
    Metadata kv;
    const uint32_t file_type = options.type == DType::f32   ? kFileTypeAllF32
                               : options.type == DType::f16 ? kFileTypeMostlyF16
                                                            : kFileTypeMostlyQ8_0;
    kv.emplace_back(gguf_key::architecture, GgufValue::str(arch));
    kv.emplace_back(gguf_key::name,
                    GgufValue::str(options.name.empty() ? default_name(model.source_path) : options.name));
    kv.emplace_back(gguf_key::alignment, GgufValue::u32(uint32_t(kAlignment)));
    kv.emplace_back(gguf_key::file_type, GgufValue::u32(file_type));
    kv.emplace_back(gguf_key::quantization_version, GgufValue::u32(kQuantizationVersion));
    auto hp = [&](const char* suffix, GgufValue v) { kv.emplace_back(arch + suffix, std::move(v)); };
    hp(gguf_key::context_length, GgufValue::u32(uint32_t(c.context_length)));
    hp(gguf_key::embedding_length, GgufValue::u32(uint32_t(c.d_model)));
    hp(gguf_key::block_count, GgufValue::u32(uint32_t(c.n_layers)));
    hp(gguf_key::feed_forward_length, GgufValue::u32(uint32_t(c.d_ff)));
    hp(gguf_key::head_count, GgufValue::u32(uint32_t(c.n_heads)));
    hp(gguf_key::head_count_kv, GgufValue::u32(uint32_t(c.n_kv_heads)));
    hp(gguf_key::key_length, GgufValue::u32(uint32_t(c.head_dim)));
    hp(gguf_key::value_length, GgufValue::u32(uint32_t(c.head_dim)));
    if (gpt2) {
        hp(gguf_key::layer_norm_epsilon, GgufValue::f32(c.norm_eps));
    } else {
        hp(gguf_key::layer_norm_rms_epsilon, GgufValue::f32(c.norm_eps));
        hp(gguf_key::rope_freq_base, GgufValue::f32(c.rope_theta));
        hp(gguf_key::rope_dimension_count, GgufValue::u32(uint32_t(c.head_dim)));
    }
    hp(gguf_key::vocab_size, GgufValue::u32(uint32_t(c.vocab_size)));
    if (model.tokenizer) {
        const TokenizerData& d = model.tokenizer->data();
        if (int64_t(d.tokens.size()) > c.vocab_size)
            return Status::error(path + ": the tokenizer has " + std::to_string(d.tokens.size()) +
                                 " tokens but the model's embedding has only " +
                                 std::to_string(c.vocab_size) + " rows");
        add_tokenizer(d, c.vocab_size, kv);
    }

    // ---- tensors, in llama.cpp's order ----
    const WeightNames names = gguf_weight_names(gpt2);
    TensorList list(options.type);
    list.add(names.tok_embd, model.tok_embd);
    if (gpt2) list.add(names.pos_embd, model.pos_embd, /*keep_f32=*/true);
    const int64_t qd = c.q_dim(), kvd = c.kv_dim(), hd = c.head_dim;
    for (int i = 0; i < c.n_layers; ++i) {
        const LayerWeights& L = model.layers[size_t(i)];
        auto name = [&](LayerTensor t) { return names.layer(i, t); };
        list.add(name(LayerTensor::attn_norm), L.attn_norm);
        if (gpt2) {
            list.add(name(LayerTensor::attn_norm_bias), L.attn_norm_bias);
            list.add(name(LayerTensor::wqkv), L.wqkv);
            list.add(name(LayerTensor::bqkv), L.bqkv);
        } else {
            const int64_t q_heads = permute ? c.n_heads : 0, k_heads = permute ? c.n_kv_heads : 0;
            list.add_rows(name(LayerTensor::wq), L.wqkv, 0, qd, false, q_heads, hd,
                          file_layout == RopeLayout::interleaved);
            list.add_rows(name(LayerTensor::wk), L.wqkv, qd, kvd, false, k_heads, hd,
                          file_layout == RopeLayout::interleaved);
            list.add_rows(name(LayerTensor::wv), L.wqkv, qd + kvd, kvd);
            if (c.qkv_bias) {
                list.add_rows(name(LayerTensor::bq), L.bqkv, 0, qd, true, q_heads, hd,
                              file_layout == RopeLayout::interleaved);
                list.add_rows(name(LayerTensor::bk), L.bqkv, qd, kvd, true, k_heads, hd,
                              file_layout == RopeLayout::interleaved);
                list.add_rows(name(LayerTensor::bv), L.bqkv, qd + kvd, kvd, true);
            }
        }
        list.add(name(LayerTensor::wo), L.wo);
        if (gpt2) list.add(name(LayerTensor::bo), L.bo);
        list.add(name(LayerTensor::ffn_norm), L.ffn_norm);
        if (gpt2) list.add(name(LayerTensor::ffn_norm_bias), L.ffn_norm_bias);
        if (!gpt2) list.add(name(LayerTensor::w_gate), L.w_gate);
        list.add(name(LayerTensor::w_up), L.w_up);
        if (gpt2) list.add(name(LayerTensor::b_up), L.b_up);
        list.add(name(LayerTensor::w_down), L.w_down);
        if (gpt2) list.add(name(LayerTensor::b_down), L.b_down);
    }
    list.add(names.out_norm, model.out_norm);
    if (gpt2) list.add(names.out_norm_bias, model.out_norm_bias);
    if (!c.tied_embeddings)
        list.add(names.lm_head, model.lm_head);  // absent: llama.cpp ties it to token_embd

    std::vector<GgufTensorToWrite> out;
    for (const OutTensor& t : list.tensors()) {
        GgufTensorToWrite w;
        w.name = t.name;
        w.ne.assign(t.shape.rbegin(), t.shape.rend());  // ggml order: innermost first
        w.ggml_type = ggml_type_of(t.type);
        w.nbytes = dtype_bytes(t.type, uint64_t(t.numel()));
        w.bytes = [&t](std::vector<uint8_t>& buf) { return encode_tensor(t, buf); };
        out.push_back(std::move(w));
    }
    return write_gguf_file(path, kv, out, kAlignment);
}

Status write_gguf_file(const std::string& path,
                       const std::vector<std::pair<std::string, GgufValue>>& metadata,
                       const std::vector<GgufTensorToWrite>& tensors, uint64_t alignment) {
    assert(alignment > 0 && (alignment & (alignment - 1)) == 0 && "GGUF alignment must be a power of two");
    // ---- header: counts, metadata, tensor infos (offsets aligned), padding to the data section ----
    Bytes header;
    header.put<uint32_t>(0x46554747);  // "GGUF"
    header.put<uint32_t>(kVersion);
    header.put<uint64_t>(tensors.size());
    header.put<uint64_t>(metadata.size());
    for (const auto& [key, value] : metadata) {
        header.put_string(key);
        header.put<uint32_t>(uint32_t(value.type));
        header.put_value(value);
    }
    uint64_t offset = 0;
    for (const GgufTensorToWrite& t : tensors) {
        header.put_string(t.name);
        header.put<uint32_t>(uint32_t(t.ne.size()));
        for (int64_t d : t.ne)
            header.put<uint64_t>(uint64_t(d));
        header.put<uint32_t>(t.ggml_type);
        header.put<uint64_t>(offset);
        offset += (t.nbytes + alignment - 1) / alignment * alignment;
    }
    header.pad_to(alignment);

    // ---- data section: each tensor, then zeros up to the next multiple of the alignment ----
    return write_file_atomically(path, [&](std::ostream& file) -> Status {
        file.write(reinterpret_cast<const char*>(header.data().data()),
                   std::streamsize(header.data().size()));
        std::vector<uint8_t> buf;
        const std::vector<char> zeros(alignment, 0);
        for (const GgufTensorToWrite& t : tensors) {
            buf.clear();
            KVSCOPE_TRY(t.bytes(buf).with_context(path + ": tensor '" + t.name + "'"));
            if (buf.size() != t.nbytes)
                return Status::error(path + ": tensor '" + t.name + "' produced " +
                                     std::to_string(buf.size()) + " bytes, its info says " +
                                     std::to_string(t.nbytes));
            file.write(reinterpret_cast<const char*>(buf.data()), std::streamsize(buf.size()));
            file.write(zeros.data(), std::streamsize((alignment - buf.size() % alignment) % alignment));
        }
        return Status::ok();
    });
}

}  // namespace kvscope
