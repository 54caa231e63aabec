// The reader's groundwork, shared by every part of the document: JSON paths, where each key is
// valid (so unknown and repeated keys are reported the same way in every object), problems with
// their positions, and the readers of plain values (strings, paths, booleans, choices, numbers,
// seconds). Separate from the parts so that each part reads only its own keys.
#include "config/parse_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace ringlet::config::detail {

namespace {

struct scope_info {
    scope s;
    std::string_view home; // for "goes in ..."
    std::span<const std::string_view> keys;
};

constexpr std::string_view top_keys[] = {"storage",  "workers", "listen",     "sites",    "log",
                                         "timeouts", "pidfile", "strict_sni", "pin_cpus", "acme"};
constexpr std::string_view site_keys[] = {"hosts", "root", "tls", "allow_dotfiles"};
constexpr std::string_view tls_keys[] = {"issuer", "cert", "key", "acme"};
constexpr std::string_view acme_keys[] = {"directory",  "email", "trusted_roots",
                                          "challenges", "eab",   "preferred_chain"};
constexpr std::string_view eab_keys[] = {"key_id", "hmac_key"};
constexpr std::string_view listen_keys[] = {"https", "http"};
constexpr std::string_view log_keys[] = {"level", "access"};
constexpr std::string_view timeout_keys[] = {"header", "keepalive", "drain", "send", "handshake"};

constexpr scope_info scopes[] = {
    {scope::top, "at the top level", top_keys},
    {scope::site, "in each entry of \"sites\"", site_keys},
    {scope::tls, "in a site's \"tls\"", tls_keys},
    {scope::listen, "in \"listen\"", listen_keys},
    {scope::log, "in \"log\"", log_keys},
    {scope::timeouts, "in \"timeouts\"", timeout_keys},
    {scope::acme, "in \"acme\" (at the top level or in a site's \"tls\")", acme_keys},
    {scope::eab, "in \"acme.eab\"", eab_keys},
};

const scope_info& info(scope s) {
    for (const scope_info& i : scopes) {
        if (i.s == s) return i;
    }
    return scopes[0];
}

// "a", "a or b", "a, b or c": each choice quoted, then `other` (unquoted) as the last one.
std::string choices(std::span<const std::string_view> list, std::string_view other = {}) {
    std::vector<std::string> all;
    for (std::string_view c : list) all.push_back(quoted(c));
    if (!other.empty()) all.emplace_back(other);
    std::string s;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (i > 0) s += i + 1 == all.size() ? " or " : ", ";
        s += all[i];
    }
    return s;
}

