#include "config/json_tree.hpp"

// SIMDJSON_EXCEPTIONS=0 comes from CMake (simdjson::simdjson): error codes only.
#include <simdjson.h>

#include <algorithm>
#include <optional>

namespace ringlet::config::detail {

namespace {

namespace od = simdjson::ondemand;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '+' || c == '.';
}

bool starts_with_bom(std::string_view t) {
    return t.size() >= 3 && t.substr(0, 3) == "\xEF\xBB\xBF";
}

// The offset just past the last non-whitespace character: where a missing closer belongs.
std::size_t content_end(std::string_view t) {
    std::size_t end = t.size();
    while (end > 0 && is_space(t[end - 1])) --end;
    return end;
}

// The last non-whitespace character before `at`, or npos.
std::size_t previous_token(std::string_view t, std::size_t at) {
    std::size_t i = std::min(at, t.size());
    while (i > 0) {
        --i;
        if (!is_space(t[i])) return i;
    }
    return std::string_view::npos;
}

std::string position_text(std::string_view t, std::size_t offset) {
    text_position p = position_at(t, offset);
    return std::to_string(p.line) + ":" + std::to_string(p.column);
}

// What is at `at`, for "found ...".
enum class token_kind { end, punctuation, string, word, comment, other };

struct token_description {
    token_kind kind;
    std::string text;
};

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
        return {token_kind::word, "'" + std::string(t.substr(at, j - at)) + "'"};
    }
    if (static_cast<unsigned char>(c) < 0x20) {
        return {token_kind::other, "a control character"};
    }
    // One UTF-8 character.
    std::size_t j = at + 1;
    while (j < t.size() && (static_cast<unsigned char>(t[j]) & 0xC0) == 0x80) ++j;
    return {token_kind::other, "'" + std::string(t.substr(at, j - at)) + "'"};
}

// A hint for a bare word where a value or key belongs: "tru" -> did you mean true?
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

// Backslash-escapes: the first bad one in the string token starting at `at`, or npos.
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

// RFC 8259 number grammar.
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

// The first byte that is not valid UTF-8, or npos.
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

// The pre-scan: strings (which JSON keeps on one line) and brackets. Finds what simdjson cannot
// place: an object or array still open at the end of the file, a closer of the wrong kind or
// with nothing open, an unterminated string, a raw control character in a string, a comment.
struct scan_result {
    syntax_error error;
    bool at_end = false; // found only at the end of the file: simdjson's position is not better
};

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

enum class container { none, object, array };

// Builds the tree with simdjson On Demand; on the first error, explains it from the token where
// simdjson stopped and the text before it.
class builder {
public:
    builder(std::string_view text, const char* base) : t_(text), base_(base) {}

    std::optional<syntax_error> run(simdjson::padded_string& padded, json_value& out) {
        od::parser parser;
        od::document doc;
        if (auto e = parser.iterate(padded).get(doc)) {
            placed_ = false;
            return stage1_error(e);
        }
        doc_ = &doc;
        od::json_type type;
        if (auto e = doc.type().get(type)) {
            fail_value(container::none, first_token(), e);
            return error_;
        }
        if (type == od::json_type::object || type == od::json_type::array) {
            od::value root;
            if (auto e = doc.get_value().get(root)) {
                fail_structural(container::none, e);
                return error_;
            }
            if (!value(root, container::none, out)) return error_;
            auto rest = doc.current_location();
            if (!rest.error()) {
                std::size_t at = offset_of(rest.value_unsafe());
                if (at < content_end(t_)) {
                    return syntax_error{
                        at, "expected the end of the file after the top-level " +
                                std::string(type == od::json_type::object ? "object" : "array") +
                                ", found " + describe(t_, at).text};
                }
            }
            return std::nullopt;
        }
        // A scalar document: the reader only needs to know it is not an object.
        out.offset = first_token();
        switch (type) {
        case od::json_type::string: {
            out.type = json_type::string;
            std::string_view s;
            if (auto e = doc.get_string().get(s)) {
                fail_string(out.offset, e);
                return error_;
            }
            out.text = s;
            break;
        }
        case od::json_type::boolean:
            out.type = json_type::boolean;
            if (auto e = doc.get_bool().get(out.boolean))
                fail_value(container::none, out.offset, e);
            break;
        case od::json_type::null: {
            out.type = json_type::null;
            bool is_null = false;
            if (doc.is_null().get(is_null) || !is_null) {
                fail_value(container::none, out.offset, simdjson::INCORRECT_TYPE);
            }
            break;
        }
        default: {
            out.type = json_type::number;
            std::string_view token;
            if (doc.raw_json_token().get(token)) token = {};
            while (!token.empty() && is_space(token.back())) token.remove_suffix(1);
            if (!valid_number(token)) {
                fail(out.offset, "expected a number, found '" + std::string(token) + "'");
            }
            out.text = token;
            break;
        }
        }
        return error_;
    }

