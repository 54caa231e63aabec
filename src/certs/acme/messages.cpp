#include "ringlet/certs/acme/messages.hpp"

#include "ringlet/base/base64.hpp"

#include "ringlet/base/ascii.hpp"

// Error codes only: nothing on our side may throw.
#define SIMDJSON_EXCEPTIONS 0
#include <simdjson.h>

#include <array>
#include <cerrno>
#include <cstdio>

namespace ringlet::certs::acme {

namespace {

namespace dom = simdjson::dom;

constexpr std::array<std::string_view, 3> account_names{"valid", "deactivated", "revoked"};
constexpr std::array<std::string_view, 5> order_names{"pending", "ready", "processing", "valid",
                                                      "invalid"};
constexpr std::array<std::string_view, 6> authorization_names{"pending",     "valid",   "invalid",
                                                              "deactivated", "expired", "revoked"};
constexpr std::array<std::string_view, 4> challenge_status_names{"pending", "processing", "valid",
                                                                 "invalid"};
constexpr std::array<std::string_view, 2> identifier_names{"dns", "ip"};
constexpr std::array<std::string_view, 4> challenge_names{"http-01", "dns-01", "tls-alpn-01",
                                                          "unknown"};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, E e) noexcept {
    auto i = static_cast<std::size_t>(e);
    return i < N ? names[i] : std::string_view("?");
}

template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::string_view, N>& names, std::string_view s,
                          std::size_t count = N) noexcept {
    for (std::size_t i = 0; i < count; ++i) {
        if (names[i] == s) return static_cast<E>(i);
    }
    return std::nullopt;
}

// "pending, ready or valid": what a status may be, for messages.
template <std::size_t N>
std::string one_of(const std::array<std::string_view, N>& names) {
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
        if (i > 0) out += i + 1 == N ? " or " : ", ";
        out += names[i];
    }
    return out;
}

// Text from the server as it may appear in a log line: printable, one line, bounded.
std::string shown(std::string_view s, std::size_t max = 60) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        out += c < 0x20 || c == 0x7f ? '?' : s[i];
    }
    out += s.size() > max ? "\"..." : "\"";
    return out;
}

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

std::string join(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}

std::string at_index(std::string_view prefix, std::size_t i) {
    return std::string(prefix) + "[" + std::to_string(i) + "]";
}

enum class need { required, optional };

// Reads one document: typed accessors that name the failing key path in `error`.
class reader {
public:
    reader(std::string_view what, std::string& error) : what_(what), error_(error) {}

    bool open(std::string_view json, dom::object& root) {
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

    unexpected<std::error_code> failure() const { return fail_errno(code_); }

    bool fail(std::string message) {
        error_ = std::string(what_) + ": " + message;
        return false;
    }

    bool wrong_type(std::string_view path, dom::element v, std::string_view expected) {
        return fail("\"" + std::string(path) + "\" must be " + std::string(expected) + ", not " +
                    std::string(type_name(v.type())));
    }

    // Finds `key` in `o`. JSON null counts as absent. Absent and required is an error.
    bool find(dom::object o, std::string_view prefix, std::string_view key, need n,
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

    bool as_string(dom::element v, std::string_view path, std::string& out) {
        std::string_view s;
        if (v.get_string().get(s)) return wrong_type(path, v, "a string");
        out = s;
        return true;
    }

    bool as_url(dom::element v, std::string_view path, std::string& out) {
        if (!as_string(v, path, out)) return false;
        if (is_http_url(out)) return true;
        return fail("\"" + std::string(path) + "\" must be an absolute http(s) URL, not " +
                    shown(out));
    }

    bool as_time(dom::element v, std::string_view path, std::optional<std::int64_t>& out) {
        std::string text;
        if (!as_string(v, path, text)) return false;
        std::string why;
        auto t = parse_rfc3339(text, why);
        if (!t) {
            return fail("\"" + std::string(path) + "\" is not an RFC 3339 timestamp (" +
                        shown(text) + "): " + why);
        }
        out = *t;
        return true;
    }

    template <std::size_t N, class E>
    bool as_enum(dom::element v, std::string_view path,
                 const std::array<std::string_view, N>& names, E& out) {
        std::string text;
        if (!as_string(v, path, text)) return false;
        auto e = value_of<E>(names, text);
        if (!e) {
            return fail("\"" + std::string(path) + "\" is " + shown(text) + ", expected " +
                        one_of(names));
        }
        out = *e;
        return true;
    }

    bool as_object(dom::element v, std::string_view path, dom::object& out) {
        if (v.get_object().get(out)) return wrong_type(path, v, "an object");
        return true;
    }

    bool as_array(dom::element v, std::string_view path, dom::array& out) {
        if (v.get_array().get(out)) return wrong_type(path, v, "an array");
        return true;
    }

    // The common case: a field read with one of the as_ functions above.
    template <class F>
    bool field(dom::object o, std::string_view prefix, std::string_view key, need n, F&& read) {
        std::optional<dom::element> v;
        if (!find(o, prefix, key, n, v)) return false;
        return !v || read(*v, join(prefix, key));
    }

    template <std::size_t N, class E>
    bool enum_field(dom::object o, std::string_view prefix, std::string_view key,
                    const std::array<std::string_view, N>& names, E& out) {
        return field(o, prefix, key, need::required, [&](dom::element v, const std::string& p) {
            return as_enum(v, p, names, out);
        });
    }

    // An object member, read by `read(object, path)`.
    template <class F>
    bool object_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                      F&& read) {
        return field(o, prefix, key, n, [&](dom::element v, const std::string& p) {
            dom::object inner;
            return as_object(v, p, inner) && read(inner, p);
        });
    }

    // An array of objects, each read by `read(object, "key[i]")`.
    template <class F>
    bool objects_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                       F&& read) {
        return field(o, prefix, key, n, [&](dom::element v, const std::string& p) {
            dom::array items;
            if (!as_array(v, p, items)) return false;
            std::size_t i = 0;
            for (dom::element item : items) {
                std::string item_path = at_index(p, i++);
                dom::object inner;
                if (!as_object(item, item_path, inner) || !read(inner, item_path)) return false;
            }
            return true;
        });
    }

