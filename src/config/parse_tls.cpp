// A site's "tls" (the internal CA, certificate files, ACME or "off") and the "acme" settings,
// read at the top level as defaults and again in each ACME site's "tls" on top of them. Separate
// because ACME has the most rules of any part: URLs, contacts, challenges, account binding, and
// which host names a CA can certify over HTTP or TLS.
#include "config/parse_reader.hpp"

#include <algorithm>

namespace ringlet::config::detail {

namespace {

// Empty if `url` can be a CA's directory URL; otherwise why not.
std::string url_problem(std::string_view url) {
    std::string_view rest;
    if (url.starts_with("https://")) {
        rest = url.substr(8);
    } else if (url.starts_with("http://")) {
        rest = url.substr(7);
    } else {
        return "it must start with https://, or http:// for a CA on this machine";
    }
    std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
    if (host.empty()) return "it has no host";
    for (char c : url) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return "it contains a space";
    }
    if (url.starts_with("http://")) {
        // Cleartext only where nobody sits in between: the CA's answers (and the certificate)
        // would otherwise be anyone's to change or withhold.
        std::string_view name = host.starts_with('[') ? host.substr(0, host.find(']') + 1)
                                                      : host.substr(0, host.rfind(':'));
        if (name != "localhost" && name != "[::1]" && !name.starts_with("127.")) {
            return "plain http:// is only for a CA on this machine (localhost, 127.0.0.1, "
                   "[::1]); use https://";
        }
    }
    return {};
}

} // namespace

tls_mode reader::read_tls(const json_value& v, const std::string& path, server::site_spec& spec) {
    static constexpr std::string_view plain[] = {"off"};
    if (v.type == json_type::string) {
        std::string s;
        bool ok = read_choice(v, path, plain, "an object like {\"issuer\": \"internal\"}", s);
        return ok ? tls_mode::off : tls_mode::internal;
    }
    if (v.type != json_type::object) {
        expected(v, path, "\"off\" or an object like {\"issuer\": \"internal\"}");
        return tls_mode::internal;
    }
    auto m = members(v, path, scope::tls);
    const json_value* issuer = m.get("issuer");
    const json_value* cert = m.get("cert");
    const json_value* key = m.get("key");
    const json_value* acme = m.get("acme");
    if (cert) read_path(*cert, join(path, "cert"), spec.cert_file);
    if (key) read_path(*key, join(path, "key"), spec.key_file);
    if (issuer) {
        static constexpr std::string_view issuers[] = {"internal", "acme"};
        std::string name;
        if (cert || key) {
            problem(error_kind::invalid, path, v.offset,
                    "expected either \"issuer\" or \"cert\" and \"key\", found both");
            spec.cert_file.clear();
            spec.key_file.clear();
        }
        if (!read_choice(*issuer, join(path, "issuer"), issuers, "", name)) {
            return tls_mode::internal;
        }
        if (name == "acme") {
            spec.acme = acme_defaults_;
            if (acme) read_acme(*acme, join(path, "acme"), *spec.acme);
            return tls_mode::acme;
        }
        if (acme) {
            problem(error_kind::invalid, join(path, "acme"), acme->offset,
                    "\"acme\" needs \"issuer\": \"acme\"");
        }
        return tls_mode::internal;
    }
    if (acme) {
        problem(error_kind::invalid, join(path, "acme"), acme->offset,
                "\"acme\" needs \"issuer\": \"acme\"");
    }
    if (cert && !key) {
        problem(error_kind::invalid, path, v.offset,
                "\"cert\" needs \"key\" (the file with the certificate's private key)");
    } else if (key && !cert) {
        problem(error_kind::invalid, path, v.offset,
                "\"key\" needs \"cert\" (the file with the certificate chain)");
    }
    return cert && key ? tls_mode::files : tls_mode::internal;
}

