// spm_tokenizer.cpp — SentencePiece-style BPE as Llama 2 and llama2.c tokenize (sentencepiece's
// bpe_model.cc with the "identity" normalizer Llama uses).
//
// encode: check UTF-8 -> optional NFC -> spaces become "▁" and, with add_dummy_prefix, one "▁" goes in
// front -> user-defined pieces are cut out whole -> each stretch starts as one symbol per character ->
// repeatedly merge the adjacent pair whose concatenation is the highest-scoring piece (leftmost on ties;
// normal, user-defined and unused pieces may be formed, never control, unknown or byte pieces) -> a final
// symbol that is an unused piece is split back into the pair that made it; one that is not a piece (a
// character the vocabulary lacks) becomes its bytes' <0xNN> pieces (byte fallback), or <unk> without them.
#include <array>
#include <queue>
#include <unordered_set>

#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace kvscope {

namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // "▁" (U+2581)
// What sentencepiece prints for <unk>: " ⁇ ".
constexpr std::string_view kUnknownSurface = " \xE2\x81\x87 ";

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        if (s.compare(i, from.size(), from) == 0) {
            out += to;
            i += from.size();
        } else {
            out += s[i++];
        }
    }
    return out;
}

class SentencePieceBpeTokenizer final : public Tokenizer {
  public:
    explicit SentencePieceBpeTokenizer(TokenizerData data) : Tokenizer(std::move(data)) {}

    void init();
    std::string describe() const override {
        return m_data.normalizer == "nfc" ? "SentencePiece BPE (NFC)" : "SentencePiece BPE";
    }
    Result<std::vector<int32_t>> encode(std::string_view text, bool add_special) const override;
    std::string token_bytes(int32_t id, bool first) const override;

  private:
    using UnusedSplits = std::unordered_map<std::string, std::pair<std::string, std::string>>;
    Status encode_stretch(std::string_view stretch, std::vector<int32_t>& out) const;
    Status merge_run(std::string_view run, std::vector<int32_t>& out) const;
    Status emit_piece(std::string_view piece, const UnusedSplits& splits, std::vector<int32_t>& out) const;

    TokenIndex m_mergeable;                      // pieces a merge may form: normal, user-defined, unused
    std::unordered_set<uint32_t> m_piece_chars;  // every character of those pieces
    TokenIndex m_all;                            // every piece
    std::array<int32_t, 256> m_byte_piece{};     // byte -> id of <0xNN>, or -1
    std::vector<std::string> m_bytes;       // id -> bytes ("▁" as a space); control pieces print nothing
    std::vector<bool> m_strip_first_space;  // id -> drop the leading space when it starts the text
    AddedTokenMatcher m_user_defined;
};

void SentencePieceBpeTokenizer::init() {
    const int32_t n = vocab_size();
    m_byte_piece.fill(-1);
    m_bytes.resize(static_cast<size_t>(n));
    m_strip_first_space.assign(static_cast<size_t>(n), false);
    for (int32_t id = 0; id < n; ++id) {
        const std::string& piece = m_data.tokens[static_cast<size_t>(id)];
        m_all.emplace(piece, id);
        std::string& bytes = m_bytes[static_cast<size_t>(id)];
        switch (type_of(m_data, id)) {
            case TokenType::control:
                break;
            case TokenType::unknown:
                bytes = kUnknownSurface;
                break;
            case TokenType::byte: {
                const int b = byte_piece_value(piece);
                if (b >= 0) {
                    bytes = std::string(1, static_cast<char>(b));
                    if (m_byte_piece[static_cast<size_t>(b)] < 0) m_byte_piece[static_cast<size_t>(b)] = id;
                }
                break;
            }
            case TokenType::user_defined:
                m_user_defined.add(piece, id);
                [[fallthrough]];
            default:
                m_mergeable.emplace(piece, id);
                for (size_t i = 0; i < piece.size();) {
                    int length = 1;
                    m_piece_chars.insert(utf8_decode_at(piece, i, &length));
                    i += static_cast<size_t>(length);
                }
                bytes = replace_all(piece, kSpaceSymbol, " ");
                m_strip_first_space[static_cast<size_t>(id)] =
                    m_data.add_space_prefix && piece.compare(0, kSpaceSymbol.size(), kSpaceSymbol) == 0;
        }
    }
}

Status SentencePieceBpeTokenizer::emit_piece(std::string_view piece, const UnusedSplits& splits,
                                             std::vector<int32_t>& out) const {
    const auto it = m_all.find(piece);
    if (it != m_all.end() && it->second != m_data.unk_id) {
        const TokenType type = type_of(m_data, it->second);
        const auto split = type == TokenType::unused ? splits.find(std::string(piece)) : splits.end();
        if (split == splits.end()) {
            out.push_back(it->second);
            return Status::ok();
        }
        // An unused piece is never output: undo the merge that made it (sentencepiece's resegment).
        KVSCOPE_TRY(emit_piece(split->second.first, splits, out));
        return emit_piece(split->second.second, splits, out);
    }
    // Not in the vocabulary (only single characters get here): byte fallback, else <unk>.
    bool all_bytes = true;
    for (char c : piece)
        all_bytes = all_bytes && m_byte_piece[static_cast<unsigned char>(c)] >= 0;
    if (all_bytes) {
        for (char c : piece)
            out.push_back(m_byte_piece[static_cast<unsigned char>(c)]);
    } else if (m_data.unk_id >= 0) {
        out.push_back(m_data.unk_id);
    } else {
        return Status::error("the character \"" + std::string(piece) +
                             "\" has no piece, no byte-fallback pieces and the vocabulary has no <unk>");
    }
    return Status::ok();
}

