// tokenizer_files.h — the readers that turn tokenizer files into a TokenizerData (each file's layout is
// described at the top of its reader), and the Hugging Face folder logic shared by load_tokenizer() and
// load_hf_folder().
#pragma once

#include <memory>
#include <string>

#include "kvscope/tokenizer.h"

namespace kvscope {

// Hugging Face tokenizers' tokenizer.json (hf_tokenizer_json.cpp).
Result<TokenizerData> read_hf_tokenizer_json(const std::string& path);
// GPT-2's vocab.json + merges.txt (hf_tokenizer_json.cpp).
Result<TokenizerData> read_vocab_and_merges(const std::string& vocab_path, const std::string& merges_path);
// llama2.c's tokenizer.bin (llama2c_tokenizer.cpp).
Result<TokenizerData> read_llama2c_tokenizer(const std::string& path);
// sentencepiece's tokenizer.model, a ModelProto (sentencepiece_model.cpp).
Result<TokenizerData> read_sentencepiece_model(const std::string& path);

// Puts a Hugging Face added token (tokenizer.json's added_tokens, tokenizer_config.json's
// added_tokens_decoder) at `id`: special ones become control tokens, the others user-defined; an id past
// the vocabulary extends it. `where` prefixes errors.
Status add_hf_added_token(TokenizerData& data, int64_t id, const std::string& content, bool special,
                          const std::string& where);

// The tokenizer of a Hugging Face model folder (hf_tokenizer_folder.cpp): tokenizer.json, else
// tokenizer.model, else vocab.json + merges.txt, with the special tokens and add_bos_token that
// tokenizer_config.json, special_tokens_map.json and config.json give. Null (not an error) when the
// folder holds none of those files.
Result<std::shared_ptr<const Tokenizer>> load_hf_folder_tokenizer(const std::string& dir);

}  // namespace kvscope