void reader::read_acme(const json_value& v, const std::string& path, certs::acme::settings& out) {
    if (v.type != json_type::object) {
        expected(v, path, "an object like {\"directory\": \"https://...\"}");
        return;
    }
    auto m = members(v, path, scope::acme);
    if (auto* x = m.get("directory")) {
        std::string url;
        if (read_string(*x, join(path, "directory"), url)) {
            if (std::string why = url_problem(url); !why.empty()) {
                problem(error_kind::invalid, join(path, "directory"), x->offset,
                        "expected the CA's directory URL, like \"" +
                            std::string(certs::acme::settings::lets_encrypt) + "\", found " +
                            quoted(url) + " (" + why + ")");
            } else {
                out.directory = url;
            }
        }
    }
    if (auto* x = m.get("email")) {
        std::string email;
        if (read_string(*x, join(path, "email"), email)) {
            std::size_t at = email.find('@');
            bool ok = at != std::string::npos && at > 0 && at + 1 < email.size() &&
                      email.find('@', at + 1) == std::string::npos &&
                      std::none_of(email.begin(), email.end(), [](char c) {
                          return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F || c == ',' ||
                                 c == '<' || c == '>';
                      });
            if (ok) {
                out.email = email;
            } else {
                problem(error_kind::invalid, join(path, "email"), x->offset,
                        "expected an email address like \"ops@example.com\", found " +
                            quoted(email));
            }
        }
    }
    if (auto* x = m.get("trusted_roots")) {
        read_path(*x, join(path, "trusted_roots"), out.trusted_roots);
    }
    if (auto* x = m.get("preferred_chain")) {
        read_string(*x, join(path, "preferred_chain"), out.preferred_chain);
    }
    if (auto* x = m.get("challenges")) read_challenges(*x, join(path, "challenges"), out);
    if (auto* x = m.get("eab")) read_eab(*x, join(path, "eab"), out);
}

void reader::read_challenges(const json_value& v, const std::string& path,
                             certs::acme::settings& out) {
    static constexpr std::string_view names[] = {"http-01", "tls-alpn-01"};
    if (v.type != json_type::array || v.items.empty()) {
        expected(v, path, "a list like [\"http-01\", \"tls-alpn-01\"]");
        return;
    }
    std::vector<certs::acme::challenge_type> list;
    for (std::size_t i = 0; i < v.items.size(); ++i) {
        std::string name;
        if (!read_choice(v.items[i], index(path, i), names, "", name)) continue;
        auto t = name == "http-01" ? certs::acme::challenge_type::http_01
                                   : certs::acme::challenge_type::tls_alpn_01;
        if (std::find(list.begin(), list.end(), t) != list.end()) {
            problem(error_kind::invalid, index(path, i), v.items[i].offset,
                    quoted(name) + " is listed twice");
            continue;
        }
        list.push_back(t);
    }
    if (!list.empty()) out.challenges = std::move(list);
}

void reader::read_eab(const json_value& v, const std::string& path, certs::acme::settings& out) {
    if (v.type != json_type::object) {
        expected(v, path, "an object like {\"key_id\": \"...\", \"hmac_key\": \"...\"}");
        return;
    }
    auto m = members(v, path, scope::eab);
    certs::acme::eab_settings eab;
    const json_value* kid = m.get("key_id");
    const json_value* key = m.get("hmac_key");
    if (!kid || !key) {
        problem(error_kind::invalid, path, v.offset,
                std::string("missing ") + (kid ? "\"hmac_key\"" : "\"key_id\"") +
                    " (both come from the CA)");
        return;
    }
    bool ok = read_string(*kid, join(path, "key_id"), eab.key_id);
    ok = read_string(*key, join(path, "hmac_key"), eab.hmac_key) && ok;
    if (!ok) return;
    if (eab.key_id.empty()) {
        expected(*kid, join(path, "key_id"), "the key identifier the CA gave you");
        return;
    }
    bool b64url =
        !eab.hmac_key.empty() && std::all_of(eab.hmac_key.begin(), eab.hmac_key.end(), [](char c) {
            return is_alnum(c) || c == '-' || c == '_' || c == '=';
        });
    if (!b64url) {
        problem(error_kind::invalid, join(path, "hmac_key"), key->offset,
                "expected the base64url HMAC key the CA gave you");
        return;
    }
    out.eab = std::move(eab);
}

void reader::check_acme_hosts(const server::site_spec& spec, const std::string& path,
                              std::size_t offset) {
    if (spec.hosts.empty()) {
        problem(error_kind::invalid, path, offset,
                "\"issuer\": \"acme\" needs the site's \"hosts\" (the names to certify)");
    }
    for (const std::string& h : spec.hosts) {
        bool ip = h.front() == '[' || std::all_of(h.begin(), h.end(), [](char c) {
                      return (c >= '0' && c <= '9') || c == '.';
                  });
        if (ip) {
            problem(error_kind::invalid, join(path, "hosts"), offset,
                    quoted(h) + ": ringlet does not order certificates for IP addresses yet; use "
                                "\"cert\" and \"key\" files, or the internal CA");
        }
        if (h.starts_with("*.")) {
            problem(error_kind::invalid, join(path, "hosts"), offset,
                    quoted(h) +
                        ": a wildcard certificate needs the dns-01 challenge, which ringlet "
                        "does not support yet; use \"cert\" and \"key\" files for it");
        }
    }
}

} // namespace ringlet::config::detail
