// The text-level half of the JSON layer, shared by the tree builder (json_tree.cpp) and the
// syntax checks (json_syntax.cpp): simdjson says that the text is wrong and roughly where; these
// read the text itself to say what is wrong. Private to src/config/json_*.cpp.
#pragma once

#include "config/json_tree.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ringlet::config::detail {

inline bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

inline bool starts_with_bom(std::string_view t) {
    return t.size() >= 3 && t.substr(0, 3) == "\xEF\xBB\xBF";
}

// The offset just past the last non-whitespace character: where a missing closer belongs.
std::size_t content_end(std::string_view t);

// The last non-whitespace character before `at`, or npos.
std::size_t previous_token(std::string_view t, std::size_t at);

// What is at `at` (whitespace skipped), for "found ...": "'}'", "'tru'", "\"ab...",
// "the end of the file".
enum class token_kind { end, punctuation, string, word, comment, other };

struct token_description {
    token_kind kind;
    std::string text;
};

token_description describe(std::string_view t, std::size_t at);

// A hint for a bare word or comment where a value or key belongs, with its leading space:
// " (did you mean true?)", " (keys need double quotes)"; empty when there is none.
std::string word_hint(std::string_view t, std::size_t at, bool key_position);

// Backslash-escapes: the first bad one in the string token starting at `at` (its opening quote),
// or npos; `length` is set to the bytes to show.
std::size_t bad_escape(std::string_view t, std::size_t at, std::size_t& length);

// RFC 8259 number grammar; `s` is the whole token, no whitespace.
bool valid_number(std::string_view s);

// The first byte that is not valid UTF-8 (overlong forms and surrogates included), or npos.
std::size_t invalid_utf8(std::string_view t);

// The pre-scan: strings (which JSON keeps on one line) and brackets. Finds what simdjson cannot
// place: an object or array still open at the end of the file, a closer of the wrong kind or
// with nothing open, an unterminated string, a raw control character in a string, a comment.
struct scan_result {
    syntax_error error;
    bool at_end = false; // found only at the end of the file: simdjson's position is not better
};

// The first such error, or nullopt.
std::optional<scan_result> scan_structure(std::string_view t);

} // namespace ringlet::config::detail