// A character that no mergeable piece contains can never be merged with anything, so the stretch splits
// around it into runs that merge independently: the same pieces as one pass over the whole stretch (the
// order of merges inside a run does not depend on other runs), with small queues for long texts.
Status SentencePieceBpeTokenizer::encode_stretch(std::string_view stretch, std::vector<int32_t>& out) const {
    static const UnusedSplits kNoSplits;
    size_t run_start = 0;
    for (size_t i = 0; i < stretch.size();) {
        int length = 1;
        const uint32_t cp = utf8_decode_at(stretch, i, &length);
        if (!m_piece_chars.contains(cp)) {
            KVSCOPE_TRY(merge_run(stretch.substr(run_start, i - run_start), out));
            KVSCOPE_TRY(emit_piece(stretch.substr(i, size_t(length)), kNoSplits, out));
            run_start = i + size_t(length);
        }
        i += size_t(length);
    }
    return merge_run(stretch.substr(run_start), out);
}

Status SentencePieceBpeTokenizer::merge_run(std::string_view stretch, std::vector<int32_t>& out) const {
    struct Symbol {
        uint32_t begin, length;  // bytes of `stretch`
        int32_t prev, next;      // neighbours still alive, -1 at the ends
    };
    std::vector<Symbol> symbols;
    for (size_t i = 0; i < stretch.size();) {
        const Utf8Sequence seq = utf8_sequence_at(stretch, i);  // valid: checked by encode()
        const auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back(
            {static_cast<uint32_t>(i), static_cast<uint32_t>(seq.length), index - 1, index + 1});
        i += static_cast<size_t>(seq.length);
    }
    if (symbols.empty()) return Status::ok();
    symbols.back().next = -1;

    struct Candidate {
        float score;
        int32_t left, right;
        uint32_t length;  // bytes of the merged piece, to tell a stale candidate
        bool operator<(const Candidate& o) const {
            return score != o.score ? score < o.score : left > o.left;
        }
    };
    std::priority_queue<Candidate> queue;  // highest score first, leftmost on ties
    UnusedSplits unused_splits;
    const auto consider = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[size_t(left)];
        const Symbol& r = symbols[size_t(right)];
        const std::string_view piece = stretch.substr(l.begin, l.length + r.length);
        const auto it = m_mergeable.find(piece);
        if (it == m_mergeable.end()) return;
        queue.push({m_data.scores[size_t(it->second)], left, right, l.length + r.length});
        if (type_of(m_data, it->second) == TokenType::unused)
            unused_splits.emplace(std::string(piece),
                                  std::make_pair(std::string(stretch.substr(l.begin, l.length)),
                                                 std::string(stretch.substr(r.begin, r.length))));
    };
    for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i)
        consider(i, i + 1);

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& l = symbols[size_t(c.left)];
        Symbol& r = symbols[size_t(c.right)];
        // Stale when either side has merged since: a dead symbol has length 0, a grown one changes the sum.
        if (l.length == 0 || r.length == 0 || l.next != c.right || l.length + r.length != c.length) continue;
        l.length += r.length;
        r.length = 0;
        l.next = r.next;
        if (r.next >= 0) symbols[size_t(r.next)].prev = c.left;
        consider(l.prev, c.left);
        consider(c.left, l.next);
    }
    for (int32_t i = 0; i >= 0; i = symbols[size_t(i)].next)
        KVSCOPE_TRY(emit_piece(stretch.substr(symbols[size_t(i)].begin, symbols[size_t(i)].length),
                               unused_splits, out));
    return Status::ok();
}

Result<std::vector<int32_t>> SentencePieceBpeTokenizer::encode(std::string_view text,
                                                               bool add_special) const {
    // No exception leaves a tokenizer (an allocation failure on a huge prompt ends as an error).
    return catch_exceptions("tokenizer", [&]() -> Result<std::vector<int32_t>> {
        std::string normalized;
        std::vector<int32_t> ids;
        auto begun = begin_encode(m_data, text, add_special, normalized, ids);
        if (!begun) return begun.status();
        text = begun.value();
        if (text.empty()) return ids;  // sentencepiece adds no dummy prefix to an empty text

        std::string escaped = m_data.add_space_prefix ? std::string(kSpaceSymbol) : std::string();
        escaped += replace_all(text, " ", kSpaceSymbol);

        std::vector<AddedTokenMatcher::Segment> segments;
        m_user_defined.split(escaped, segments);
        for (const auto& segment : segments) {
            if (segment.id >= 0)
                ids.push_back(segment.id);
            else
                KVSCOPE_TRY(encode_stretch(segment.text, ids));
        }
        return ids;
    });
}

std::string SentencePieceBpeTokenizer::token_bytes(int32_t id, bool first) const {
    if (id < 0 || id >= vocab_size()) return "\xEF\xBF\xBD";
    const std::string& bytes = m_bytes[static_cast<size_t>(id)];
    if (first && m_strip_first_space[static_cast<size_t>(id)]) return bytes.substr(1);
    return bytes;
}

}  // namespace

int byte_piece_value(std::string_view piece) {
    if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
    int value = 0;
    for (size_t i = 3; i < 5; ++i) {
        const char c = piece[i];
        int digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

Result<std::shared_ptr<const Tokenizer>> make_sentencepiece_tokenizer(TokenizerData data) {
    auto tokenizer = std::make_shared<SentencePieceBpeTokenizer>(std::move(data));
    tokenizer->init();
    return std::shared_ptr<const Tokenizer>(std::move(tokenizer));
}

}  // namespace kvscope