// The closest of `candidates` to `word`, if at most two edits away (and not a whole rewrite).
std::string_view closest(std::string_view word, std::span<const std::string_view> candidates) {
    std::string_view best;
    std::size_t best_distance = 3;
    for (std::string_view c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (d < best_distance && d < c.size()) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

std::string unknown_key_hint(std::string_view key, scope s) {
    for (const scope_info& other : scopes) {
        if (other.s == s) continue;
        if (std::find(other.keys.begin(), other.keys.end(), key) != other.keys.end()) {
            return " (" + quoted(key) + " goes " + std::string(other.home) + ")";
        }
    }
    const scope_info& here = info(s);
    std::string_view near = closest(key, here.keys);
    if (!near.empty()) return " (did you mean " + quoted(near) + "?)";
    std::string list;
    for (std::string_view k : here.keys) list += (list.empty() ? "" : ", ") + std::string(k);
    return " (valid keys: " + list + ")";
}

} // namespace

std::string join(std::string_view path, std::string_view key) {
    bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
    if (!plain) return std::string(path) + "[" + quoted(key) + "]";
    if (path.empty()) return std::string(key);
    return std::string(path) + "." + std::string(key);
}

std::string index(std::string_view path, std::size_t i) {
    return std::string(path) + "[" + std::to_string(i) + "]";
}

std::string found(const json_value& v) {
    switch (v.type) {
    case json_type::null:
        return "null";
    case json_type::boolean:
        return v.boolean ? "true" : "false";
    case json_type::number:
        return "a number";
    case json_type::string:
        return v.text.empty() ? "an empty string" : "a string";
    case json_type::array:
        return v.items.empty() ? "an empty array" : "an array";
    case json_type::object:
        return "an object";
    }
    return "a value";
}

config_error reader::make(error_kind kind, std::string path, std::size_t offset,
                          std::string message) {
    text_position p = position(offset);
    return config_error{kind,   std::string(file_), std::move(path),
                        p.line, p.column,           std::move(message)};
}

void reader::problem(error_kind kind, std::string path, std::size_t offset, std::string message) {
    problems_.emplace_back(offset, make(kind, std::move(path), offset, std::move(message)));
}

void reader::warn(std::string path, std::size_t offset, std::string message, parsed_config& out) {
    out.warnings.push_back(
        make(error_kind::invalid, std::move(path), offset, std::move(message)).to_string());
}

void reader::expected(const json_value& v, const std::string& path, std::string_view what) {
    problem(error_kind::invalid, path, v.offset,
            "expected " + std::string(what) + ", found " + found(v));
}

std::string reader::resolve(std::string_view p) const {
    if (p.front() == '/' || base_dir_.empty()) return std::string(p);
    return base_dir_ + std::string(p);
}

void reader::record_positions(const json_value& v, const std::string& path, parsed_config& out) {
    out.positions.emplace(path, position(v.offset));
    for (std::size_t i = 0; i < v.items.size(); ++i) {
        record_positions(v.items[i], index(path, i), out);
    }
    for (const json_member& m : v.members) record_positions(m.value, join(path, m.key), out);
}

reader::member_map reader::members(const json_value& object, const std::string& path, scope s) {
    member_map map;
    const scope_info& here = info(s);
    for (const json_member& m : object.members) {
        std::string key_path = join(path, m.key);
        if (std::find(here.keys.begin(), here.keys.end(), m.key) == here.keys.end()) {
            problem(error_kind::unknown_key, key_path, m.key_offset,
                    "unknown key " + quoted(m.key) + " " +
                        (path.empty() ? std::string("at the top level") : "in " + path) +
                        unknown_key_hint(m.key, s));
            continue;
        }
        if (const json_member* first = map.member(m.key)) {
            text_position p = position(first->key_offset);
            problem(error_kind::invalid, key_path, m.key_offset,
                    "duplicate key: " + quoted(m.key) + " is also at " + std::to_string(p.line) +
                        ":" + std::to_string(p.column));
            continue;
        }
        map.list.push_back(&m);
    }
    return map;
}

bool reader::read_string(const json_value& v, const std::string& path, std::string& out) {
    if (v.type != json_type::string) {
        expected(v, path, "a string");
        return false;
    }
    out = v.text;
    return true;
}

bool reader::read_path(const json_value& v, const std::string& path, std::string& out) {
    std::string s;
    if (!read_string(v, path, s)) return false;
    if (s.empty()) {
        expected(v, path, "a path");
        return false;
    }
    out = resolve(s);
    return true;
}

bool reader::read_bool(const json_value& v, const std::string& path, bool& out) {
    if (v.type != json_type::boolean) {
        expected(v, path, "true or false");
        return false;
    }
    out = v.boolean;
    return true;
}

bool reader::read_choice(const json_value& v, const std::string& path,
                         std::span<const std::string_view> allowed, std::string_view extra,
                         std::string& out) {
    if (v.type == json_type::string &&
        std::find(allowed.begin(), allowed.end(), v.text) != allowed.end()) {
        out = v.text;
        return true;
    }
    std::string what = choices(allowed, extra);
    if (v.type != json_type::string) {
        expected(v, path, what);
        return false;
    }
    std::string_view near = closest(v.text, allowed);
    problem(error_kind::invalid, path, v.offset,
            "expected " + what + ", found " + quoted(v.text) +
                (near.empty() ? "" : " (did you mean " + quoted(near) + "?)"));
    return false;
}

bool reader::read_integer(const json_value& v, const std::string& path, long long min,
                          long long max, std::string_view range, long long& out) {
    std::string what = "a whole number " + std::string(range);
    if (v.type != json_type::number) {
        expected(v, path, what);
        return false;
    }
    long long n = 0;
    const char* end = v.text.data() + v.text.size();
    auto [p, ec] = std::from_chars(v.text.data(), end, n);
    if (ec != std::errc() || p != end || n < min || n > max) {
        problem(error_kind::invalid, path, v.offset, "expected " + what + ", found " + v.text);
        return false;
    }
    out = n;
    return true;
}

bool reader::read_seconds(const json_value& v, const std::string& path, bool allow_zero,
                          std::int64_t& ns) {
    std::string what = allow_zero ? "a number of seconds from 0 to 86400"
                                  : "a number of seconds above 0, at most 86400";
    if (v.type != json_type::number) {
        expected(v, path, what);
        return false;
    }
    double s = 0;
    const char* end = v.text.data() + v.text.size();
    auto [p, ec] = std::from_chars(v.text.data(), end, s);
    std::int64_t n = ec == std::errc() && p == end && s >= 0 && s <= 86400
                         ? static_cast<std::int64_t>(std::llround(s * 1e9))
                         : -1;
    if (n < 0 || (n == 0 && !allow_zero)) {
        problem(error_kind::invalid, path, v.offset, "expected " + what + ", found " + v.text);
        return false;
    }
    ns = n;
    return true;
}

} // namespace ringlet::config::detail
