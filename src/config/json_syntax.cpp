// Reading the JSON text itself, to explain an error: what token is at a position, hints for bare
// words, the lexical checks (escapes, numbers, UTF-8) and the bracket/string pre-scan. Separate
// from the tree builder (json_tree.cpp) because none of it uses simdjson: it is plain text
// scanning, called once an error is known or before simdjson runs.
#include "config/json_syntax.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ringlet::config::detail {

namespace {

bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '+' || c == '.';
}

std::string position_text(std::string_view t, std::size_t offset) {
    text_position p = position_at(t, offset);
    return std::to_string(p.line) + ":" + std::to_string(p.column);
}

// 'text', built by appending: "'" + std::string(...) + "'" here sets off g++ 12's false
// -Wrestrict (PR 105651).
std::string in_single_quotes(std::string_view text) {
    std::string s = "'";
    s += text;
    s += '\'';
    return s;
}

} // namespace

std::size_t content_end(std::string_view t) {
    std::size_t end = t.size();
    while (end > 0 && is_space(t[end - 1])) --end;
    return end;
}

std::size_t previous_token(std::string_view t, std::size_t at) {
    std::size_t i = std::min(at, t.size());
    while (i > 0) {
        --i;
        if (!is_space(t[i])) return i;
    }
    return std::string_view::npos;
}

token_description describe(std::string_view t, std::size_t at) {
    if (at >= content_end(t)) return {token_kind::end, "the end of the file"};
    while (at < t.size() && is_space(t[at])) ++at;
    char c = t[at];
    constexpr std::size_t max_shown = 40;
    if (c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':') {
        return {token_kind::punctuation, std::string("'") + c + "'"};
    }
    if (c == '/' && at + 1 < t.size() && (t[at + 1] == '/' || t[at + 1] == '*')) {
        return {token_kind::comment, std::string("a comment ('") + c + t[at + 1] + "')"};
    }
    if (c == '"') {
        std::size_t j = at + 1;
        while (j < t.size() && t[j] != '"' && t[j] != '\n' && j - at < max_shown) {
            j += t[j] == '\\' ? 2 : 1;
        }
        j = std::min(j, t.size());
        if (j < t.size() && t[j] == '"')
            return {token_kind::string, std::string(t.substr(at, j + 1 - at))};
        return {token_kind::string, std::string(t.substr(at, j - at)) + "..."};
    }
    if (is_word_char(c)) {
        std::size_t j = at;
        while (j < t.size() && is_word_char(t[j]) && j - at < max_shown) ++j;
        return {token_kind::word, in_single_quotes(t.substr(at, j - at))};
    }
    if (static_cast<unsigned char>(c) < 0x20) {
        return {token_kind::other, "a control character"};
    }
    // One UTF-8 character.
    std::size_t j = at + 1;
    while (j < t.size() && (static_cast<unsigned char>(t[j]) & 0xC0) == 0x80) ++j;
    return {token_kind::other, in_single_quotes(t.substr(at, j - at))};
}

std::string word_hint(std::string_view t, std::size_t at, bool key_position) {
    token_description d = describe(t, at);
    if (d.kind == token_kind::comment) return " (JSON has no comments)";
    if (d.kind != token_kind::word) return {};
    std::string_view word = std::string_view(d.text).substr(1, d.text.size() - 2);
    char first = word.empty() ? '0' : word.front();
    if (first == '-' || first == '+' || first == '.' || (first >= '0' && first <= '9')) return {};
    if (!key_position) {
        for (std::string_view literal : {"true", "false", "null"}) {
            if (edit_distance(word, literal) <= 2) {
                return " (did you mean " + std::string(literal) + "?)";
            }
        }
    }
    return key_position ? " (keys need double quotes)" : " (strings need double quotes)";
}

std::size_t bad_escape(std::string_view t, std::size_t at, std::size_t& length) {
    auto hex = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    };
    for (std::size_t j = at + 1; j < t.size() && t[j] != '"'; ++j) {
        if (t[j] != '\\') continue;
        char n = j + 1 < t.size() ? t[j + 1] : '\0';
        if (n == 'u') {
            std::size_t k = 0;
            while (k < 4 && j + 2 + k < t.size() && hex(t[j + 2 + k])) ++k;
            if (k < 4) {
                length = 2 + k + (j + 2 + k < t.size() ? 1 : 0);
                return j;
            }
            j += 5;
        } else if (n == '"' || n == '\\' || n == '/' || n == 'b' || n == 'f' || n == 'n' ||
                   n == 'r' || n == 't') {
            ++j;
        } else {
            length = n ? 2 : 1;
            return j;
        }
    }
    return std::string_view::npos;
}