    // False when the error came from simdjson's first stage, which gives no position.
    bool placed() const { return placed_; }

private:
    std::size_t offset_of(const char* p) const {
        if (p < base_) return 0;
        return std::min(static_cast<std::size_t>(p - base_), t_.size());
    }

    std::size_t first_token() const {
        std::size_t i = starts_with_bom(t_) ? 3 : 0;
        while (i < t_.size() && is_space(t_[i])) ++i;
        return i;
    }

    bool fail(std::size_t at, std::string message) {
        error_ = syntax_error{at, std::move(message)};
        return false;
    }

    std::optional<syntax_error> stage1_error(simdjson::error_code e) {
        using simdjson::error_code;
        switch (e) {
        case error_code::EMPTY:
            return syntax_error{content_end(t_),
                                "expected a JSON object, found the end of the file"};
        case error_code::UTF8_ERROR: {
            std::size_t at = invalid_utf8(t_);
            if (at == std::string_view::npos) break;
            static constexpr char digits[] = "0123456789ABCDEF";
            auto b = static_cast<unsigned char>(t_[at]);
            return syntax_error{at, std::string("expected UTF-8 text, found the byte 0x") +
                                        digits[b >> 4] + digits[b & 15]};
        }
        case error_code::DEPTH_ERROR:
            return syntax_error{first_token(), "expected at most " +
                                                   std::to_string(simdjson::DEFAULT_MAX_DEPTH) +
                                                   " nested arrays and objects, found more"};
        default:
            break;
        }
        return syntax_error{first_token(),
                            std::string("expected JSON, found text simdjson rejects: ") +
                                simdjson::error_message(e)};
    }

    // A value that cannot be read (a bad literal, number or word) at `at`.
    // simdjson's error code is not used by these two: the token where it stopped and the text
    // before it say more (TAPE_ERROR covers most structural mistakes).
    bool fail_value(container in, std::size_t at, simdjson::error_code) {
        token_description d = describe(t_, at);
        if (d.kind == token_kind::end || d.kind == token_kind::punctuation) {
            return fail_structure_at(in, at);
        }
        return fail(at, "expected a value, found " + d.text + word_hint(t_, at, false));
    }

    bool fail_structural(container in, simdjson::error_code) {
        auto loc = doc_->current_location();
        std::size_t at = loc.error() ? t_.size() : offset_of(loc.value_unsafe());
        return fail_structure_at(in, at);
    }

    // Is the string token that ends at `close` (its closing quote) an object key?
    bool string_is_key(std::size_t close) const {
        std::size_t j = close;
        while (j > 0) {
            --j;
            if (t_[j] != '"') continue;
            std::size_t backslashes = 0;
            while (j > backslashes && t_[j - 1 - backslashes] == '\\') ++backslashes;
            if (backslashes % 2 == 0) break;
        }
        std::size_t before = previous_token(t_, j);
        return before != std::string_view::npos && (t_[before] == '{' || t_[before] == ',');
    }

    bool fail_structure_at(container in, std::size_t at) {
        token_description d = describe(t_, at);
        std::size_t p = previous_token(t_, at);
        char prev = p == std::string_view::npos ? '\0' : t_[p];
        char here = at < t_.size() ? t_[at] : '\0';
        if (prev == ',' && (here == '}' || here == ']')) {
            bool obj = here == '}';
            return fail(at, std::string("expected ") + (obj ? "a key" : "a value") +
                                " after ',', found " + d.text +
                                " (JSON allows no comma after the last " +
                                (obj ? "member" : "element") + ")");
        }
        switch (in) {
        case container::object:
            if (prev == '{' || prev == ',') {
                return fail(at, "expected a key in double quotes, found " + d.text +
                                    word_hint(t_, at, true));
            }
            if (prev == ':') {
                return fail(at, "expected a value, found " + d.text + word_hint(t_, at, false));
            }
            if (prev == '"' && string_is_key(p)) {
                return fail(at, "expected ':' after the key, found " + d.text);
            }
            return fail(at, "expected ',' or '}' after a value, found " + d.text);
        case container::array:
            if (prev == '[' || prev == ',') {
                return fail(at, "expected a value, found " + d.text + word_hint(t_, at, false));
            }
            return fail(at, "expected ',' or ']' after a value, found " + d.text);
        case container::none:
            break;
        }
        return fail(at, "expected a value, found " + d.text + word_hint(t_, at, false));
    }

    bool fail_string(std::size_t at, simdjson::error_code e) {
        std::size_t length = 0;
        std::size_t bad = bad_escape(t_, at, length);
        if (bad != std::string_view::npos) {
            return fail(bad, "expected an escape sequence (\\\" \\\\ \\/ \\b \\f \\n \\r \\t or "
                             "\\uXXXX), found '" +
                                 std::string(t_.substr(bad, length)) + "'");
        }
        return fail(at, "expected a valid string, found " + describe(t_, at).text + " (" +
                            simdjson::error_message(e) + ")");
    }

