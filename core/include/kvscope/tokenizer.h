// tokenizer.h — text to token ids and back, exactly as the model's home library does it.
//
// Two families behind one interface:
//   - byte-level BPE (GPT-2, Qwen2, SmolLM2): a Unicode-aware pre-tokenizer regex (through PCRE2) splits
//     the text, bytes are mapped to printable code points, merges are applied by rank;
//   - SentencePiece-style BPE (Llama 2, llama2.c): pieces with scores, "▁" for spaces, byte fallback
//     pieces <0xNN> for bytes the vocabulary lacks.
// TokenizerData is the plain description both are built from; it mirrors GGUF's tokenizer.ggml.* keys so
// the same vocabulary can be read from tokenizer.json, vocab.json + merges.txt, tokenizer.bin or a GGUF
// and written back into a GGUF. A Tokenizer never throws; invalid UTF-8 in a prompt is an error.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kvscope/status.h"

namespace kvscope {

struct TokenizerData {
    enum class Kind { byte_bpe, sentencepiece_bpe };
    Kind kind = Kind::byte_bpe;
    std::string pre = "gpt2";         // pre-tokenizer pattern (byte_bpe): "gpt2", "qwen2", "smollm", ...
    std::vector<std::string> tokens;  // id -> piece as stored in the vocabulary
    std::vector<float> scores;        // sentencepiece_bpe: merge priority per piece
    std::vector<int32_t>
        token_types;  // GGUF token types (1 normal, 2 unknown, 3 control, 6 byte), may be empty
    std::vector<std::string> merges;  // byte_bpe: "a b" by rank
    int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
    bool add_bos = false;           // prepend BOS when encoding a prompt
    bool add_space_prefix = false;  // sentencepiece: prepend "▁" to the text (llama: true)
};

class Tokenizer {
  public:
    virtual ~Tokenizer() = default;

    // Human-readable kind: "byte-level BPE (gpt2 pre-tokenizer)", "SentencePiece BPE".
    virtual std::string describe() const = 0;
    // Encodes `text`; with add_special the model's BOS is prepended where the model wants it.
    virtual Result<std::vector<int32_t>> encode(std::string_view text, bool add_special = true) const = 0;
    // The raw bytes token `id` stands for (may be an incomplete UTF-8 sequence, e.g. one byte of "é").
    // `first` says whether it is the first token of the text (SentencePiece drops the leading space).
    virtual std::string token_bytes(int32_t id, bool first = false) const = 0;

    const TokenizerData& data() const { return m_data; }
    int vocab_size() const { return static_cast<int>(m_data.tokens.size()); }
    // The whole text of a sequence of ids; invalid byte sequences become U+FFFD.
    std::string decode(std::span<const int32_t> ids) const;

  protected:
    explicit Tokenizer(TokenizerData data) : m_data(std::move(data)) {}
    TokenizerData m_data;
};

// Turns tokens into text as they arrive, never splitting a UTF-8 character across two pieces of output:
// bytes of an unfinished character are held back until the token that completes it.
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

// Builds a tokenizer from its plain description; checks the ids and merges are consistent.
Result<std::shared_ptr<const Tokenizer>> make_tokenizer(TokenizerData data);

// Loads a tokenizer file: tokenizer.json, vocab.json (merges.txt beside it) or llama2.c's tokenizer.bin.
Result<std::shared_ptr<const Tokenizer>> load_tokenizer(const std::string& path);

}  // namespace kvscope
