// challenge_cert: the self-signed certificate that answers an ACME TLS-ALPN-01 challenge
// (RFC 8737 section 3), served for one handshake that offers ALPN "acme-tls/1" with the
// identifier's SNI.
//
// The CA validates only two things in it: subjectAltName holds exactly the identifier being
// validated (dNSName, or iPAddress for an IP identifier, RFC 8738 section 6), and the critical
// id-pe-acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holds the DER OCTET STRING of
// SHA-256(key authorization), i.e. extnValue = 04 20 <32 bytes>. Everything else is fixed: a
// fresh P-256 key per certificate (never the account key), subject and issuer CN "ACME challenge",
// a random serial, validity now - 1 h .. now + 7 d (clock skew either way), ecdsa-with-SHA256.
// Browsers never see it (no client offers acme-tls/1), and the critical unknown extension makes
// sure no ordinary client would accept it anyway.
//
// Time is injected; nothing here reads a clock.
//
//   auto c = acme::make_tls_alpn_certificate("example.com", key_authorization(token, key), now,
//   err);
//   // serve c->cert_pem / c->key_pem on ALPN acme-tls/1 for SNI example.com
#pragma once

#include "ringlet/base/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ringlet::certs::acme {

struct challenge_certificate {
    std::string cert_der; // bytes
    std::string cert_pem; // "-----BEGIN CERTIFICATE-----"
    std::string key_pem;  // SEC 1 "-----BEGIN EC PRIVATE KEY-----"
};

inline constexpr std::int64_t challenge_backdate = 3600;
inline constexpr std::int64_t challenge_lifetime = 7 * 86400;

// Errors: invalid_argument when `identifier` is neither a DNS name nor an IP literal, or is a
// wildcard (RFC 8737 section 3: no TLS-ALPN-01 for wildcards), or the key authorization is empty;
// a wolfCrypt failure otherwise. `error` says which.
result<challenge_certificate> make_tls_alpn_certificate(std::string_view identifier,
                                                        std::string_view key_authorization,
                                                        std::int64_t now, std::string& error);

} // namespace ringlet::certs::acme
