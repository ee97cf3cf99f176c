#include "util/json_value.h"

#include <cmath>
#include <exception>
#include <unordered_set>

#include "util/files.h"

namespace kvscope {

namespace {

// Thrown from the parser's callback (and caught in parse_json) to stop at the first refused construct.
struct RefusedJson {
    std::string message;
};

// Keys that read well unquoted in a path (model.vocab); anything else is written ["..."].
bool plain_key(std::string_view key) {
    if (key.empty()) return false;
    for (char c : key)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

std::string quote_json(std::string_view text, size_t max_bytes = 60) {
    std::string cut(text.substr(0, max_bytes));
    const Json s = cut;
    // replace: a cut through a multi-byte character must not make dump() throw.
    std::string out = s.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (text.size() > max_bytes) out += "... (" + std::to_string(text.size()) + " bytes)";
    return out;
}

std::string child_key(const std::string& parent, std::string_view key) {
    if (plain_key(key)) return parent.empty() ? std::string(key) : parent + "." + std::string(key);
    return parent + "[" + quote_json(key) + "]";
}

}  // namespace

std::string describe_json(const Json& v) {
    switch (v.type()) {
        case Json::value_t::null:
            return "null";
        case Json::value_t::boolean:
            return v.get<bool>() ? "true" : "false";
        case Json::value_t::string:
            return "the string " + quote_json(v.get_ref<const std::string&>());
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
        case Json::value_t::number_float:
            return "the number " + v.dump();
        case Json::value_t::object:
            return v.empty() ? "an empty object" : "an object with " + std::to_string(v.size()) + " keys";
        case Json::value_t::array:
            return v.empty() ? "an empty array" : "an array of " + std::to_string(v.size());
        default:
            return "a binary value";
    }
}

Result<Json> parse_json(std::string_view text, const std::string& file) {
    // One set of keys per open object (arrays hold none), to find a key given twice.
    std::vector<std::unordered_set<std::string>> keys;
    std::vector<bool> is_object;
    auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) -> bool {
        if (depth > kMaxJsonDepth)
            throw RefusedJson{"nesting is deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
        switch (event) {
            case Json::parse_event_t::object_start:
                keys.emplace_back();
                is_object.push_back(true);
                break;
            case Json::parse_event_t::array_start:
                is_object.push_back(false);
                break;
            case Json::parse_event_t::object_end:
                if (!keys.empty()) keys.pop_back();
                if (!is_object.empty()) is_object.pop_back();
                break;
            case Json::parse_event_t::array_end:
                if (!is_object.empty()) is_object.pop_back();
                break;
            case Json::parse_event_t::key:
                if (!keys.empty() && parsed.is_string() &&
                    !keys.back().insert(parsed.get_ref<const std::string&>()).second)
                    throw RefusedJson{"key " + quote_json(parsed.get_ref<const std::string&>()) +
                                      " appears twice in the same object (at depth " + std::to_string(depth) +
                                      "); which value counts would be a guess"};
                break;
            case Json::parse_event_t::value:
                break;
        }
        return true;
    };
    try {
        return Json::parse(text.begin(), text.end(), callback);
    } catch (const RefusedJson& e) {
        return Status::error(file + ": " + e.message);
    } catch (const Json::exception& e) {
        return Status::error(file + ": does not parse as JSON: " + e.what());
    } catch (const std::exception& e) {
        return Status::error(file + ": cannot be read as JSON: " + e.what());
    }
}

Result<Json> read_json_file(const std::string& path) {
    auto text = read_text_file(path);
    if (!text) return text.status();
    return parse_json(text.value(), path);
}

JsonRef JsonRef::root(const Json& document, std::string file) {
    return JsonRef(&document, std::move(file), "");
}

bool JsonRef::is_integer() const {
    if (!m_value) return false;
    if (m_value->is_number_integer()) return true;
    if (!m_value->is_number_float()) return false;
    const double v = m_value->get<double>();
    return std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 9.0e18;
}

JsonRef JsonRef::operator[](std::string_view key) const {
    const Json* child = nullptr;
    if (m_value && m_value->is_object()) {
        auto it = m_value->find(key);
        if (it != m_value->end()) child = &*it;
    }
    return JsonRef(child, m_file, child_key(m_key, key));
}

JsonRef JsonRef::operator[](size_t index) const {
    const Json* child = nullptr;
    if (m_value && m_value->is_array() && index < m_value->size()) child = &(*m_value)[index];
    return JsonRef(child, m_file, m_key + "[" + std::to_string(index) + "]");
}

size_t JsonRef::size() const {
    if (!m_value || !(m_value->is_object() || m_value->is_array())) return 0;
    return m_value->size();
}

std::vector<std::pair<std::string, JsonRef>> JsonRef::members() const {
    std::vector<std::pair<std::string, JsonRef>> out;
    if (!is_object()) return out;
    out.reserve(m_value->size());
    for (auto it = m_value->begin(); it != m_value->end(); ++it)
        out.emplace_back(it.key(), JsonRef(&it.value(), m_file, child_key(m_key, it.key())));
    return out;
}

std::vector<JsonRef> JsonRef::elements() const {
    std::vector<JsonRef> out;
    if (!is_array()) return out;
    out.reserve(m_value->size());
    for (size_t i = 0; i < m_value->size(); ++i)
        out.push_back(JsonRef(&(*m_value)[i], m_file, m_key + "[" + std::to_string(i) + "]"));
    return out;
}

std::string JsonRef::where() const {
    return m_key.empty() ? m_file : m_file + ": key " + m_key;
}

std::string JsonRef::found() const {
    return m_value ? describe_json(*m_value) : "nothing (the key is missing)";
}

Status JsonRef::mismatch(const std::string& expected) const {
    return Status::error(where() + ": expected " + expected + ", found " + found());
}

Result<std::string> JsonRef::string() const {
    if (!is_string()) return mismatch("a string");
    return m_value->get<std::string>();
}

Result<bool> JsonRef::boolean() const {
    if (!is_bool()) return mismatch("true or false");
    return m_value->get<bool>();
}

Result<int64_t> JsonRef::integer(int64_t min, int64_t max) const {
    const std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!is_integer()) return mismatch(range);
    if (m_value->is_number_unsigned()) {
        const uint64_t u = m_value->get<uint64_t>();
        if (u > static_cast<uint64_t>(max)) return mismatch(range);
        return static_cast<int64_t>(u);
    }
    const int64_t v =
        m_value->is_number_integer() ? m_value->get<int64_t>() : static_cast<int64_t>(m_value->get<double>());
    if (v < min || v > max) return mismatch(range);
    return v;
}

Result<double> JsonRef::number() const {
    if (!is_number()) return mismatch("a number");
    const double v = m_value->get<double>();
    if (!std::isfinite(v)) return mismatch("a finite number");
    return v;
}

Status JsonRef::expect_object() const {
    return is_object() ? Status::ok() : mismatch("an object");
}
Status JsonRef::expect_array() const {
    return is_array() ? Status::ok() : mismatch("an array");
}

Result<std::string> JsonRef::string_or(std::string fallback) const {
    if (absent()) return fallback;
    return string();
}

Result<bool> JsonRef::boolean_or(bool fallback) const {
    if (absent()) return fallback;
    return boolean();
}

Result<int64_t> JsonRef::integer_or(int64_t fallback, int64_t min, int64_t max) const {
    if (absent()) return fallback;
    return integer(min, max);
}

Result<double> JsonRef::number_or(double fallback) const {
    if (absent()) return fallback;
    return number();
}

}  // namespace kvscope
