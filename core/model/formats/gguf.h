// gguf.h — reading GGUF files, ggml's one-file model format (llama.cpp, versions 2 and 3).
//
// A GGUF file carries a model's hyperparameters, its tokenizer and its weights. The reader maps the file
// and never copies it: aligned F32 tensors are used in place, other types are widened to float32 once at
// load. Everything the file says is checked against its size before it is believed; a damaged file gets
// an error naming the file, the byte offset and what was expected, never a crash or a huge allocation.
//
// File layout (little-endian throughout; a "string" is u64 length + that many bytes, not NUL-terminated):
//
//   u32    magic              "GGUF" (0x46554747 read as a little-endian u32)
//   u32    version            2 or 3. Version 1 (2023) used u32 counts and lengths and is refused;
//                             version 3 only added big-endian files (same layout), which we refuse.
//   u64    n_tensors
//   u64    n_kv               number of metadata key/value pairs
//   n_kv × metadata pair:
//       string  key           e.g. "general.architecture", "llama.block_count"; unique in the file
//       u32     value_type    one of GgufType below
//       value                 UINT8 INT8 (1 byte), UINT16 INT16 (2), UINT32 INT32 FLOAT32 (4),
//                             UINT64 INT64 FLOAT64 (8), BOOL (1 byte, 0 or 1), STRING (string),
//                             ARRAY: u32 element_type, u64 count, then count values of that type;
//                             arrays may nest (an ARRAY of ARRAYs: each inner one has its own type/count)
//   n_tensors × tensor info:
//       string  name          e.g. "blk.0.attn_q.weight"; unique in the file
//       u32     n_dims        1..4
//       u64     ne[n_dims]    elements per dimension, INNERMOST FIRST (see below)
//       u32     ggml_type     0 F32, 1 F16, 2 Q4_0, 8 Q8_0, 12 Q4_K, 13 Q5_K, 14 Q6_K, 30 BF16, ... (ggml.h)
//       u64     offset        of the tensor's bytes, relative to the start of the data section; a
//                             multiple of the alignment
//   padding                   zero bytes up to the next multiple of the alignment
//   data section              the tensors' bytes; each tensor's size is ne[0]·…·ne[n−1] elements stored as
//                             ggml_type (block types: ne[0] must be a whole number of blocks)
//
// Alignment: the u32 metadata key "general.alignment" (a power of two) if present, else 32.
//
// Dimension order: ggml lists dimensions innermost first. ne[0] is the number of elements in one row (the
// dimension that varies fastest in memory), ne[1] the number of rows. A linear weight that PyTorch holds
// as nn.Linear [out, in] row-major is written to GGUF with its bytes unchanged and ne = [in, out]. So a
// GGUF tensor with ne = [in, out] is our [out, in] row-major matrix: RawTensor::shape is ne reversed, and
// no data moves. (ggml's matmul computes W·x with W's rows of length ne[0] = in, the same product.)
//
// Limits we check: the magic, the version, that every count, string and array fits in the bytes left
// (so a corrupt count can never cause a huge allocation), arrays nest at most 8 deep, n_dims ≤ 4, every
// element count is positive and the product fits in 2^53, the type is one we can dequantize, each offset
// is aligned and its bytes lie inside the data section, and keys and tensor names are unique.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "kvscope/model.h"
#include "kvscope/status.h"
#include "kvscope/tokenizer.h"
#include "model/model_assembly.h"

namespace kvscope {

class MappedFile;

enum class GgufType : uint32_t {
    uint8 = 0,
    int8 = 1,
    uint16 = 2,
    int16 = 3,
    uint32 = 4,
    int32 = 5,
    float32 = 6,
    boolean = 7,
    string = 8,
    array = 9,
    uint64 = 10,
    int64 = 11,
    float64 = 12,
};
const char* gguf_type_name(GgufType type);

// One metadata value. Integers of every width are held as int64 or uint64 (by signedness), floats as
// double; `type` remembers what the file stored (a writer writes it back the same way).
struct GgufValue {
    GgufType type = GgufType::uint32;
    GgufType array_type = GgufType::uint8;  // element type, for arrays
    std::variant<std::monostate, uint64_t, int64_t, double, bool, std::string, std::vector<GgufValue>> value;

    static GgufValue u32(uint32_t v) { return {GgufType::uint32, GgufType::uint8, uint64_t{v}}; }
    static GgufValue i32(int32_t v) { return {GgufType::int32, GgufType::uint8, int64_t{v}}; }
    static GgufValue f32(float v) { return {GgufType::float32, GgufType::uint8, double{v}}; }
    static GgufValue boolean(bool v) { return {GgufType::boolean, GgufType::uint8, v}; }
    static GgufValue str(std::string v) { return {GgufType::string, GgufType::uint8, std::move(v)}; }
    static GgufValue array(GgufType element_type, std::vector<GgufValue> items) {
        return {GgufType::array, element_type, std::move(items)};
    }

