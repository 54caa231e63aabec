// Building the tree with simdjson On Demand, and turning the first error simdjson reports into a
// message placed on the right token. The text scanning that explains errors is in
// json_syntax.cpp; positions, edit distance and quoting (used by the config reader, not by the
// parse) are in json_text.cpp.
#include "config/json_tree.hpp"
#include "config/json_syntax.hpp"

// SIMDJSON_EXCEPTIONS=0 comes from CMake (simdjson::simdjson): error codes only.
#include <simdjson.h>

#include <algorithm>
#include <optional>

namespace ringlet::config::detail {

namespace {

namespace od = simdjson::ondemand;

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

} // namespace ringlet::config::detail
