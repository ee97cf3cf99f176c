// bpe_tokenizer.cpp — byte-level BPE as GPT-2, Qwen2, SmolLM2 and Llama 3 tokenize (Hugging Face
// tokenizers' BPE model behind a ByteLevel pre-tokenizer).
//
// encode: check UTF-8 -> optional NFC -> cut out added tokens ("<|endoftext|>") -> split each stretch into
// words with the pre-tokenizer regexes -> map each word's bytes to their GPT-2 characters' tokens -> merge
// adjacent pairs, always the pair of lowest merge rank first (leftmost on ties), until no pair has a rank.
// Words repeat a lot in real text, so each call keeps the ids of the words it has already merged.
#include <algorithm>
#include <array>
#include <queue>

#include "tokenizer/byte_level.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace kvscope {

namespace {

struct MergeRule {
    int32_t rank;
    int32_t merged;  // id of left + right
};

uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

class ByteLevelBpeTokenizer final : public Tokenizer {
  public:
    explicit ByteLevelBpeTokenizer(TokenizerData data) : Tokenizer(std::move(data)) {}

    Status init();
    std::string describe() const override {
        std::string d = "byte-level BPE (" + m_pre_name + " pre-tokenizer";
        if (m_data.normalizer == "nfc") d += ", NFC";
        return d + ")";
    }
    Result<std::vector<int32_t>> encode(std::string_view text, bool add_special) const override;
    std::string token_bytes(int32_t id, bool first) const override;

  private:
    Status encode_word(std::string_view word, size_t offset, std::vector<int32_t>& out) const;

    std::string m_pre_name;
    bool m_ignore_merges = false;
    std::unique_ptr<RegexSplitter> m_splitter;
    TokenIndex m_index;
    std::unordered_map<uint64_t, MergeRule> m_merges;  // (left id, right id) -> rank and result
    std::array<int32_t, 256> m_byte_token{};           // byte -> id of its one-character token, or -1
    std::vector<std::string> m_bytes;                  // id -> the bytes it decodes to
    AddedTokenMatcher m_added;
};

Status ByteLevelBpeTokenizer::init() {
    const PreTokenizerSpec* spec = find_pre_tokenizer(m_data.pre);
    if (!spec)
        return Status::error("unknown pre-tokenizer \"" + m_data.pre + "\"");  // checked by make_tokenizer
    m_pre_name = spec->names.front();
    m_ignore_merges = spec->ignore_merges;
    auto splitter = RegexSplitter::compile(spec->regexes);
    if (!splitter) return splitter.status();
    m_splitter = std::move(splitter.value());

    const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::get();
    const int32_t n = vocab_size();
    m_index.reserve(static_cast<size_t>(n));
    m_bytes.resize(static_cast<size_t>(n));
    for (int32_t id = 0; id < n; ++id) {
        const std::string& piece = m_data.tokens[static_cast<size_t>(id)];
        m_index.emplace(piece, id);  // a repeated piece keeps its first id
        const TokenType type = type_of(m_data, id);
        if (type == TokenType::control || type == TokenType::user_defined) {
            // Added tokens are written as themselves, not in the byte alphabet; control ones print nothing.
            m_added.add(piece, id);
            if (type == TokenType::user_defined) m_bytes[static_cast<size_t>(id)] = piece;
            continue;
        }
        std::string& bytes = m_bytes[static_cast<size_t>(id)];
        for (size_t i = 0; i < piece.size();) {
            int len = 1;
            const uint32_t cp = utf8_decode_at(piece, i, &len);
            const int b = alphabet.byte_of(cp);
            if (b >= 0)
                bytes += static_cast<char>(b);
            else
                bytes.append(piece, i, static_cast<size_t>(len));  // not a byte character: keep it as text
            i += static_cast<size_t>(len);
        }
    }
    for (int b = 0; b < 256; ++b) {
        auto it = m_index.find(alphabet.byte_to_utf8[static_cast<size_t>(b)]);
        m_byte_token[static_cast<size_t>(b)] = it == m_index.end() ? -1 : it->second;
    }

    m_merges.reserve(m_data.merges.size());
    for (size_t rank = 0; rank < m_data.merges.size(); ++rank) {
        const std::string& merge = m_data.merges[rank];
        const std::string where = "merge " + std::to_string(rank) + " (\"" + merge + "\")";
        // Split at the first space after the first character, as llama.cpp does, so a token may start with
        // one.
        const size_t space = merge.find(' ', 1);
        if (space == std::string::npos || space + 1 >= merge.size())
            return Status::error(where + " is not two tokens separated by a space");
        const std::string_view left(merge.data(), space),
            right(merge.data() + space + 1, merge.size() - space - 1);
        const auto l = m_index.find(left), r = m_index.find(right);
        if (l == m_index.end())
            return Status::error(where + " names \"" + std::string(left) +
                                 "\", which is not in the vocabulary");
        if (r == m_index.end())
            return Status::error(where + " names \"" + std::string(right) +
                                 "\", which is not in the vocabulary");
        const auto m = m_index.find(std::string(left) + std::string(right));
        if (m == m_index.end())
            return Status::error(where + " makes \"" + std::string(left) + std::string(right) +
                                 "\", which is not in the vocabulary");
        // A pair listed twice keeps its first (lowest) rank, as Hugging Face's map from pairs to ranks does.
        m_merges.emplace(pair_key(l->second, r->second), MergeRule{static_cast<int32_t>(rank), m->second});
    }
    return Status::ok();
}

Status ByteLevelBpeTokenizer::encode_word(std::string_view word, size_t offset,
                                          std::vector<int32_t>& out) const {
    const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::get();
    if (m_ignore_merges) {
        std::string mapped;
        for (char c : word)
            mapped += alphabet.byte_to_utf8[static_cast<unsigned char>(c)];
        if (auto it = m_index.find(mapped); it != m_index.end()) {
            out.push_back(it->second);
            return Status::ok();
        }
    }
    struct Symbol {
        int32_t id;
        int32_t prev, next;  // neighbours still alive, -1 at the ends
    };
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    for (size_t i = 0; i < word.size(); ++i) {
        const auto b = static_cast<unsigned char>(word[i]);
        int32_t id = m_byte_token[b];
        if (id < 0) {
            if (m_data.unk_id < 0) {
                static const char* digits = "0123456789ABCDEF";
                return Status::error(
                    std::string("byte 0x") + digits[b >> 4] + digits[b & 15] + " at offset " +
                    std::to_string(offset + i) +
                    " has no token in the vocabulary (and the vocabulary has no unknown token)");
            }
            id = m_data.unk_id;
        }
        const auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back({id, index - 1, static_cast<int32_t>(i + 1 < word.size() ? index + 1 : -1)});
    }

    struct Candidate {
        int32_t rank, left, right;  // rank of the merge; positions of the pair in `symbols`
        int32_t left_id, right_id, merged;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    const auto consider = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const auto it = m_merges.find(pair_key(symbols[size_t(left)].id, symbols[size_t(right)].id));
        if (it == m_merges.end()) return;
        queue.push({it->second.rank, left, right, symbols[size_t(left)].id, symbols[size_t(right)].id,
                    it->second.merged});
    };
    for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i)
        consider(i, i + 1);

