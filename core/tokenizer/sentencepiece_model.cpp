// sentencepiece_model.cpp — sentencepiece's tokenizer.model (the file Llama 2 ships and Hugging Face Llama
// folders carry), read straight from its protocol-buffer encoding.
//
// The file is one ModelProto message (sentencepiece_model.proto). Protobuf wire format: each field is a
// varint key (field_number << 3 | wire_type) and then a varint (type 0), 8 bytes (type 1), a varint
// length and that many bytes (type 2) or 4 bytes (type 5). The fields read here:
//   ModelProto      1 pieces (repeated SentencePiece)   2 trainer_spec   3 normalizer_spec
//   SentencePiece   1 piece (string)   2 score (float)   3 type (enum: 1 normal, 2 unknown, 3 control,
//                   4 user defined, 5 unused, 6 byte — the same numbers as GGUF's token types)
//   TrainerSpec     3 model_type (1 unigram, 2 BPE, 3 word, 4 char)   35 byte_fallback
//                   40 unk_id   41 bos_id   42 eos_id   43 pad_id   (int32, -1 when absent)
//   NormalizerSpec  1 name   3 add_dummy_prefix (default true)   4 remove_extra_whitespaces (default true)
//                   5 escape_whitespaces (default true)
// Only what KVScope runs is accepted: BPE models with the "identity" normalizer, no whitespace collapsing
// and spaces escaped as "▁" (Llama 2's settings); anything else is refused by name rather than mis-tokenized.
// Hugging Face's LlamaTokenizer prepends BOS, as does llama.cpp for these models: add_bos is on.
#include <cstring>

#include "tokenizer/tokenizer_files.h"
#include "util/mapped_file.h"

namespace kvscope {

namespace {

class WireReader {
  public:
    WireReader(const uint8_t* data, uint64_t size, uint64_t base)
        : m_data(data), m_size(size), m_base(base) {}

    bool done() const { return m_at >= m_size; }
    uint64_t offset() const { return m_base + m_at; }  // in the file, for messages

    bool varint(uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_at >= m_size) return false;
            const uint8_t b = m_data[m_at++];
            v |= static_cast<uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) return true;
        }
        return false;
    }
    struct Field {
        uint32_t number;
        uint32_t wire_type;
        uint64_t value;                  // varint / fixed
        const uint8_t* bytes = nullptr;  // length-delimited
        uint64_t length = 0;
        uint64_t offset = 0;  // of the payload, in the file
    };
    // Reads the next field; false (with `error` set) on malformed input.
    bool next(Field& f, std::string& error) {
        const uint64_t start = offset();
        uint64_t key;
        if (!varint(key)) return fail(error, start, "a field key");
        f.number = static_cast<uint32_t>(key >> 3);
        f.wire_type = static_cast<uint32_t>(key & 7);
        switch (f.wire_type) {
            case 0:
                if (!varint(f.value)) return fail(error, start, "a varint");
                return true;
            case 1:
            case 5: {
                const uint64_t n = f.wire_type == 1 ? 8 : 4;
                if (m_size - m_at < n) return fail(error, start, "a fixed-size value");
                f.value = 0;
                std::memcpy(&f.value, m_data + m_at, n);
                m_at += n;
                return true;
            }
            case 2:
                if (!varint(f.length) || m_size - m_at < f.length)
                    return fail(error, start, "a length-delimited field");
                f.bytes = m_data + m_at;
                f.offset = offset();
                m_at += f.length;
                return true;
            default:
                error = "field " + std::to_string(f.number) + " at offset " + std::to_string(start) +
                        " has wire type " + std::to_string(f.wire_type) + ", which protobuf does not define";
                return false;
        }
    }

  private:
    bool fail(std::string& error, uint64_t at, const char* what) {
        error = "truncated or malformed protobuf: " + std::string(what) + " at offset " + std::to_string(at) +
                " runs past its message";
        return false;
    }
    const uint8_t* m_data;
    uint64_t m_size, m_base, m_at = 0;
};

int32_t as_int32(uint64_t v) {
    return static_cast<int32_t>(static_cast<uint32_t>(v));
}

}  // namespace

