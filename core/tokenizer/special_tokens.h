// special_tokens.h — finding added tokens ("<|endoftext|>", "<|im_start|>") written in a text, so they
// become their own ids instead of being split into pieces. As Hugging Face's AddedVocabulary: the leftmost
// match wins, and of the tokens matching there the longest.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvscope {

class AddedTokenMatcher {
  public:
    struct Segment {
        std::string_view text;  // a view into the text given to split()
        int32_t id;             // the added token's id, or -1 for plain text between added tokens
    };

    void add(std::string content, int32_t id);  // empty contents are ignored
    bool empty() const { return m_count == 0; }
    // Splits `text` into plain stretches and added tokens, in order; plain stretches are never empty.
    void split(std::string_view text, std::vector<Segment>& out) const;

  private:
    struct Entry {
        std::string content;
        int32_t id;
    };
    // Candidates by first byte, longest first, so the first that matches at a position is the longest.
    std::array<std::vector<Entry>, 256> m_by_first_byte;
    size_t m_count = 0;
};

}  // namespace kvscope
