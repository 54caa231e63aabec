// The ACME documents (RFC 8555, ARI RFC 9773): the status names, and which fields each document
// must or may hold. How a field is read and checked is json_reader's business (json_reader.hpp).
#include "ringlet/certs/acme/messages.hpp"

#include "ringlet/base/base64.hpp"

#include "ringlet/base/ascii.hpp"

#include "certs/acme/json_reader.hpp"

#include <array>

namespace ringlet::certs::acme {

namespace {

namespace dom = simdjson::dom;
using detail::join;
using detail::need;
using detail::quoted_path;
using detail::reader;
using detail::shown;
using detail::value_of;

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

bool read_identifier(reader& r, dom::object o, std::string_view path, identifier& out) {
    if (!r.enum_field(o, path, "type", identifier_names, out.type) ||
        !r.string_field(o, path, "value", need::required, out.value)) {
        return false;
    }
    return !out.value.empty() || r.fail(quoted_path(join(path, "value")) + " is empty");
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