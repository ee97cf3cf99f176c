// tokenizer.h — text to token ids and back, exactly as the model's home library does it.
//
// Two families behind one interface:
//   - byte-level BPE (GPT-2, Qwen2, SmolLM2, Llama 3): a Unicode-aware pre-tokenizer regex (through PCRE2)
//     splits the text, bytes are mapped to printable code points as GPT-2 does, merges are applied by rank;
//   - SentencePiece-style BPE (Llama 2, llama2.c): pieces with scores, "▁" for spaces, the highest-scoring
//     adjacent pair merged first, byte fallback pieces <0xNN> for characters the vocabulary lacks.
// TokenizerData is the plain description both are built from; it mirrors GGUF's tokenizer.ggml.* keys so
// the same vocabulary can be read from tokenizer.json, vocab.json + merges.txt, tokenizer.bin,
// tokenizer.model or a GGUF, and written back into a GGUF: make_tokenizer(tok->data()) rebuilds the same
// tokenizer. A Tokenizer never throws and never crashes on bad input: invalid UTF-8 in a prompt is an
// error naming the byte offset, an unknown id decodes to U+FFFD.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kvscope/status.h"

namespace kvscope {

// GGUF's tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
    undefined = 0,
    normal = 1,
    unknown = 2,       // the <unk> piece
    control = 3,       // BOS, EOS, <|endoftext|>, <|im_start|>: never produced from plain text by BPE
    user_defined = 4,  // added tokens matched whole in the text
    unused = 5,
    byte = 6,  // SentencePiece byte fallback <0xNN>
};

struct TokenizerData {
    enum class Kind { byte_bpe, sentencepiece_bpe };
    Kind kind = Kind::byte_bpe;  // GGUF tokenizer.ggml.model: "gpt2" / "llama"
    // byte_bpe: the pre-tokenizer, by llama.cpp's tokenizer.ggml.pre name: "gpt-2" (also "gpt2", ""),
    // "qwen2", "llama-bpe" (Llama 3), "smollm" (SmolLM/SmolLM2, StarCoder); supported_pre_tokenizers()
    // lists them all. The name decides the regexes and whether whole words skip the merges (Llama 3).
    std::string pre = "gpt-2";
    std::vector<std::string> tokens;   // id -> piece as stored in the vocabulary (byte_bpe: byte-mapped)
    std::vector<float> scores;         // sentencepiece_bpe: merge priority per piece (higher merges first)
    std::vector<int32_t> token_types;  // TokenType per id; may be empty (then every token is normal,
                                       // except sentencepiece's unk, BOS/EOS and <0xNN> pieces)
    std::vector<std::string> merges;   // byte_bpe: "left right" by rank (rank 0 merges first)
    int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
    bool add_bos = false;           // prepend BOS when encoding a prompt with add_special
    bool add_space_prefix = false;  // prepend a space to the text (sentencepiece's add_dummy_prefix;
                                    // byte_bpe: ByteLevel's add_prefix_space)
    // Unicode normalization applied to the text first: "" (none) or "nfc" (Qwen2's tokenizer.json). GGUF has
    // no key for it (llama.cpp does not normalize), so a GGUF round trip keeps llama.cpp's behaviour.
    std::string normalizer;
};

class Tokenizer {
  public:
    virtual ~Tokenizer() = default;

    // Human-readable kind: "byte-level BPE (gpt-2 pre-tokenizer)", "SentencePiece BPE".
    virtual std::string describe() const = 0;
    // Encodes `text` (which must be valid UTF-8); with add_special the model's BOS is prepended where the
    // model wants it (data().add_bos). Special and added tokens written in the text ("<|endoftext|>") are
    // matched whole where the model's own tokenizer does so (byte-level BPE: every added token;
    // SentencePiece: user-defined pieces only, as sentencepiece does).
    virtual Result<std::vector<int32_t>> encode(std::string_view text, bool add_special = true) const = 0;
    // The raw bytes token `id` stands for (may be an incomplete UTF-8 sequence, e.g. one byte of "é").
    // `first` says whether it is the first token of the text (SentencePiece drops the leading space it
    // added). Control tokens (BOS, EOS) stand for nothing; an id outside the vocabulary gives U+FFFD.
    virtual std::string token_bytes(int32_t id, bool first = false) const = 0;

    const TokenizerData& data() const { return m_data; }
    int vocab_size() const { return static_cast<int>(m_data.tokens.size()); }
    TokenType token_type(int32_t id) const;
    // The whole text of a sequence of ids; invalid byte sequences become U+FFFD (one per maximal invalid
    // subpart, as Python's and Rust's lossy UTF-8 decoding do).
    std::string decode(std::span<const int32_t> ids) const;

  protected:
    explicit Tokenizer(TokenizerData data) : m_data(std::move(data)) {}
    TokenizerData m_data;
};

// Turns tokens into text as they arrive, never splitting a UTF-8 character across two pieces of output:
// bytes of an unfinished character are held back until the token that completes it. The concatenation of
// every push() and the final flush() equals decode() of the same ids.
class StreamingDecoder {
  public:
    explicit StreamingDecoder(const Tokenizer& tokenizer) : m_tokenizer(&tokenizer) {}
    std::string push(int32_t id);  // text completed by this token (may be empty)
    std::string flush();           // whatever is held back, invalid bytes as U+FFFD
    void reset();

  private:
    const Tokenizer* m_tokenizer;
    std::string m_pending;
    bool m_first = true;
};

// Builds a tokenizer from its plain description; checks that the ids, types, scores and merges are
// consistent and names the first thing that is not.
Result<std::shared_ptr<const Tokenizer>> make_tokenizer(TokenizerData data);

// Loads a tokenizer file: tokenizer.json (Hugging Face), vocab.json (merges.txt beside it), llama2.c's
// tokenizer.bin, sentencepiece's tokenizer.model, or the tokenizer inside a GGUF model (its header only).
// A folder loads the first of those it holds.
Result<std::shared_ptr<const Tokenizer>> load_tokenizer(const std::string& path);

// Whether `bytes` are whole, valid UTF-8 characters (a token's bytes may be one byte of "é").
bool is_valid_utf8(std::string_view bytes);

// The byte_bpe pre-tokenizer names make_tokenizer accepts, canonical names first.
std::vector<std::string> supported_pre_tokenizers();

}  // namespace kvscope
