// der: the little ASN.1 DER that ringlet writes and reads itself (certificates, CSRs, the
// TLS-ALPN-01 challenge certificate).
//
// Why hand-written: the tuned wolfSSL build has no WOLFSSL_ALT_NAMES, so wolfSSL's `Cert` builder
// can set neither the validity dates (it stamps the wall clock) nor subjectAltName, and it cannot
// add the custom critical id-pe-acmeIdentifier extension. So we encode the to-be-signed structure
// here and let wolfCrypt hash, sign and wrap it (sign_der() in keys.hpp).
//
// Writing never fails: the builders concatenate already encoded TLVs. Reading is bounds-checked
// like any untrusted input, definite lengths only, at most 4 length bytes.
//
//   bytes name = der::make_name("", "example.com");
//   bytes ext = der::extension(der::oid::subject_alt_name, false, san);
#pragma once

#include "ringlet/base/result.hpp"

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::certs::der {

using bytes = std::vector<std::uint8_t>;
using byte_view = std::span<const std::uint8_t>;

namespace tag {
inline constexpr std::uint8_t boolean = 0x01, integer = 0x02, bit_string = 0x03,
                              octet_string = 0x04, oid = 0x06, utf8_string = 0x0c, utc_time = 0x17,
                              generalized_time = 0x18, sequence = 0x30, set = 0x31, ctx0 = 0xa0,
                              ctx3 = 0xa3, dns_name = 0x82, ip_address = 0x87,
                              key_identifier = 0x80;
}

// AlgorithmIdentifier { ecdsa-with-SHA256 } (no parameters, RFC 5758 3.2): what wc_SignCert_ex
// writes for CTC_SHA256wECDSA, and what the TBSCertificate must repeat.
inline constexpr std::uint8_t alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                                    0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};

// OIDs as complete TLVs, ready to be concatenated.
namespace oid {
inline constexpr std::uint8_t common_name[] = {0x06, 0x03, 0x55, 0x04, 0x03};
inline constexpr std::uint8_t organization[] = {0x06, 0x03, 0x55, 0x04, 0x0a};
inline constexpr std::uint8_t subject_key_id[] = {0x06, 0x03, 0x55, 0x1d, 0x0e};
inline constexpr std::uint8_t key_usage[] = {0x06, 0x03, 0x55, 0x1d, 0x0f};
inline constexpr std::uint8_t subject_alt_name[] = {0x06, 0x03, 0x55, 0x1d, 0x11};
inline constexpr std::uint8_t basic_constraints[] = {0x06, 0x03, 0x55, 0x1d, 0x13};
inline constexpr std::uint8_t authority_key_id[] = {0x06, 0x03, 0x55, 0x1d, 0x23};
inline constexpr std::uint8_t ext_key_usage[] = {0x06, 0x03, 0x55, 0x1d, 0x25};
inline constexpr std::uint8_t server_auth[] = {0x06, 0x08, 0x2b, 0x06, 0x01,
                                               0x05, 0x05, 0x07, 0x03, 0x01};
// PKCS #9 extensionRequest 1.2.840.113549.1.9.14 (the CSR attribute carrying the SAN).
inline constexpr std::uint8_t extension_request[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                     0xf7, 0x0d, 0x01, 0x09, 0x0e};
// id-pe-acmeIdentifier 1.3.6.1.5.5.7.1.31 (RFC 8737 section 6.1).
inline constexpr std::uint8_t acme_identifier[] = {0x06, 0x08, 0x2b, 0x06, 0x01,
                                                   0x05, 0x05, 0x07, 0x01, 0x1f};
} // namespace oid

// ---- writing --------------------------------------------------------------------------------

void append_length(bytes& out, std::size_t n);
void append(bytes& out, byte_view b);
// tag, length, then the parts concatenated.
bytes tlv(std::uint8_t t, std::initializer_list<byte_view> parts);

inline byte_view as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Name ::= SEQUENCE OF RDN, one attribute per RDN, UTF8String values (RFC 5280 4.1.2.4).
// Empty strings are left out, so make_name("", "") is the empty Name.
bytes make_name(std::string_view organization, std::string_view common_name);

// Extension ::= SEQUENCE { extnID, critical (only when true: DER omits the default), OCTET
// STRING { value } }.
bytes extension(byte_view oid, bool critical, byte_view value);

// The TBSCertificate of an X.509 v3 certificate signed with ecdsa-with-SHA256. Every field is an
// encoded TLV (times from encode_time()); `extensions` is the concatenation of Extension TLVs.
struct tbs_fields {
    byte_view serial; // INTEGER content: positive, minimal
    byte_view issuer;
    byte_view not_before, not_after;
    byte_view subject;
    byte_view spki;
    byte_view extensions;
};
bytes tbs_certificate(const tbs_fields& f);

// GeneralNames for subjectAltName: IPv4/IPv6 literals ("127.0.0.1", "::1"; no brackets or zone)
// become iPAddress, everything else must be a DNS name (lower-cased here, one trailing dot
// dropped, letters/digits/hyphens, a wildcard only as the whole leftmost label, not all-numeric
// in the last label) and becomes dNSName. Duplicates are dropped. `first` receives the first name
// in canonical form, for a subject CN. Errors (invalid_argument, `error` says which name): no
// names, or a name that is neither.
result<bytes> general_names(std::span<const std::string> names, std::string& first,
                            std::string& error);

// ---- time -----------------------------------------------------------------------------------

// RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always Z and seconds.
// Empty when the year has no four-digit representation (outside 1..9999).
bytes encode_time(std::int64_t unix_seconds);
// The content of a UTCTime/GeneralizedTime (tag `t`) in the forms encode_time() writes.
bool decode_time(std::uint8_t t, byte_view content, std::int64_t& unix_seconds);
// For error messages: "2036-11-28 18:59:00 UTC".
std::string format_time(std::int64_t unix_seconds);

// ---- reading --------------------------------------------------------------------------------

struct reader {
    byte_view rest;

    bool at_end() const { return rest.empty(); }
    bool peek(std::uint8_t t) const { return !rest.empty() && rest[0] == t; }
    // Consumes one element with tag `t`; `content` is its value, `whole` (optional) the TLV.
    bool next(std::uint8_t t, byte_view& content, byte_view* whole = nullptr);
    // Consumes an element with tag `t` if there is one; false only when it is malformed.
    bool skip_optional(std::uint8_t t);
};

bool equal(byte_view a, byte_view b);

// The parts of a Certificate that ringlet checks (its own CA certificates).
struct parsed_cert {
    byte_view tbs;       // TBSCertificate TLV: what the signature covers
    byte_view sig_alg;   // outer AlgorithmIdentifier TLV
    byte_view signature; // DER ECDSA-Sig-Value (BIT STRING content without the unused-bits byte)
    byte_view issuer;    // Name TLV
    byte_view subject;   // Name TLV
    byte_view spki;      // SubjectPublicKeyInfo TLV
    byte_view key_id;    // subjectKeyIdentifier value, empty if absent
    std::int64_t not_before = 0, not_after = 0;
};
// The views point into `der`. False when it is not a well-formed certificate.
bool parse_certificate(byte_view der, parsed_cert& out);

} // namespace ringlet::certs::der