    bool string_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                      std::string& out) {
        return field(o, prefix, key, n, [&](dom::element v, const std::string& path) {
            return as_string(v, path, out);
        });
    }

    bool url_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                   std::string& out) {
        return field(o, prefix, key, n,
                     [&](dom::element v, const std::string& path) { return as_url(v, path, out); });
    }

    bool time_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                    std::optional<std::int64_t>& out) {
        return field(o, prefix, key, n, [&](dom::element v, const std::string& path) {
            return as_time(v, path, out);
        });
    }

    bool bool_field(dom::object o, std::string_view prefix, std::string_view key, bool& out) {
        return field(o, prefix, key, need::optional, [&](dom::element v, const std::string& path) {
            return !v.get_bool().get(out) || wrong_type(path, v, "a boolean");
        });
    }

    // An array of strings (URLs when `urls`).
    bool strings_field(dom::object o, std::string_view prefix, std::string_view key, need n,
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

private:
    std::string_view what_;
    std::string& error_;
    int code_ = EBADMSG;
    dom::parser parser_{max_message_bytes};
};

bool read_identifier(reader& r, dom::object o, std::string_view path, identifier& out) {
    if (!r.enum_field(o, path, "type", identifier_names, out.type) ||
        !r.string_field(o, path, "value", need::required, out.value)) {
        return false;
    }
    return !out.value.empty() || r.fail("\"" + join(path, "value") + "\" is empty");
}

bool read_problem(reader& r, dom::object o, std::string_view path, problem& out) {
    auto status = [&](dom::element v, const std::string& p) {
        std::int64_t n = 0;
        if (v.type() != dom::element_type::INT64 || v.get_int64().get(n)) {
            return r.wrong_type(p, v, "an integer");
        }
        if (n < 100 || n > 599) {
            return r.fail("\"" + p + "\" is not an HTTP status: " + std::to_string(n));
        }
        out.status = static_cast<int>(n);
        return true;
    };
    auto subproblem_at = [&](dom::object so, const std::string& p) {
        subproblem& sub = out.subproblems.emplace_back();
        return r.string_field(so, p, "type", need::optional, sub.type) &&
               r.string_field(so, p, "detail", need::optional, sub.detail) &&
               r.object_field(so, p, "identifier", need::optional,
                              [&](dom::object io, const std::string& ip) {
                                  return read_identifier(r, io, ip, sub.identifier.emplace());
                              });
    };
    return r.string_field(o, path, "type", need::optional, out.type) &&
           r.string_field(o, path, "detail", need::optional, out.detail) &&
           r.field(o, path, "status", need::optional, status) &&
           r.objects_field(o, path, "subproblems", need::optional, subproblem_at);
}

bool problem_field(reader& r, dom::object o, std::string_view prefix, std::string_view key,
                   std::optional<problem>& out) {
    return r.object_field(o, prefix, key, need::optional, [&](dom::object po, const auto& p) {
        return read_problem(r, po, p, out.emplace());
    });
}

