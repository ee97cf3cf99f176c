// llama2c_tokenizer.cpp — llama2.c's tokenizer.bin, the Llama 2 SentencePiece vocabulary as run.c reads it.
//
// Layout (little-endian, no magic, no version, no token count: run.c reads as many tokens as the model's
// vocab_size, so a file cut at a token boundary can only be caught by comparing with the model):
//   int32  max_token_length           longest piece in bytes (run.c sizes its buffers with it)
//   then per token, in id order:
//     float32 score                   merge priority (higher merges first)
//     int32   length                  bytes of the piece, 0 <= length <= max_token_length
//     uint8   bytes[length]           the piece, with sentencepiece's "▁" written as a plain space
// Token types are not stored. llama2.c's export (tokenizer.py) follows sentencepiece's Llama model, which
// this reader checks on the pieces themselves: "<unk>" is the unknown piece (id 0), BOS and EOS are written
// "\n<s>\n" and "\n</s>\n" (ids 1 and 2), and "<0x00>".."<0xFF>" are the byte-fallback pieces (ids 3..258).
// The pieces are given back in sentencepiece's own spelling ("▁", "<s>") so the data matches a GGUF's.
// run.c prepends BOS to every prompt and Llama's sentencepiece model adds a dummy "▁" prefix: both are on.
#include <cmath>
#include <cstring>

#include "tokenizer/tokenizer_files.h"
#include "tokenizer/tokenizer_impl.h"
#include "util/mapped_file.h"

namespace kvscope {

namespace {

std::string spaces_to_meta(const std::string& piece) {
    std::string out;
    for (char c : piece) {
        if (c == ' ')
            out += "\xE2\x96\x81";
        else
            out += c;
    }
    return out;
}

}  // namespace

Result<TokenizerData> read_llama2c_tokenizer(const std::string& path) {
    auto mapped = MappedFile::open(path);
    if (!mapped) return mapped.status();
    const uint8_t* data = mapped.value()->data();
    const uint64_t size = mapped.value()->size();
    const auto read_i32 = [&](uint64_t at) {
        int32_t v;
        std::memcpy(&v, data + at, 4);
        return v;
    };

    if (size < 4)
        return Status::error(
            path + ": " + std::to_string(size) +
            " bytes is too short for llama2.c's tokenizer.bin (needs at least the 4-byte max_token_length)");
    const int32_t max_token_length = read_i32(0);
    if (max_token_length <= 0 || max_token_length > (1 << 20))
        return Status::error(
            path + ": max_token_length = " + std::to_string(max_token_length) +
            " at offset 0 is not a plausible piece length (is this llama2.c's tokenizer.bin?)");

    TokenizerData d;
    d.kind = TokenizerData::Kind::sentencepiece_bpe;
    uint64_t at = 4;
    while (at < size) {
        const size_t id = d.tokens.size();
        const std::string which = "token " + std::to_string(id);
        if (size - at < 8)
            return Status::error(path + ": truncated: " + which +
                                 " needs an 8-byte score and length at offset " + std::to_string(at) +
                                 ", the file has " + std::to_string(size - at) + " bytes left");
        float score;
        std::memcpy(&score, data + at, 4);
        const int32_t length = read_i32(at + 4);
        if (!std::isfinite(score))
            return Status::error(path + ": " + which + " at offset " + std::to_string(at) +
                                 " has a score that is not a finite number");
        if (length < 0 || length > max_token_length)
            return Status::error(path + ": " + which + " at offset " + std::to_string(at + 4) +
                                 " has length " + std::to_string(length) + ", outside 0.." +
                                 std::to_string(max_token_length) + " (max_token_length)");
        at += 8;
        if (size - at < static_cast<uint64_t>(length))
            return Status::error(path + ": truncated: " + which + " needs " + std::to_string(length) +
                                 " bytes at offset " + std::to_string(at) + ", the file has " +
                                 std::to_string(size - at));
        std::string piece(reinterpret_cast<const char*>(data + at), static_cast<size_t>(length));
        at += static_cast<uint64_t>(length);

        TokenType type = TokenType::normal;
        if (piece == "<unk>") {
            type = TokenType::unknown;
            if (d.unk_id < 0) d.unk_id = static_cast<int32_t>(id);
        } else if (piece == "\n<s>\n" || piece == "<s>") {
            type = TokenType::control;
            piece = "<s>";
            if (d.bos_id < 0) d.bos_id = static_cast<int32_t>(id);
        } else if (piece == "\n</s>\n" || piece == "</s>") {
            type = TokenType::control;
            piece = "</s>";
            if (d.eos_id < 0) d.eos_id = static_cast<int32_t>(id);
        } else if (byte_piece_value(piece) >= 0) {
            type = TokenType::byte;
        } else {
            piece = spaces_to_meta(piece);
        }
        d.tokens.push_back(std::move(piece));
        d.scores.push_back(score);
        d.token_types.push_back(static_cast<int32_t>(type));
    }
    if (d.tokens.empty()) return Status::error(path + ": holds max_token_length but no tokens");
    if (d.bos_id < 0)
        return Status::error(path +
                             ": has no BOS piece (\"\\n<s>\\n\"), which llama2.c prepends to every prompt");
    d.add_bos = true;
    d.add_space_prefix = true;
    return d;
}

}  // namespace kvscope