    // Any integer type (not bool); nullopt for other types or an unsigned value past int64.
    std::optional<int64_t> as_int() const;
    // Float types, and integers (a converter may write 10000 as an integer).
    std::optional<double> as_float() const;
    std::optional<bool> as_bool() const;
    const std::string* as_string() const;
    const std::vector<GgufValue>* as_array() const;
    // "u32 4096", "array of 32000 string", ... for messages.
    std::string describe() const;
};

// GGML type ids (ggml.h's enum ggml_type) for the types KVScope reads and writes.
constexpr uint32_t kGgmlTypeF32 = 0, kGgmlTypeF16 = 1, kGgmlTypeQ4_0 = 2, kGgmlTypeQ8_0 = 8,
                   kGgmlTypeQ4_K = 12, kGgmlTypeQ5_K = 13, kGgmlTypeQ6_K = 14, kGgmlTypeBF16 = 30;
std::optional<DType> dtype_from_ggml(uint32_t ggml_type);
uint32_t ggml_type_of(DType type);
// ggml's name for a type id ("Q4_1", "IQ2_XXS", ...), or "unknown" past the table.
const char* ggml_type_name(uint32_t ggml_type);

struct GgufTensorInfo {
    std::string name;
    std::vector<int64_t> ne;  // as the file lists them: innermost first
    DType dtype = DType::f32;
    uint64_t offset = 0;       // relative to the data section
    uint64_t file_offset = 0;  // absolute, of the first byte
    uint64_t nbytes = 0;
    const uint8_t* data = nullptr;  // into the mapping
    uint64_t info_offset = 0;       // where this tensor's info record starts (for messages)

    // Our compute order: outermost first (ne reversed).
    std::vector<int64_t> shape() const { return {ne.rbegin(), ne.rend()}; }
};

struct GgufFile {
    std::string path;
    uint32_t version = 3;
    uint64_t alignment = 32;
    uint64_t data_offset = 0;                                 // start of the data section
    std::vector<std::pair<std::string, GgufValue>> metadata;  // in file order
    std::vector<GgufTensorInfo> tensors;                      // in file order
    std::shared_ptr<const MappedFile> mapping;

    const GgufValue* find(const std::string& key) const;
    const GgufTensorInfo* find_tensor(const std::string& name) const;