bool read_challenge(reader& r, dom::object o, std::string_view path, challenge& out) {
    if (!r.string_field(o, path, "type", need::required, out.type)) return false;
    out.kind = value_of<challenge_type>(challenge_names, out.type, challenge_names.size() - 1)
                   .value_or(challenge_type::unknown);
    bool known = out.kind != challenge_type::unknown;
    if (!r.url_field(o, path, "url", need::required, out.url) ||
        !r.enum_field(o, path, "status", challenge_status_names, out.status) ||
        !r.string_field(o, path, "token", known ? need::required : need::optional, out.token) ||
        !r.time_field(o, path, "validated", need::optional, out.validated)) {
        return false;
    }
    if (known && !is_base64url_token(out.token)) {
        return r.fail("challenge " + out.type + " has an invalid token (" + shown(out.token, 40) +
                      "): expected 1 to 256 characters of A-Z a-z 0-9 - _");
    }
    return problem_field(r, o, path, "error", out.error);
}

bool read_meta(reader& r, dom::object m, std::string_view p, directory_meta& out) {
    auto profiles = [&](dom::element v, const std::string& pp) {
        dom::object names;
        if (!r.as_object(v, pp, names)) return false;
        for (dom::key_value_pair kv : names) {
            std::string description;
            if (!r.as_string(kv.value, join(pp, kv.key), description)) return false;
            out.profiles.insert_or_assign(std::string(kv.key), std::move(description));
        }
        return true;
    };
    return r.string_field(m, p, "termsOfService", need::optional, out.terms_of_service) &&
           r.string_field(m, p, "website", need::optional, out.website) &&
           r.strings_field(m, p, "caaIdentities", need::optional, false, out.caa_identities) &&
           r.bool_field(m, p, "externalAccountRequired", out.external_account_required) &&
           r.field(m, p, "profiles", need::optional, profiles);
}

} // namespace

std::string_view to_string(account_status s) noexcept {
    return name_of(account_names, s);
}
std::string_view to_string(order_status s) noexcept {
    return name_of(order_names, s);
}
std::string_view to_string(authorization_status s) noexcept {
    return name_of(authorization_names, s);
}
std::string_view to_string(challenge_status s) noexcept {
    return name_of(challenge_status_names, s);
}
std::string_view to_string(identifier_type t) noexcept {
    return name_of(identifier_names, t);
}
std::string_view to_string(challenge_type t) noexcept {
    return name_of(challenge_names, t);
}

template <>
std::optional<account_status> from_string<account_status>(std::string_view s) noexcept {
    return value_of<account_status>(account_names, s);
}
template <>
std::optional<order_status> from_string<order_status>(std::string_view s) noexcept {
    return value_of<order_status>(order_names, s);
}
template <>
std::optional<authorization_status> from_string<authorization_status>(std::string_view s) noexcept {
    return value_of<authorization_status>(authorization_names, s);
}
template <>
std::optional<challenge_status> from_string<challenge_status>(std::string_view s) noexcept {
    return value_of<challenge_status>(challenge_status_names, s);
}
template <>
std::optional<identifier_type> from_string<identifier_type>(std::string_view s) noexcept {
    return value_of<identifier_type>(identifier_names, s);
}
template <>
std::optional<challenge_type> from_string<challenge_type>(std::string_view s) noexcept {
    return value_of<challenge_type>(challenge_names, s, challenge_names.size() - 1);
}

bool is_bad_nonce(const problem& p) noexcept {
    return p.type == "urn:ietf:params:acme:error:badNonce";
}

std::string describe(const problem& p) {
    auto one_line = [](std::string_view s) {
        std::string out(s);
        for (char& c : out) {
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
        }
        return out;
    };
    std::string out = one_line(p.type);
    if (!p.detail.empty()) out += ": " + one_line(p.detail);
    if (p.status != 0) out += " (HTTP " + std::to_string(p.status) + ")";
    for (std::size_t i = 0; i < p.subproblems.size(); ++i) {
        const subproblem& s = p.subproblems[i];
        out += i == 0 ? "; subproblems: " : "; ";
        if (s.identifier) {
            out += std::string(to_string(s.identifier->type)) + " " +
                   one_line(s.identifier->value) + ": ";
        }
        out += s.type.empty() ? one_line(p.type) : one_line(s.type);
        if (!s.detail.empty()) out += ": " + one_line(s.detail);
    }
    return out;
}

result<directory> parse_directory(std::string_view json, std::string& error) {
    reader r("ACME directory", error);
    dom::object o;
    directory d;
    if (!r.open(json, o) || !r.url_field(o, "", "newNonce", need::required, d.new_nonce) ||
        !r.url_field(o, "", "newAccount", need::required, d.new_account) ||
        !r.url_field(o, "", "newOrder", need::required, d.new_order) ||
        !r.url_field(o, "", "revokeCert", need::optional, d.revoke_cert) ||
        !r.url_field(o, "", "keyChange", need::optional, d.key_change) ||
        !r.url_field(o, "", "newAuthz", need::optional, d.new_authz) ||
        !r.url_field(o, "", "renewalInfo", need::optional, d.renewal_info) ||
        !r.object_field(o, "", "meta", need::optional,
                        [&](dom::object m, const auto& p) { return read_meta(r, m, p, d.meta); })) {
        return r.failure();
    }
    return d;
}

