// csr: the PKCS #10 certificate signing request an ACME order is finalized with (RFC 8555
// section 7.4, RFC 2986).
//
// CAs take the names from the subjectAltName extension request and ignore most of the rest, so
// the request carries only what they read: subject CN = the first name when it fits the 64
// characters X.520 allows (otherwise an empty subject, the SAN then marked critical as RFC 5280
// 4.2.1.6 requires), and one extensionRequest attribute with subjectAltName: dNSName for host
// names (wildcards allowed), iPAddress for IPv4/IPv6 literals (RFC 8738). Names are validated and
// lower-cased as for the internal CA (der::general_names), duplicates dropped.
//
// The certificate key must be a fresh key, not the account key: CAs reject a CSR signed by the
// account key. The finalize payload is {"csr": base64url(DER)}, built by the caller.
//
//   auto key = certs::p256_key::generate(*rng, err);
//   auto csr = acme::make_csr_der({"example.com", "www.example.com"}, *key, err);
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/certs/keys.hpp"

#include <string>
#include <vector>

namespace ringlet::certs::acme {

// The DER CertificationRequest, signed with ecdsa-with-SHA256 by `key` (bytes in a string).
// Errors: invalid_argument for no names or a bad name (`error` says which); a wolfCrypt failure.
result<std::string> make_csr_der(const std::vector<std::string>& names, const p256_key& key,
                                 WC_RNG& rng, std::string& error);
// The same with a DRBG seeded for this call.
result<std::string> make_csr_der(const std::vector<std::string>& names, const p256_key& key,
                                 std::string& error);

} // namespace ringlet::certs::acme