    std::vector<bool> alive(symbols.size(), true);
    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& left = symbols[size_t(c.left)];
        Symbol& right = symbols[size_t(c.right)];
        // Stale when either side has merged with something else since the pair was queued.
        if (!alive[size_t(c.left)] || !alive[size_t(c.right)] || left.next != c.right ||
            left.id != c.left_id || right.id != c.right_id)
            continue;
        left.id = c.merged;
        left.next = right.next;
        if (right.next >= 0) symbols[size_t(right.next)].prev = c.left;
        alive[size_t(c.right)] = false;
        consider(left.prev, c.left);
        consider(c.left, left.next);
    }
    for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[size_t(i)].next)
        out.push_back(symbols[size_t(i)].id);
    return Status::ok();
}

Result<std::vector<int32_t>> ByteLevelBpeTokenizer::encode(std::string_view text, bool add_special) const {
    // No exception leaves a tokenizer (an allocation failure on a huge prompt ends as an error).
    return catch_exceptions("tokenizer", [&]() -> Result<std::vector<int32_t>> {
        std::string normalized;
        std::vector<int32_t> ids;
        auto begun = begin_encode(m_data, text, add_special, normalized, ids);
        if (!begun) return begun.status();
        text = begun.value();

        std::vector<AddedTokenMatcher::Segment> segments;
        m_added.split(text, segments);
        std::unordered_map<std::string_view, std::pair<size_t, size_t>>
            cache;  // word -> [begin, end) in `ids`
        std::vector<std::string_view> words;
        std::string prefixed;
        for (const auto& segment : segments) {
            if (segment.id >= 0) {
                ids.push_back(segment.id);
                continue;
            }
            std::string_view stretch = segment.text;
            const size_t offset =
                static_cast<size_t>(stretch.data() - text.data());  // where it is in the text
            size_t added = 0;
            if (m_data.add_space_prefix && stretch.front() != ' ') {
                // ByteLevel's add_prefix_space: every stretch it is given starts with a space.
                prefixed.assign(1, ' ');
                prefixed.append(stretch);
                stretch = prefixed;
                added = 1;
            }
            words.clear();
            KVSCOPE_TRY(m_splitter->split(stretch, words));
            for (std::string_view word : words) {
                if (auto it = cache.find(word); it != cache.end()) {
                    const auto [begin, end] = it->second;
                    for (size_t k = begin; k < end; ++k) {
                        const int32_t id = ids[k];
                        ids.push_back(id);
                    }
                    continue;
                }
                const size_t begin = ids.size();
                const size_t in_stretch = static_cast<size_t>(word.data() - stretch.data());
                KVSCOPE_TRY(encode_word(word, offset + (in_stretch >= added ? in_stretch - added : 0), ids));
                // Views into `prefixed` die with the next stretch; only words of the text itself are cached.
                if (stretch.data() != prefixed.data()) cache.emplace(word, std::make_pair(begin, ids.size()));
            }
        }
        return ids;
    });
}

std::string ByteLevelBpeTokenizer::token_bytes(int32_t id, bool) const {
    if (id < 0 || id >= vocab_size()) return "\xEF\xBF\xBD";
    return m_bytes[static_cast<size_t>(id)];
}

}  // namespace

Result<std::shared_ptr<const Tokenizer>> make_byte_bpe_tokenizer(TokenizerData data) {
    auto tokenizer = std::make_shared<ByteLevelBpeTokenizer>(std::move(data));
    KVSCOPE_TRY(tokenizer->init());
    return std::shared_ptr<const Tokenizer>(std::move(tokenizer));
}

}  // namespace kvscope
