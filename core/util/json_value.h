// json_value.h — the one checked way the core reads JSON: config.json, tokenizer.json,
// tokenizer_config.json, special_tokens_map.json, vocab.json, model.safetensors.index.json and the header of
// every safetensors file all go through it.
//
// Files from the internet hold anything: a string where a bool is expected, an object where a string is,
// null where a number is (real Hugging Face configs write "n_inner": null). A JsonRef is a value together
// with the file and the key path it was found at; every typed read returns a Result whose error says which
// file, which key, what was expected and what was found:
//     config.json: key "n_embd": expected an integer, found the string "768"
// A missing key or null where the reader has a default means the default (the *_or reads). Nothing here
// throws: parse_json() catches the parser's exceptions, and JsonRef never calls nlohmann's throwing
// accessors. Parsing also refuses what a reader could only misread: a key given twice in one object (which
// of the two values wins differs between libraries) and nesting deeper than kMaxJsonDepth (whose recursive
// readers would run out of stack).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kvscope/status.h"

namespace kvscope {

using Json = nlohmann::json;

constexpr int kMaxJsonDepth = 256;

// Parses `text` (the contents of `file`, which names it in errors).
Result<Json> parse_json(std::string_view text, const std::string& file);
// Reads and parses a whole file.
Result<Json> read_json_file(const std::string& path);

class JsonRef {
  public:
    // The document's root: `file` names it in errors.
    static JsonRef root(const Json& document, std::string file);

    // Missing key, or null: what a reader with a default treats as "use the default".
    bool absent() const { return m_value == nullptr || m_value->is_null(); }
    bool present() const { return !absent(); }
    bool is_object() const { return m_value && m_value->is_object(); }
    bool is_array() const { return m_value && m_value->is_array(); }
    bool is_string() const { return m_value && m_value->is_string(); }
    bool is_bool() const { return m_value && m_value->is_boolean(); }
    bool is_number() const { return m_value && m_value->is_number(); }
    bool is_integer() const;  // an integer, or a float with an integral value (2048.0)

    // A member (absent when this is not an object or has no such key) and an array element (absent when
    // out of range or not an array).
    JsonRef operator[](std::string_view key) const;
    JsonRef operator[](size_t index) const;
    bool contains(std::string_view key) const { return (*this)[key].m_value != nullptr; }
    size_t size() const;  // members of an object, elements of an array, else 0
    // Members in the order the parser keeps them (sorted by key) and elements in order.
    std::vector<std::pair<std::string, JsonRef>> members() const;
    std::vector<JsonRef> elements() const;

    const std::string& file() const { return m_file; }
    const std::string& key() const { return m_key; }  // "model.vocab[\"hello\"]", "" for the root
    // "config.json: key \"n_embd\"" (or just the file for the root): the prefix of every message here.
    std::string where() const;
    // What the value is, in words, short enough for one line: the string "768", the number 1.5, true,
    // null, an object with 3 keys, an array of 2, nothing (the key is missing).
    std::string found() const;
    // "<where>: expected <expected>, found <found()>".
    Status mismatch(const std::string& expected) const;

    // Required reads: absent is an error.
    Result<std::string> string() const;
    Result<bool> boolean() const;
    Result<int64_t> integer(int64_t min, int64_t max) const;
    Result<double> number() const;  // finite
    Status expect_object() const;
    Status expect_array() const;
    // Reads with a default: a missing key or null gives `fallback`; a value of the wrong type is an error.
    Result<std::string> string_or(std::string fallback) const;
    Result<bool> boolean_or(bool fallback) const;
    Result<int64_t> integer_or(int64_t fallback, int64_t min, int64_t max) const;
    Result<double> number_or(double fallback) const;

    const Json* raw() const { return m_value; }

  private:
    JsonRef(const Json* value, std::string file, std::string key)
        : m_value(value), m_file(std::move(file)), m_key(std::move(key)) {}
    const Json* m_value = nullptr;  // null: the key is missing
    std::string m_file;
    std::string m_key;
};

// Describes a JSON value in a few words (JsonRef::found() without the "missing" case); long strings are
// cut, and nothing is ever thrown for invalid UTF-8.
std::string describe_json(const Json& value);

}  // namespace kvscope