bool valid_number(std::string_view s) {
    std::size_t i = 0;
    auto digits = [&] {
        std::size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        return i > start;
    };
    if (i < s.size() && s[i] == '-') ++i;
    if (i < s.size() && s[i] == '0') {
        ++i;
    } else if (!digits()) {
        return false;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (!digits()) return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (!digits()) return false;
    }
    return i == s.size();
}

std::size_t invalid_utf8(std::string_view t) {
    std::size_t i = 0;
    while (i < t.size()) {
        auto b = static_cast<unsigned char>(t[i]);
        std::size_t n = b < 0x80           ? 1
                        : (b >> 5) == 0x6  ? 2
                        : (b >> 4) == 0xE  ? 3
                        : (b >> 3) == 0x1E ? 4
                                           : 0;
        if (n == 0 || i + n > t.size()) return i;
        std::uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
        for (std::size_t k = 1; k < n; ++k) {
            auto c = static_cast<unsigned char>(t[i + k]);
            if ((c & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (c & 0x3F);
        }
        bool overlong = (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
        if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += n;
    }
    return std::string_view::npos;
}

std::optional<scan_result> scan_structure(std::string_view t) {
    struct open_bracket {
        char c;
        std::size_t at;
    };
    std::vector<open_bracket> stack;
    auto fail = [&](std::size_t at, std::string message, bool at_end = false) {
        return std::optional<scan_result>(scan_result{{at, std::move(message)}, at_end});
    };
    auto what = [](char opener) { return opener == '{' ? "object" : "array"; };
    auto closer = [](char opener) { return opener == '{' ? '}' : ']'; };
    for (std::size_t i = 0; i < t.size(); ++i) {
        char c = t[i];
        if (c == '"') {
            std::size_t j = i + 1;
            for (;; ++j) {
                if (j >= t.size()) {
                    return fail(content_end(t),
                                "expected '\"' to close the string that starts at " +
                                    position_text(t, i) + ", found the end of the file",
                                true);
                }
                auto d = static_cast<unsigned char>(t[j]);
                if (d == '"') break;
                if (d == '\n' || d == '\r') {
                    return fail(j, "expected '\"' to close the string that starts at " +
                                       position_text(t, i) + ", found the end of the line");
                }
                if (d < 0x20) {
                    static constexpr char digits[] = "0123456789abcdef";
                    std::string esc = "\\u00";
                    esc += digits[d >> 4];
                    esc += digits[d & 15];
                    return fail(j, "expected a printable character in a string, found a control "
                                   "character (write it as " +
                                       esc + ")");
                }
                if (d == '\\' && j + 1 < t.size() && t[j + 1] != '\n' && t[j + 1] != '\r') ++j;
            }
            i = j;
        } else if (c == '{' || c == '[') {
            stack.push_back({c, i});
        } else if (c == '}' || c == ']') {
            if (stack.empty()) {
                return fail(i, std::string("expected the end of the file, found '") + c +
                                   "' (nothing is open for it to close)");
            }
            if (c != closer(stack.back().c)) {
                return fail(i, std::string("expected '") + closer(stack.back().c) +
                                   "' to close the " + what(stack.back().c) + " that starts at " +
                                   position_text(t, stack.back().at) + ", found '" + c + "'");
            }
            stack.pop_back();
        } else if (c == '/' && i + 1 < t.size() && (t[i + 1] == '/' || t[i + 1] == '*')) {
            return fail(i, std::string("expected JSON, found a comment ('") + c + t[i + 1] +
                               "'): JSON has no comments");
        }
    }
    if (!stack.empty()) {
        return fail(content_end(t),
                    std::string("expected '") + closer(stack.back().c) + "' to close the " +
                        what(stack.back().c) + " that starts at " +
                        position_text(t, stack.back().at) + ", found the end of the file",
                    true);
    }
    return std::nullopt;
}

} // namespace ringlet::config::detail
