// challenge_table: the ACME challenges this process is answering right now, one immutable
// generation published by the control thread (RCU, like the certificate table) and read by every
// reactor. Kept apart from cert_table so that presenting or withdrawing a challenge (several per
// order, seconds apart) does not rebuild every certificate's contexts.
//
//  - HTTP-01 (RFC 8555 8.3): the plain listener answers GET /.well-known/acme-challenge/<token>
//    with the key authorization, but only when the request's Host is the identifier the token was
//    issued for (case-insensitively): a rebinding attacker's name gets the 404 any unknown token
//    gets. Checked before the redirect to HTTPS, as the CA speaks plain HTTP on port 80.
//  - TLS-ALPN-01 (RFC 8737): a ClientHello whose only ALPN protocol is acme-tls/1 and whose SNI is
//    a pending identifier gets that identifier's self-signed challenge certificate (built by
//    certs/acme/challenge_cert), negotiates acme-tls/1 and is closed after the handshake. Such a
//    hello for a name with no pending challenge gets no certificate at all (the caller sends an
//    alert), never the site's real one.
//
// Contexts are per reactor, as for certificates (server_context.hpp), without session tickets.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/tls/wolfssl.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::tls {

inline constexpr std::string_view acme_tls_alpn = "acme-tls/1";
inline constexpr std::string_view acme_challenge_prefix = "/.well-known/acme-challenge/";

struct http_challenge {
    std::string host;  // the identifier, lower-case
    std::string token; // base64url
    std::string key_authorization;
};

struct alpn_challenge {
    std::string host;     // the identifier, lower-case (an IP as text)
    std::string cert_pem; // self-signed, with the critical acmeIdentifier extension
    std::string key_pem;
};

class challenge_table {
public:
    static result<std::shared_ptr<const challenge_table>> build(std::vector<http_challenge> http,
                                                                std::vector<alpn_challenge> alpn,
                                                                unsigned reactors, std::int64_t now,
                                                                std::string& error);

    // The key authorization for `token` requested with Host `host` (port and trailing dot
    // already removed, any case), or null.
    const std::string* find_http(std::string_view token, std::string_view host) const noexcept;
    // The challenge context of `server_name` (any case) for this reactor, or null.
    WOLFSSL_CTX* find_alpn(std::string_view server_name, unsigned reactor) const noexcept;

    const std::vector<http_challenge>& http() const noexcept { return http_; }
    std::size_t alpn_count() const noexcept { return alpn_.size(); }

private:
    struct alpn_entry {
        std::string host;
        std::vector<ctx_ptr> contexts; // index: reactor
    };
    std::vector<http_challenge> http_; // a handful at a time: a linear scan is the fastest map
    std::vector<alpn_entry> alpn_;
};

} // namespace ringlet::tls