result<account> parse_account(std::string_view json, std::string& error) {
    reader r("ACME account", error);
    dom::object o;
    account a;
    if (!r.open(json, o) || !r.enum_field(o, "", "status", account_names, a.status) ||
        !r.strings_field(o, "", "contact", need::optional, false, a.contact) ||
        !r.url_field(o, "", "orders", need::optional, a.orders)) {
        return r.failure();
    }
    return a;
}

result<order> parse_order(std::string_view json, std::string& error) {
    reader r("ACME order", error);
    dom::object o;
    order d;
    auto identifier_at = [&](dom::object io, const std::string& p) {
        return read_identifier(r, io, p, d.identifiers.emplace_back());
    };
    if (!r.open(json, o) || !r.enum_field(o, "", "status", order_names, d.status) ||
        !r.time_field(o, "", "expires", need::optional, d.expires) ||
        !r.objects_field(o, "", "identifiers", need::required, identifier_at) ||
        !r.time_field(o, "", "notBefore", need::optional, d.not_before) ||
        !r.time_field(o, "", "notAfter", need::optional, d.not_after) ||
        !r.strings_field(o, "", "authorizations", need::required, true, d.authorizations) ||
        !r.url_field(o, "", "finalize", need::required, d.finalize) ||
        !r.url_field(o, "", "certificate", need::optional, d.certificate) ||
        !problem_field(r, o, "", "error", d.error) ||
        !r.string_field(o, "", "replaces", need::optional, d.replaces) ||
        !r.string_field(o, "", "profile", need::optional, d.profile)) {
        return r.failure();
    }
    if (d.identifiers.empty()) {
        r.fail("\"identifiers\" is empty");
        return r.failure();
    }
    if (d.status == order_status::valid && d.certificate.empty()) {
        r.fail("the order is valid but has no \"certificate\" URL");
        return r.failure();
    }
    return d;
}

result<authorization> parse_authorization(std::string_view json, std::string& error) {
    reader r("ACME authorization", error);
    dom::object o;
    authorization a;
    auto challenge_at = [&](dom::object co, const std::string& p) {
        return read_challenge(r, co, p, a.challenges.emplace_back());
    };
    if (!r.open(json, o) || !r.enum_field(o, "", "status", authorization_names, a.status) ||
        !r.object_field(o, "", "identifier", need::required,
                        [&](dom::object io, const std::string& p) {
                            return read_identifier(r, io, p, a.identifier);
                        }) ||
        !r.time_field(o, "", "expires", need::optional, a.expires) ||
        !r.bool_field(o, "", "wildcard", a.wildcard) ||
        !r.objects_field(o, "", "challenges", need::required, challenge_at)) {
        return r.failure();
    }
    return a;
}

result<problem> parse_problem(std::string_view json, std::string& error) {
    reader r("ACME problem document", error);
    dom::object o;
    problem p;
    if (!r.open(json, o) || !read_problem(r, o, "", p)) return r.failure();
    return p;
}

result<renewal_info> parse_renewal_info(std::string_view json, std::string& error) {
    reader r("ACME renewal info", error);
    dom::object o;
    std::optional<std::int64_t> start, end;
    renewal_info info;
    if (!r.open(json, o) ||
        !r.object_field(o, "", "suggestedWindow", need::required,
                        [&](dom::object w, const std::string& p) {
                            return r.time_field(w, p, "start", need::required, start) &&
                                   r.time_field(w, p, "end", need::required, end);
                        }) ||
        !r.url_field(o, "", "explanationURL", need::optional, info.explanation_url)) {
        return r.failure();
    }
    if (*end <= *start) {
        r.fail("\"suggestedWindow\" does not end after it starts");
        return r.failure();
    }
    info.window_start = *start;
    info.window_end = *end;
    return info;
}

bool is_base64url_token(std::string_view token) noexcept {
    return token.size() <= 256 && ringlet::is_base64url_token(token);
}

bool is_json_content_type(std::string_view ct, std::string_view expected) noexcept {
    auto trim = [](std::string_view s) {
        std::size_t b = s.find_first_not_of(" \t");
        if (b == std::string_view::npos) return std::string_view();
        std::size_t e = s.find_last_not_of(" \t");
        return s.substr(b, e + 1 - b);
    };
    std::string_view type = trim(ct.substr(0, ct.find(';')));
    if (type.empty() || type.size() != expected.size()) return false;
    for (std::size_t i = 0; i < type.size(); ++i) {
        if (ascii_lower(type[i]) != ascii_lower(expected[i])) return false;
    }
    return true;
}

} // namespace ringlet::certs::acme
