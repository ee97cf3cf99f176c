// factory.cpp — building tokenizers from their description or files.
// (The byte-level BPE and SentencePiece implementations land with issue "GGUF files and real tokenizers".)
#include "kvscope/tokenizer.h"

namespace kvscope {

Result<std::shared_ptr<const Tokenizer>> make_tokenizer(TokenizerData) {
    return Status::error("tokenizers are not implemented yet");
}

Result<std::shared_ptr<const Tokenizer>> load_tokenizer(const std::string& path) {
    return Status::error(path + ": tokenizers are not implemented yet");
}

}  // namespace kvscope