    bool value(od::value v, container in, json_value& out, int depth = 0) {
        std::string_view token = v.raw_json_token();
        out.offset = offset_of(token.data());
        if (depth >= max_depth) {
            return fail(out.offset, "expected at most " + std::to_string(max_depth) +
                                        " nested arrays and objects, found more");
        }
        od::json_type type;
        if (auto e = v.type().get(type)) return fail_value(in, out.offset, e);
        switch (type) {
        case od::json_type::object: {
            out.type = json_type::object;
            od::object object;
            if (auto e = v.get_object().get(object)) return fail_structural(in, e);
            for (auto member : object) {
                od::field field;
                if (auto e = std::move(member).get(field)) {
                    return fail_structural(container::object, e);
                }
                json_member m;
                m.key_offset = offset_of(field.key().raw() - 1);
                std::string_view key;
                if (auto e = field.unescaped_key().get(key)) return fail_string(m.key_offset, e);
                m.key = key;
                if (!value(field.value(), container::object, m.value, depth + 1)) return false;
                out.members.push_back(std::move(m));
            }
            return true;
        }
        case od::json_type::array: {
            out.type = json_type::array;
            od::array array;
            if (auto e = v.get_array().get(array)) return fail_structural(in, e);
            for (auto element : array) {
                od::value item;
                if (auto e = std::move(element).get(item)) {
                    return fail_structural(container::array, e);
                }
                json_value x;
                if (!value(item, container::array, x, depth + 1)) return false;
                out.items.push_back(std::move(x));
            }
            return true;
        }
        case od::json_type::string: {
            out.type = json_type::string;
            std::string_view s;
            if (auto e = v.get_string().get(s)) return fail_string(out.offset, e);
            out.text = s;
            return true;
        }
        case od::json_type::number: {
            // Kept as written: the reader converts (and range-checks) what it needs. simdjson
            // would reject valid JSON numbers it cannot represent (1e999).
            out.type = json_type::number;
            while (!token.empty() && is_space(token.back())) token.remove_suffix(1);
            if (!valid_number(token)) {
                return fail(out.offset, "expected a number, found '" + std::string(token) + "'");
            }
            out.text = token;
            return true;
        }
        case od::json_type::boolean: {
            out.type = json_type::boolean;
            if (auto e = v.get_bool().get(out.boolean)) return fail_value(in, out.offset, e);
            return true;
        }
        case od::json_type::null: {
            out.type = json_type::null;
            bool is_null = false;
            if (auto e = v.is_null().get(is_null)) return fail_value(in, out.offset, e);
            if (!is_null) return fail_value(in, out.offset, simdjson::INCORRECT_TYPE);
            return true;
        }
        }
        return fail_value(in, out.offset, simdjson::TAPE_ERROR);
    }

    // The tree is built by recursion; a config needs a handful of levels.
    static constexpr int max_depth = 64;

    std::string_view t_;
    const char* base_;
    od::document* doc_ = nullptr;
    bool placed_ = true;
    std::optional<syntax_error> error_;
};

} // namespace

bool parse_json(std::string_view text, json_value& out, syntax_error& error) {
    std::optional<scan_result> scanned = scan_structure(text);
    simdjson::padded_string padded(text.data(), text.size());
    if (starts_with_bom(text)) std::fill_n(padded.data(), 3, ' ');
    builder b(text, padded.data());
    std::optional<syntax_error> walked = b.run(padded, out);
    // The pre-scan wins when simdjson gave up at or after its position or could not say where,
    // and always for an unclosed object, array or string at the end of the file: simdjson then
    // stops at whatever token it was reading, which says nothing useful.
    if (scanned &&
        (scanned->at_end || !walked || !b.placed() || scanned->error.offset <= walked->offset)) {
        error = std::move(scanned->error);
        return false;
    }
    if (walked) {
        error = std::move(*walked);
        return false;
    }
    return true;
}

text_position position_at(std::string_view text, std::size_t offset) {
    return position_finder(text).at(offset);
}

position_finder::position_finder(std::string_view text) : text_(text) {
    line_starts_.push_back(starts_with_bom(text) ? 3 : 0);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n') line_starts_.push_back(i + 1);
    }
    offset_ = line_starts_[0];
}

text_position position_finder::at(std::size_t offset) {
    offset = std::clamp(offset, line_starts_[0], std::max(line_starts_[0], text_.size()));
    if (offset < offset_) {
        auto line = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset) - 1;
        offset_ = *line;
        position_ = {static_cast<int>(line - line_starts_.begin()) + 1, 1};
    }
    for (; offset_ < offset; ++offset_) {
        char c = text_[offset_];
        if (c == '\n') {
            ++position_.line;
            position_.column = 1;
        } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
            ++position_.column;
        }
    }
    return position_;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            std::size_t substitute = diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string quoted(std::string_view s) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = "\"";
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (u < 0x20) {
            out += "\\u00";
            out += digits[u >> 4];
            out += digits[u & 15];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

} // namespace ringlet::config::detail
