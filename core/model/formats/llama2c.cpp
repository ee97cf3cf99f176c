#include "model/formats/llama2c.h"

#include <cstring>

#include "model/model_assembly.h"
#include "util/mapped_file.h"

namespace kvscope {

namespace {

constexpr uint32_t kMagicV1 = 0x616b3432;  // "ak42"
constexpr int kMaxDim = 1 << 16;

struct Header {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

Status check_header(const Header& h, const std::string& path) {
    auto bad = [&](const std::string& what) {
        return Status::error(
            path + ": llama2.c header has impossible sizes: " + what + " (dim " + std::to_string(h.dim) +
            ", hidden_dim " + std::to_string(h.hidden_dim) + ", n_layers " + std::to_string(h.n_layers) +
            ", n_heads " + std::to_string(h.n_heads) + ", n_kv_heads " + std::to_string(h.n_kv_heads) +
            ", vocab_size " + std::to_string(h.vocab_size) + ", seq_len " + std::to_string(h.seq_len) + ")");
    };
    if (h.dim <= 0 || h.dim > kMaxDim) return bad("dim must be in 1.." + std::to_string(kMaxDim));
    if (h.hidden_dim <= 0 || h.hidden_dim > 8 * kMaxDim) return bad("hidden_dim out of range");
    if (h.n_layers <= 0 || h.n_layers > 1024) return bad("n_layers must be in 1..1024");
    if (h.n_heads <= 0 || h.dim % h.n_heads != 0) return bad("dim is not a multiple of n_heads");
    if (h.n_kv_heads <= 0 || h.n_heads % h.n_kv_heads != 0)
        return bad("n_heads is not a multiple of n_kv_heads");
    if ((h.dim / h.n_heads) % 2 != 0) return bad("head size is odd (RoPE needs pairs)");
    if (h.vocab_size == 0 || h.vocab_size < -(1 << 24) || h.vocab_size > (1 << 24))
        return bad("vocab_size out of range");
    if (h.seq_len <= 0 || h.seq_len > (1 << 20)) return bad("seq_len must be in 1..1048576");
    return Status::ok();
}

}  // namespace

bool looks_like_llama2c(const uint8_t* data, uint64_t size) {
    if (size >= 8) {
        uint32_t magic;
        std::memcpy(&magic, data, 4);
        if (magic == kMagicV1) return true;
    }
    if (size < sizeof(Header)) return false;
    Header h;
    std::memcpy(&h, data, sizeof(Header));
    return check_header(h, "").is_ok();
}

Result<std::shared_ptr<Model>> load_llama2c(const std::string& path) {
    auto mapped = MappedFile::open(path);
    if (!mapped) return mapped.status();
    std::shared_ptr<const MappedFile> file = mapped.value();
    const uint8_t* base = file->data();
    const uint64_t size = file->size();

    Header h{};
    uint64_t offset = 0;
    int version = 0;
    bool shared = false;
    uint32_t magic = 0;
    if (size >= 4) std::memcpy(&magic, base, 4);
    if (magic == kMagicV1) {
        if (size < 256)
            return Status::error(path + ": " + std::to_string(size) +
                                 " bytes is too short for a llama2.c version-1 header (256 bytes)");
        std::memcpy(&version, base + 4, 4);
        if (version != 1)
            return Status::error(path + ": llama2.c checkpoint version " + std::to_string(version) +
                                 " is not supported (KVScope reads the legacy float32 format and version 1)");
        std::memcpy(&h, base + 8, sizeof(Header));
        shared = base[8 + sizeof(Header)] != 0;
        offset = 256;
    } else {
        if (size < sizeof(Header))
            return Status::error(path + ": " + std::to_string(size) +
                                 " bytes is too short for a llama2.c header (28 bytes)");
        std::memcpy(&h, base, sizeof(Header));
        shared = h.vocab_size > 0;
        offset = sizeof(Header);
    }
    KVSCOPE_TRY(check_header(h, path));
    const int64_t vocab = h.vocab_size < 0 ? -int64_t{h.vocab_size} : h.vocab_size;
    const int64_t dim = h.dim, hidden = h.hidden_dim, L = h.n_layers;
    const int64_t head = dim / h.n_heads, kv_dim = head * h.n_kv_heads;

    ModelConfig c;
    c.arch = Architecture::llama;
    c.arch_name = "llama";
    c.n_layers = h.n_layers;
    c.d_model = h.dim;
    c.n_heads = h.n_heads;
    c.n_kv_heads = h.n_kv_heads;
    c.head_dim = static_cast<int>(head);
    c.d_ff = h.hidden_dim;
    c.vocab_size = static_cast<int>(vocab);
    c.context_length = h.seq_len;
    c.norm_eps = 1e-5f;
    c.rope_theta = 10000.0f;
    c.rope_layout = RopeLayout::interleaved;
    c.tied_embeddings = shared;
    KVSCOPE_TRY(c.validate().with_context(path));

    // Lay out the regions in file order; per-layer tensors are slices of [n_layers, ...] arrays.
    TensorSource source;
    source.where = path;
    auto region = [&](const std::string& name, std::vector<int64_t> per_layer_shape,
                      int64_t count) -> Status {
        int64_t n = 1;
        for (auto d : per_layer_shape)
            n *= d;
        const uint64_t bytes = static_cast<uint64_t>(n) * 4;
        for (int64_t i = 0; i < count; ++i) {
            if (offset + bytes > size)
                return Status::error(path + ": tensor '" + name + (count > 1 ? "." + std::to_string(i) : "") +
                                     "' needs " + std::to_string(bytes) + " bytes at offset " +
                                     std::to_string(offset) + ", file has " + std::to_string(size) +
                                     " (truncated, or the header's sizes are wrong)");
            RawTensor raw;
            raw.name =
                count > 1 || name.find('.') == std::string::npos ? name + "." + std::to_string(i) : name;
            raw.file = path;
            raw.file_offset = offset;
            raw.dtype = DType::f32;
            raw.shape = per_layer_shape;
            raw.data = base + offset;
            raw.nbytes = bytes;
            raw.keepalive = file;
            source.add(std::move(raw));
            offset += bytes;
        }
        return Status::ok();
    };
    auto skip = [&](const std::string& name, uint64_t bytes) -> Status {
        if (offset + bytes > size)
            return Status::error(path + ": '" + name + "' needs " + std::to_string(bytes) +
                                 " bytes at offset " + std::to_string(offset) + ", file has " +
                                 std::to_string(size));
        offset += bytes;
        return Status::ok();
    };
    const uint64_t freq_bytes = static_cast<uint64_t>(h.seq_len) * (head / 2) * 4;
    if (version == 0) {
        KVSCOPE_TRY(region("token_embedding_table", {vocab, dim}, 1));
        KVSCOPE_TRY(region("rms_att_weight", {dim}, L));
        KVSCOPE_TRY(region("wq", {dim, dim}, L));
        KVSCOPE_TRY(region("wk", {kv_dim, dim}, L));
        KVSCOPE_TRY(region("wv", {kv_dim, dim}, L));
        KVSCOPE_TRY(region("wo", {dim, dim}, L));
        KVSCOPE_TRY(region("rms_ffn_weight", {dim}, L));
        KVSCOPE_TRY(region("w1", {hidden, dim}, L));
        KVSCOPE_TRY(region("w2", {dim, hidden}, L));
        KVSCOPE_TRY(region("w3", {hidden, dim}, L));
        KVSCOPE_TRY(region("rms_final_weight", {dim}, 1));
        KVSCOPE_TRY(skip("freq_cis_real", freq_bytes));
        KVSCOPE_TRY(skip("freq_cis_imag", freq_bytes));
    } else {
        KVSCOPE_TRY(region("rms_att_weight", {dim}, L));
        KVSCOPE_TRY(region("rms_ffn_weight", {dim}, L));
        KVSCOPE_TRY(region("rms_final_weight", {dim}, 1));
        KVSCOPE_TRY(region("token_embedding_table", {vocab, dim}, 1));
        KVSCOPE_TRY(region("wq", {dim, dim}, L));
        KVSCOPE_TRY(region("wk", {kv_dim, dim}, L));
        KVSCOPE_TRY(region("wv", {kv_dim, dim}, L));
        KVSCOPE_TRY(region("wo", {dim, dim}, L));
        KVSCOPE_TRY(region("w1", {hidden, dim}, L));
        KVSCOPE_TRY(region("w2", {dim, hidden}, L));
        KVSCOPE_TRY(region("w3", {hidden, dim}, L));
    }
    if (!shared) KVSCOPE_TRY(region("wcls", {vocab, dim}, 1));
    if (offset != size)
        return Status::error(path + ": " + std::to_string(size - offset) +
                             " bytes left over after the last tensor (at offset " + std::to_string(offset) +
                             "): the header's sizes do not describe this file");

    WeightNames names;
    names.tok_embd = "token_embedding_table.0";
    names.out_norm = "rms_final_weight.0";
    names.lm_head = shared ? "" : "wcls.0";
    names.layer = [](int i, LayerTensor t) -> std::string {
        const std::string s = "." + std::to_string(i);
        switch (t) {
            case LayerTensor::attn_norm:
                return "rms_att_weight" + s;
            case LayerTensor::wq:
                return "wq" + s;
            case LayerTensor::wk:
                return "wk" + s;
            case LayerTensor::wv:
                return "wv" + s;
            case LayerTensor::wo:
                return "wo" + s;
            case LayerTensor::ffn_norm:
                return "rms_ffn_weight" + s;
            case LayerTensor::w_gate:
                return "w1" + s;
            case LayerTensor::w_up:
                return "w3" + s;
            case LayerTensor::w_down:
                return "w2" + s;
            default:
                return {};
        }
    };
    auto model = assemble_model(c, source, names);
    if (!model) return model.status();
    model.value()->source_path = path;
    model.value()->format = "llama2.c";
    return model;
}

}  // namespace kvscope
