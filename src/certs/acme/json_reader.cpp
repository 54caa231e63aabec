// The non-template half of the ACME JSON reader (json_reader.hpp): opening a document and the
// typed accessors, with the wording of every error they report. Apart from messages.cpp so that
// the document parsers read as a list of fields.
#include "certs/acme/json_reader.hpp"

#include "ringlet/base/ascii.hpp"

namespace ringlet::certs::acme::detail {

namespace {

std::string_view type_name(dom::element_type t) {
    switch (t) {
    case dom::element_type::ARRAY:
        return "an array";
    case dom::element_type::OBJECT:
        return "an object";
    case dom::element_type::STRING:
        return "a string";
    case dom::element_type::BOOL:
        return "a boolean";
    case dom::element_type::NULL_VALUE:
        return "null";
    default:
        return "a number";
    }
}

bool is_http_url(std::string_view s) {
    std::string scheme = ascii_lower(s.substr(0, 8));
    std::size_t rest;
    if (scheme.starts_with("https://")) {
        rest = 8;
    } else if (scheme.starts_with("http://")) {
        rest = 7;
    } else {
        return false;
    }
    if (rest >= s.size() || s[rest] == '/' || s[rest] == '?' || s[rest] == '#') return false;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) return false;
    }
    return true;
}

} // namespace

std::string shown(std::string_view s, std::size_t max) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        out += c < 0x20 || c == 0x7f ? '?' : s[i];
    }
    out += s.size() > max ? "\"..." : "\"";
    return out;
}

std::string quoted_path(std::string_view path) {
    std::string out(1, '"');
    out.append(path).append(1, '"');
    return out;
}

std::string join(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}

std::string at_index(std::string_view prefix, std::size_t i) {
    return std::string(prefix) + "[" + std::to_string(i) + "]";
}

bool reader::open(std::string_view json, dom::object& root) {
    if (json.size() > max_message_bytes) {
        code_ = EMSGSIZE;
        error_ = std::string(what_) + " response is " + std::to_string(json.size()) +
                 " bytes, over the limit of " + std::to_string(max_message_bytes);
        return false;
    }
    std::size_t first = json.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        error_ = std::string(what_) + " response is empty";
        return false;
    }
    dom::element doc;
    if (auto e = parser_.parse(json.data(), json.size()).get(doc)) {
        error_ = std::string(what_) + " response is not JSON";
        if (json[first] == '<') {
            error_ += " (an HTML or XML page?)";
        } else if (json[first] == '{' || json[first] == '[') {
            error_ += std::string(" (") + simdjson::error_message(e) + ")";
        }
        error_ += ": starts with " + shown(json.substr(first), 40);
        return false;
    }
    if (doc.get_object().get(root)) {
        error_ = std::string(what_) + " response must be a JSON object, not " +
                 std::string(type_name(doc.type()));
        return false;
    }
    return true;
}

bool reader::fail(std::string message) {
    error_ = std::string(what_) + ": " + message;
    return false;
}

bool reader::wrong_type(std::string_view path, dom::element v, std::string_view expected) {
    return fail(quoted_path(path) + " must be " + std::string(expected) + ", not " +
                std::string(type_name(v.type())));
}

bool reader::find(dom::object o, std::string_view prefix, std::string_view key, need n,
                  std::optional<dom::element>& out) {
    out.reset();
    dom::element v;
    if (!o.at_key(key).get(v) && v.type() != dom::element_type::NULL_VALUE) {
        out = v;
        return true;
    }
    if (n == need::optional) return true;
    error_ = std::string(what_) + " is missing \"" + join(prefix, key) + "\"";
    return false;
}

bool reader::as_string(dom::element v, std::string_view path, std::string& out) {
    std::string_view s;
    if (v.get_string().get(s)) return wrong_type(path, v, "a string");
    out = s;
    return true;
}

bool reader::as_url(dom::element v, std::string_view path, std::string& out) {
    if (!as_string(v, path, out)) return false;
    if (is_http_url(out)) return true;
    return fail(quoted_path(path) + " must be an absolute http(s) URL, not " + shown(out));
}

bool reader::as_time(dom::element v, std::string_view path, std::optional<std::int64_t>& out) {
    std::string text;
    if (!as_string(v, path, text)) return false;
    std::string why;
    auto t = parse_rfc3339(text, why);
    if (!t) {
        return fail(quoted_path(path) + " is not an RFC 3339 timestamp (" + shown(text) +
                    "): " + why);
    }
    out = *t;
    return true;
}

bool reader::as_object(dom::element v, std::string_view path, dom::object& out) {
    if (v.get_object().get(out)) return wrong_type(path, v, "an object");
    return true;
}

bool reader::as_array(dom::element v, std::string_view path, dom::array& out) {
    if (v.get_array().get(out)) return wrong_type(path, v, "an array");
    return true;
}

bool reader::string_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                          std::string& out) {
    return field(o, prefix, key, n,
                 [&](dom::element v, const std::string& path) { return as_string(v, path, out); });
}

bool reader::url_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                       std::string& out) {
    return field(o, prefix, key, n,
                 [&](dom::element v, const std::string& path) { return as_url(v, path, out); });
}

bool reader::time_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                        std::optional<std::int64_t>& out) {
    return field(o, prefix, key, n,
                 [&](dom::element v, const std::string& path) { return as_time(v, path, out); });
}

bool reader::bool_field(dom::object o, std::string_view prefix, std::string_view key, bool& out) {
    return field(o, prefix, key, need::optional, [&](dom::element v, const std::string& path) {
        return !v.get_bool().get(out) || wrong_type(path, v, "a boolean");
    });
}

bool reader::strings_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                           bool urls, std::vector<std::string>& out) {
    return field(o, prefix, key, n, [&](dom::element v, const std::string& path) {
        dom::array items;
        if (!as_array(v, path, items)) return false;
        for (dom::element item : items) {
            std::string s;
            std::string item_path = at_index(path, out.size());
            if (!(urls ? as_url(item, item_path, s) : as_string(item, item_path, s))) {
                return false;
            }
            out.push_back(std::move(s));
        }
        return true;
    });
}

} // namespace ringlet::certs::acme::detail