  private:
    friend Result<GgufFile> open_gguf(const std::string& path);
    friend Result<GgufFile> open_gguf_unguarded(const std::string& path);  // open_gguf's body (gguf.cpp)
    std::map<std::string, size_t> m_key_index, m_tensor_index;
};

// Maps and checks a GGUF file: header, metadata, tensor infos and the data ranges (see the limits above).
Result<GgufFile> open_gguf(const std::string& path);

// ---- What a model file holds (llama.cpp's names; shared by the reader and the writer) ----
//
// Hyperparameters, "{arch}" being general.architecture ("llama", "qwen2", "gpt2"); integers may be stored
// with any integer type, numbers with any float or integer type:
//   {arch}.context_length, .embedding_length, .block_count, .feed_forward_length, .attention.head_count
//                                            required
//   {arch}.attention.head_count_kv           default: head_count
//   {arch}.attention.key_length / .value_length   head size, default embedding_length / head_count; equal
//   {arch}.attention.layer_norm_rms_epsilon  llama, qwen2 (RMSNorm);  {arch}.attention.layer_norm_epsilon
//   gpt2 {arch}.rope.freq_base                    default 10000; {arch}.rope.dimension_count must be the head
//   size {arch}.vocab_size                        optional; must equal token_embd's row count
//   general.alignment (u32), general.name, general.file_type (0 all F32, 1 mostly F16, 7 mostly Q8_0)
// Refused with a message: RoPE scaling ({arch}.rope.scaling.type), rope_freqs.weight, experts.
//
// Tensors (ggml order ne = [inner, outer]; "N" is the layer):
//   token_embd.weight [d, vocab]   position_embd.weight [d, context] (gpt2)   output_norm.weight/.bias [d]
//   output.weight [d, vocab]       (absent: tied to token_embd)
//   blk.N.attn_norm.weight/.bias   blk.N.attn_q/attn_k/attn_v.weight [d, q_dim|kv_dim] (+ .bias: qwen2)
//   blk.N.attn_qkv.weight/.bias [d, 3d] (gpt2: rows Q, K, V)   blk.N.attn_output.weight/.bias [q_dim, d]
//   blk.N.ffn_norm.weight/.bias    blk.N.ffn_gate.weight [d, d_ff] (llama, qwen2)
//   blk.N.ffn_up.weight/.bias [d, d_ff]   blk.N.ffn_down.weight/.bias [d_ff, d]
// RoPE: "llama" files hold Q/K rows in Meta's interleaved-pair order (llama.cpp's converter permutes
// Hugging Face's rotate-half rows back); "qwen2" files hold them rotate-half (ggml runs NeoX RoPE).
//
// Tokenizer (all optional together; tokenizer.ggml.model says which kind):
//   tokenizer.ggml.model        "gpt2" (byte-level BPE) or "llama" (SentencePiece); "none"/"no": no tokenizer
//   tokenizer.ggml.pre          byte-level pre-tokenizer, llama.cpp's names ("gpt-2", "qwen2", "llama-bpe",
//                               "smollm", ...; absent: "gpt-2")
//   tokenizer.ggml.tokens       array of string, id order (must be valid UTF-8; count = token_embd's rows:
//                               the writer pads a smaller vocabulary with "[PAD<id>]" tokens, as llama.cpp's
//                               converter does)
//   tokenizer.ggml.scores       array of f32 (SentencePiece merge priority)
//   tokenizer.ggml.token_type   array of i32 (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6
//   byte) tokenizer.ggml.merges       array of string "a b" by rank (byte-level BPE; required there)
//   tokenizer.ggml.bos_token_id, eos_token_id, unknown_token_id, padding_token_id   u32
//   tokenizer.ggml.add_bos_token, add_space_prefix   bool (default: true for "llama", false for "gpt2")
namespace gguf_key {
inline constexpr const char* architecture = "general.architecture";
inline constexpr const char* name = "general.name";
inline constexpr const char* alignment = "general.alignment";
inline constexpr const char* file_type = "general.file_type";
inline constexpr const char* quantization_version = "general.quantization_version";
// Suffixes of "{arch}" keys.
inline constexpr const char* context_length = ".context_length";
inline constexpr const char* embedding_length = ".embedding_length";
inline constexpr const char* block_count = ".block_count";
inline constexpr const char* feed_forward_length = ".feed_forward_length";
inline constexpr const char* head_count = ".attention.head_count";
inline constexpr const char* head_count_kv = ".attention.head_count_kv";
inline constexpr const char* key_length = ".attention.key_length";
inline constexpr const char* value_length = ".attention.value_length";
inline constexpr const char* layer_norm_rms_epsilon = ".attention.layer_norm_rms_epsilon";
inline constexpr const char* layer_norm_epsilon = ".attention.layer_norm_epsilon";
inline constexpr const char* rope_freq_base = ".rope.freq_base";
inline constexpr const char* rope_dimension_count = ".rope.dimension_count";
inline constexpr const char* vocab_size = ".vocab_size";
// Tokenizer.
inline constexpr const char* tokenizer_model = "tokenizer.ggml.model";
inline constexpr const char* tokenizer_pre = "tokenizer.ggml.pre";
inline constexpr const char* tokenizer_tokens = "tokenizer.ggml.tokens";
inline constexpr const char* tokenizer_scores = "tokenizer.ggml.scores";
inline constexpr const char* tokenizer_token_type = "tokenizer.ggml.token_type";
inline constexpr const char* tokenizer_merges = "tokenizer.ggml.merges";
inline constexpr const char* bos_id = "tokenizer.ggml.bos_token_id";
inline constexpr const char* eos_id = "tokenizer.ggml.eos_token_id";
inline constexpr const char* unk_id = "tokenizer.ggml.unknown_token_id";
inline constexpr const char* pad_id = "tokenizer.ggml.padding_token_id";
inline constexpr const char* add_bos = "tokenizer.ggml.add_bos_token";
inline constexpr const char* add_space_prefix = "tokenizer.ggml.add_space_prefix";
}  // namespace gguf_key

namespace gguf_tensor {
inline constexpr const char* token_embd = "token_embd.weight";
inline constexpr const char* position_embd = "position_embd.weight";
inline constexpr const char* output = "output.weight";
}  // namespace gguf_tensor

// Writes a GGUF file (version 3) from metadata in the given order and tensors whose bytes are produced one
// at a time (so a large model is never held twice). write_gguf (writers.h) builds on this; tests use it to
// write damaged or unusual files on purpose. Atomic (path + ".tmp", then renamed).
struct GgufTensorToWrite {
    std::string name;
    std::vector<int64_t> ne;  // ggml order: innermost first
    uint32_t ggml_type = kGgmlTypeF32;
    uint64_t nbytes = 0;  // what `bytes` will produce
    std::function<Status(std::vector<uint8_t>&)> bytes;
};
Status write_gguf_file(const std::string& path,
                       const std::vector<std::pair<std::string, GgufValue>>& metadata,
                       const std::vector<GgufTensorToWrite>& tensors, uint64_t alignment = 32);

// llama.cpp's tensor names for model_assembly; with fused_qkv, blk.N.attn_qkv instead of attn_q/k/v.
WeightNames gguf_weight_names(bool fused_qkv);

// The tokenizer.ggml.* keys as a TokenizerData (nullopt when the file carries no tokenizer). Checks the
// arrays' types and lengths, that ids lie inside the vocabulary and that every token is valid UTF-8.
Result<std::optional<TokenizerData>> gguf_read_tokenizer(const GgufFile& file);

// Loads a model: architectures "llama" (RoPE in interleaved pairs: llama.cpp's converter permutes Hugging
// Face's Q/K rows back to Meta's layout), "qwen2" (rotate-half RoPE, Q/K/V biases) and "gpt2" (fused QKV,
// learned positions, LayerNorm), with llama.cpp's tensor names and hyperparameter keys. The tokenizer comes
// from the tokenizer.ggml.* keys when the file has them.
Result<std::shared_ptr<Model>> load_gguf(const std::string& path);

}  // namespace kvscope
