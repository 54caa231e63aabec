// A JSON document as a small tree that remembers where every value and key is in the text, built
// with simdjson (On Demand, error codes only). The config reader walks it freely (any order, twice,
// duplicate keys kept) and points errors at the exact line and column.
//
// Syntax errors: one, the first that can be located. simdjson finds the error and the token it
// stopped at; a bracket/string pre-scan places the ones simdjson cannot (a missing '}' at the end,
// a ']' closing an object, a string running past the end of its line).
#pragma once

#include "ringlet/config/config.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::config::detail {

enum class json_type { null, boolean, number, string, array, object };

struct json_member;

struct json_value {
    json_type type = json_type::null;
    std::size_t offset = 0; // byte offset of the value's first character in the text
    bool boolean = false;
    std::string text; // string: unescaped; number: as written ("1.5e3")
    std::vector<json_value> items;
    std::vector<json_member> members; // in text order, duplicates kept
};

struct json_member {
    std::string key;            // unescaped
    std::size_t key_offset = 0; // the key's opening quote
    json_value value;
};

struct syntax_error {
    std::size_t offset = 0;
    std::string message; // "expected ',' or '}' after a value, found "b""
};

// Parses one JSON document (any value at the top). Returns false and sets `error` if the text is
// not JSON.
bool parse_json(std::string_view text, json_value& out, syntax_error& error);

// The line and column of a byte offset (columns count UTF-8 characters; a leading byte-order mark
// is not counted). Offsets past the end give the position just after the last character.
text_position position_at(std::string_view text, std::size_t offset);

// The same for many offsets: linear in the text when asked in increasing order (a walk of the
// tree), otherwise from the start of the offset's line.
class position_finder {
public:
    explicit position_finder(std::string_view text);
    text_position at(std::size_t offset);

private:
    std::string_view text_;
    std::vector<std::size_t> line_starts_;
    std::size_t offset_ = 0; // the cursor: `position_` is where it is
    text_position position_{1, 1};
};

// Edit distance (insertions, deletions, substitutions), ASCII case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

// `s` as a JSON string literal: "a\"b".
std::string quoted(std::string_view s);

} // namespace ringlet::config::detail
