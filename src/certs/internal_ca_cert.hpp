// The certificates of the internal CA, built and checked. Private to src/certs: internal_ca.cpp,
// which keeps the CA's files and lifecycle, is the only user; apart so that the X.509 details
// (extensions, key identifiers, signatures) live in one place.
//
// The certificates are DER-encoded by hand (der.hpp says why) and signed by wolfCrypt, which does
// all the cryptography (key generation, SHA-256, ECDSA, SPKI encoding, SEC 1 key files, PEM).
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/certs/der.hpp"
#include "ringlet/certs/keys.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ringlet::certs::detail {

// A failed wolfCrypt call, in the CA's words: "internal CA: <what>: <wolfCrypt's reason>".
unexpected<std::error_code> fail_ca(int ret, std::string& error, std::string_view what);

// RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits (the uncompressed point).
result<der::bytes> key_identifier(const p256_key& key, std::string& error);

enum class cert_kind { root, intermediate, leaf };

struct cert_request {
    cert_kind kind;
    der::byte_view issuer;        // issuer Name TLV
    der::byte_view issuer_key_id; // authorityKeyIdentifier (not written for the self-signed root)
    der::byte_view subject;       // subject Name TLV
    der::byte_view subject_key_id;
    std::int64_t not_before;
    std::int64_t not_after;
    der::byte_view san; // leaf: GeneralNames
    bool san_critical = false;
};

// Builds the TBSCertificate (a random serial, `subject_key`'s SPKI, the extensions of `req.kind`)
// and has wolfCrypt sign it with `signer` (ecdsa-with-SHA256). Errors: invalid_argument for
// validity dates outside the years 1..9999, else those of keys.hpp; `error` starts with
// "internal CA: ".
result<der::bytes> make_certificate(const cert_request& req, const p256_key& subject_key,
                                    const p256_key& signer, WC_RNG& rng, std::string& error);

// True when `c` carries a valid ecdsa-with-SHA256 signature made by `key`.
bool signed_by(const der::parsed_cert& c, const p256_key& key);

} // namespace ringlet::certs::detail