Result<TokenizerData> read_sentencepiece_model(const std::string& path) {
    auto mapped = MappedFile::open(path);
    if (!mapped) return mapped.status();
    WireReader model(mapped.value()->data(), mapped.value()->size(), 0);

    TokenizerData d;
    d.kind = TokenizerData::Kind::sentencepiece_bpe;
    int model_type = 1;  // unigram is sentencepiece's default
    bool byte_fallback = false, add_dummy_prefix = true, remove_extra_whitespaces = true,
         escape_whitespaces = true;
    std::string normalizer_name = "nmt_nfkc";
    int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
    std::string error;
    WireReader::Field f;
    while (!model.done()) {
        if (!model.next(f, error)) return Status::error(path + ": " + error);
        if (f.wire_type != 2) continue;
        WireReader sub(f.bytes, f.length, f.offset);
        WireReader::Field g;
        if (f.number == 1) {
            std::string piece;
            float score = 0.0f;
            int32_t type = 1;
            while (!sub.done()) {
                if (!sub.next(g, error))
                    return Status::error(path + ": piece " + std::to_string(d.tokens.size()) + ": " + error);
                if (g.number == 1 && g.wire_type == 2)
                    piece.assign(reinterpret_cast<const char*>(g.bytes), g.length);
                else if (g.number == 2 && g.wire_type == 5)
                    std::memcpy(&score, &g.value, 4);
                else if (g.number == 3 && g.wire_type == 0)
                    type = as_int32(g.value);
            }
            d.tokens.push_back(std::move(piece));
            d.scores.push_back(score);
            d.token_types.push_back(type);
        } else if (f.number == 2) {
            while (!sub.done()) {
                if (!sub.next(g, error)) return Status::error(path + ": trainer_spec: " + error);
                if (g.wire_type != 0) continue;
                if (g.number == 3)
                    model_type = as_int32(g.value);
                else if (g.number == 35)
                    byte_fallback = g.value != 0;
                else if (g.number == 40)
                    unk_id = as_int32(g.value);
                else if (g.number == 41)
                    bos_id = as_int32(g.value);
                else if (g.number == 42)
                    eos_id = as_int32(g.value);
                else if (g.number == 43)
                    pad_id = as_int32(g.value);
            }
        } else if (f.number == 3) {
            while (!sub.done()) {
                if (!sub.next(g, error)) return Status::error(path + ": normalizer_spec: " + error);
                if (g.number == 1 && g.wire_type == 2)
                    normalizer_name.assign(reinterpret_cast<const char*>(g.bytes), g.length);
                else if (g.number == 3 && g.wire_type == 0)
                    add_dummy_prefix = g.value != 0;
                else if (g.number == 4 && g.wire_type == 0)
                    remove_extra_whitespaces = g.value != 0;
                else if (g.number == 5 && g.wire_type == 0)
                    escape_whitespaces = g.value != 0;
            }
        }
    }
    if (d.tokens.empty()) return Status::error(path + ": holds no pieces (is this a sentencepiece model?)");
    static const char* kModelTypes[] = {"?", "unigram", "BPE", "word", "char"};
    if (model_type != 2)
        return Status::error(
            path + ": a sentencepiece " +
            std::string(model_type >= 1 && model_type <= 4 ? kModelTypes[model_type] : "unknown-type") +
            " model; KVScope runs BPE models only (Llama 2's)");
    if (normalizer_name != "identity")
        return Status::error(
            path + ": normalizer \"" + normalizer_name +
            "\" is not supported (KVScope runs the \"identity\" normalizer, as Llama 2 uses)");
    if (remove_extra_whitespaces)
        return Status::error(path +
                             ": remove_extra_whitespaces = true is not supported (Llama 2 keeps spaces)");
    if (!escape_whitespaces)
        return Status::error(path +
                             ": escape_whitespaces = false is not supported (spaces must become \"▁\")");
    const auto n = static_cast<int32_t>(d.tokens.size());
    const auto id_or_none = [n](int32_t id) { return id >= 0 && id < n ? id : -1; };
    d.unk_id = id_or_none(unk_id);
    d.bos_id = id_or_none(bos_id);
    d.eos_id = id_or_none(eos_id);
    d.pad_id = id_or_none(pad_id);
    // KVScope falls back to bytes whenever <0xNN> pieces exist (as llama.cpp does), so the two must agree.
    if (!byte_fallback)
        for (size_t id = 0; id < d.token_types.size(); ++id)
            if (d.token_types[id] == 6)
                return Status::error(path + ": piece " + std::to_string(id) + " (\"" + d.tokens[id] +
                                     "\") is a byte piece but byte_fallback is off, which is not supported");
    d.add_bos = d.bos_id >= 0;
    d.add_space_prefix = add_dummy_prefix;
    return d;
}

}  // namespace kvscope
