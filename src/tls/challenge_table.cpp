#include "ringlet/tls/challenge_table.hpp"

#include "ringlet/base/ascii.hpp"
#include "ringlet/tls/certificate.hpp"
#include "ringlet/tls/server_context.hpp"

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>

namespace ringlet::tls {

namespace {

bool same_name(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// An IPv6 identifier arrives as SNI-less or as a bracketed Host; compare without brackets.
std::string_view unbracket(std::string_view h) noexcept {
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') return h.substr(1, h.size() - 2);
    return h;
}

// The certificate and key in DER, without parse_certificate(): wolfSSL's full parser (X509 load,
// CTX_check_private_key) rejects the critical id-pe-acmeIdentifier extension that RFC 8737
// requires, while loading it into a context (which decodes only up to the key) works. The pair
// comes from certs/acme/challenge_cert, which made the key for that certificate.
result<certificate> challenge_certificate(const alpn_challenge& a, std::string& error) {
    certificate c;
    std::vector<unsigned char> der(a.cert_pem.size() + 1);
    int n = wc_CertPemToDer(reinterpret_cast<const unsigned char*>(a.cert_pem.data()),
                            static_cast<int>(a.cert_pem.size()), der.data(),
                            static_cast<int>(der.size()), CERT_TYPE);
    if (n <= 0) {
        error = "challenge certificate for " + a.host + ": not a PEM certificate";
        return fail_errno(EINVAL);
    }
    der.resize(static_cast<std::size_t>(n));
    c.chain_der.push_back(std::move(der));
    c.chain_pem = a.cert_pem;
    c.key_der.resize(a.key_pem.size() + 1);
    n = wc_KeyPemToDer(reinterpret_cast<const unsigned char*>(a.key_pem.data()),
                       static_cast<int>(a.key_pem.size()), c.key_der.data(),
                       static_cast<int>(c.key_der.size()), nullptr);
    if (n <= 0) {
        error = "challenge key for " + a.host + ": not a PEM private key";
        return fail_errno(EINVAL);
    }
    c.key_der.resize(static_cast<std::size_t>(n));
    return c;
}

} // namespace

result<std::shared_ptr<const challenge_table>>
challenge_table::build(std::vector<http_challenge> http, std::vector<alpn_challenge> alpn,
                       unsigned reactors, std::int64_t now, std::string& error) {
    (void)now; // challenge certificates are checked by their maker, not here (see above)
    auto t = std::make_shared<challenge_table>();
    for (auto& h : http) h.host = ascii_lower(h.host);
    t->http_ = std::move(http);
    for (auto& a : alpn) {
        auto cert = challenge_certificate(a, error);
        if (!cert) return unexpected{cert.error()};
        alpn_entry e;
        e.host = ascii_lower(a.host);
        for (unsigned r = 0; r < reactors; ++r) {
            auto ctx = make_server_context(*cert, nullptr, error);
            if (!ctx) return unexpected{ctx.error()};
            e.contexts.push_back(std::move(*ctx));
        }
        t->alpn_.push_back(std::move(e));
    }
    return std::shared_ptr<const challenge_table>(std::move(t));
}

const std::string* challenge_table::find_http(std::string_view token,
                                              std::string_view host) const noexcept {
    for (const http_challenge& c : http_) {
        if (c.token == token && same_name(unbracket(c.host), unbracket(host))) {
            return &c.key_authorization;
        }
    }
    return nullptr;
}

WOLFSSL_CTX* challenge_table::find_alpn(std::string_view server_name,
                                        unsigned reactor) const noexcept {
    for (const alpn_entry& e : alpn_) {
        if (same_name(e.host, server_name) && reactor < e.contexts.size()) {
            return e.contexts[reactor].get();
        }
    }
    return nullptr;
}

} // namespace ringlet::tls
