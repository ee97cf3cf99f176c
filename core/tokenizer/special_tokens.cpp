#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace kvscope {

void AddedTokenMatcher::add(std::string content, int32_t id) {
    if (content.empty()) return;
    auto& bucket = m_by_first_byte[static_cast<unsigned char>(content[0])];
    for (const auto& e : bucket)
        if (e.content == content) return;  // the first id given for a content wins
    bucket.push_back({std::move(content), id});
    std::stable_sort(bucket.begin(), bucket.end(),
                     [](const Entry& a, const Entry& b) { return a.content.size() > b.content.size(); });
    ++m_count;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<Segment>& out) const {
    size_t plain_start = 0;
    for (size_t i = 0; i < text.size();) {
        const Entry* found = nullptr;
        if (m_count)
            for (const auto& e : m_by_first_byte[static_cast<unsigned char>(text[i])])
                if (text.compare(i, e.content.size(), e.content) == 0) {
                    found = &e;
                    break;
                }
        if (!found) {
            ++i;
            continue;
        }
        if (i > plain_start) out.push_back({text.substr(plain_start, i - plain_start), -1});
        out.push_back({text.substr(i, found->content.size()), found->id});
        i += found->content.size();
        plain_start = i;
    }
    if (plain_start < text.size()) out.push_back({text.substr(plain_start), -1});
}

}  // namespace kvscope
