#include "ringlet/certs/internal_ca.hpp"

#include "ringlet/base/unique_fd.hpp"

// wolfSSL: options.h first, always (it carries the defines the library was built with).
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>

#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

// Why the certificates are DER-encoded here rather than with wolfSSL's `Cert` builder:
// the tuned wolfSSL build has no WOLFSSL_ALT_NAMES, so `Cert` has neither `beforeDate`/`afterDate`
// (MakeCert stamps the wall clock + whole `daysValid` days: useless with an injected `now` and
// second-exact lifetimes) nor `altNames` (no SAN at all, let alone iPAddress entries). Defining the
// macro ourselves would change the struct layout against the compiled library. The OpenSSL-compat
// builder does not help either: in this build wolfSSL_X509_set_notBefore() returns failure and
// wolfSSL_X509_sign() stamps the wall clock + 500 days (checked with a probe program).
// So we encode the TBSCertificate ourselves (a few dozen lines of DER) and let wc_SignCert_ex
// hash, sign with ECDSA and wrap it into a Certificate: wolfCrypt still does all the
// cryptography (key generation, SHA-256, ECDSA, SPKI encoding, SEC 1 key files, PEM).

namespace ringlet::certs {

namespace {

using bytes = std::vector<std::uint8_t>;
using byte_view = std::span<const std::uint8_t>;

// ---- errors ---------------------------------------------------------------------------------

class wolfcrypt_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "wolfcrypt"; }
    std::string message(int ev) const override { return wc_GetErrorString(ev); }
};

const std::error_category& wolfcrypt_category() {
    static const wolfcrypt_category_impl c;
    return c;
}

unexpected<std::error_code> fail(std::error_code ec, std::string& error, std::string message) {
    error = std::move(message);
    return {ec};
}

unexpected<std::error_code> fail(std::errc e, std::string& error, std::string message) {
    return fail(std::make_error_code(e), error, std::move(message));
}

// A failed wolfCrypt call: `what` says what we were doing; the code carries wolfCrypt's reason.
unexpected<std::error_code> fail_wc(int ret, std::string& error, std::string_view what) {
    std::error_code ec(ret != 0 ? ret : BAD_FUNC_ARG, wolfcrypt_category());
    return fail(ec, error, "internal CA: " + std::string(what) + ": " + ec.message());
}

unexpected<std::error_code> fail_sys(int e, std::string& error, const std::string& path) {
    return fail(errno_code(e), error, path + ": " + errno_code(e).message());
}

// Error messages quote caller-supplied names; keep control bytes out of the logs.
std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        }
    }
    return out;
}

// ---- wolfCrypt objects ----------------------------------------------------------------------

struct ecc_key_deleter {
    void operator()(ecc_key* k) const noexcept { wc_ecc_key_free(k); } // wc_ecc_free + free
};
using ecc_ptr = std::unique_ptr<ecc_key, ecc_key_deleter>;

struct rng_deleter {
    void operator()(WC_RNG* r) const noexcept { wc_rng_free(r); } // wc_FreeRng + free
};
using rng_ptr = std::unique_ptr<WC_RNG, rng_deleter>;

void wolfcrypt_init() {
    // Reference-counted inside wolfCrypt; once per process is all we need.
    static const int ret = wolfCrypt_Init();
    (void)ret;
}

result<rng_ptr> new_rng(std::string& error) {
    rng_ptr rng(wc_rng_new(nullptr, 0, nullptr));
    if (!rng) return fail_wc(RNG_FAILURE_E, error, "seeding the random number generator");
    return rng;
}

result<ecc_ptr> new_p256_key(WC_RNG* rng, std::string& error) {
    ecc_ptr key(wc_ecc_key_new(nullptr));
    if (!key) return fail_wc(MEMORY_E, error, "allocating an EC key");
    if (int ret = wc_ecc_make_key_ex(rng, 32, key.get(), ECC_SECP256R1); ret != 0)
        return fail_wc(ret, error, "generating an EC P-256 key");
    return key;
}

// ---- DER writing ----------------------------------------------------------------------------

namespace tag {
constexpr std::uint8_t boolean = 0x01, integer = 0x02, bit_string = 0x03, octet_string = 0x04,
                       oid = 0x06, utf8_string = 0x0c, utc_time = 0x17, generalized_time = 0x18,
                       sequence = 0x30, set = 0x31, ctx0 = 0xa0, ctx3 = 0xa3, dns_name = 0x82,
                       ip_address = 0x87, key_identifier = 0x80;
}

// AlgorithmIdentifier { ecdsa-with-SHA256 } (no parameters, RFC 5758 3.2).
constexpr std::uint8_t alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                             0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
// OIDs as complete TLVs.
constexpr std::uint8_t oid_common_name[] = {0x06, 0x03, 0x55, 0x04, 0x03};
constexpr std::uint8_t oid_organization[] = {0x06, 0x03, 0x55, 0x04, 0x0a};
constexpr std::uint8_t oid_subject_key_id[] = {0x06, 0x03, 0x55, 0x1d, 0x0e};
constexpr std::uint8_t oid_key_usage[] = {0x06, 0x03, 0x55, 0x1d, 0x0f};
constexpr std::uint8_t oid_subject_alt_name[] = {0x06, 0x03, 0x55, 0x1d, 0x11};
constexpr std::uint8_t oid_basic_constraints[] = {0x06, 0x03, 0x55, 0x1d, 0x13};
constexpr std::uint8_t oid_authority_key_id[] = {0x06, 0x03, 0x55, 0x1d, 0x23};
constexpr std::uint8_t oid_ext_key_usage[] = {0x06, 0x03, 0x55, 0x1d, 0x25};
constexpr std::uint8_t oid_server_auth[] = {0x06, 0x08, 0x2b, 0x06, 0x01,
                                            0x05, 0x05, 0x07, 0x03, 0x01};

void append_length(bytes& out, std::size_t n) {
    if (n < 0x80) {
        out.push_back(static_cast<std::uint8_t>(n));
        return;
    }
    std::uint8_t be[sizeof(std::size_t)];
    int k = 0;
    for (; n != 0; n >>= 8) be[k++] = static_cast<std::uint8_t>(n);
    out.push_back(static_cast<std::uint8_t>(0x80 | k));
    while (k > 0) out.push_back(be[--k]);
}

// tag, length, then the parts concatenated.
bytes tlv(std::uint8_t t, std::initializer_list<byte_view> parts) {
    std::size_t n = 0;
    for (byte_view p : parts) n += p.size();
    bytes out;
    out.reserve(n + 6);
    out.push_back(t);
    append_length(out, n);
    for (byte_view p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

byte_view as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void append(bytes& out, byte_view b) {
    out.insert(out.end(), b.begin(), b.end());
}

// Name ::= SEQUENCE OF RDN, one attribute per RDN, UTF8String values (RFC 5280 4.1.2.4).
// Empty strings are left out, so make_name("", "") is the empty Name.
bytes make_name(std::string_view organization, std::string_view common_name) {
    bytes rdns;
    auto add = [&](byte_view oid, std::string_view value) {
        if (value.empty()) return;
        append(rdns, tlv(tag::set,
                         {tlv(tag::sequence, {oid, tlv(tag::utf8_string, {as_bytes(value)})})}));
    };
    add(oid_organization, organization);
    add(oid_common_name, common_name);
    return tlv(tag::sequence, {rdns});
}

bytes extension(byte_view oid, bool critical, byte_view value) {
    static constexpr std::uint8_t der_true[] = {tag::boolean, 0x01, 0xff};
    bytes wrapped = tlv(tag::octet_string, {value});
    if (critical) return tlv(tag::sequence, {oid, der_true, wrapped});
    return tlv(tag::sequence, {oid, wrapped});
}

// ---- time -----------------------------------------------------------------------------------

// Proleptic Gregorian calendar <-> days since 1970-01-01 (H. Hinnant's algorithms); no time zone
// database or locale involved.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_time {
    std::int64_t year;
    unsigned month, day, hour, minute, second;
};

civil_time civil_from_unix(std::int64_t t) {
    std::int64_t z = t / 86400;
    std::int64_t secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        --z;
    }
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
    const auto s = static_cast<unsigned>(secs);
    return {y, m, d, s / 3600, s / 60 % 60, s % 60};
}

// For error messages: "2036-11-28 18:59:00 UTC".
std::string format_time(std::int64_t t) {
    civil_time c = civil_from_unix(t);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02u:%02u:%02u UTC",
                  static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second);
    return buf;
}

// RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always Z and seconds.
// Empty when the year has no four-digit representation.
bytes encode_time(std::int64_t t) {
    civil_time c = civil_from_unix(t);
    if (c.year < 1 || c.year > 9999) return {};
    char buf[24];
    if (c.year >= 1950 && c.year <= 2049) {
        std::snprintf(buf, sizeof buf, "%02u%02u%02u%02u%02u%02uZ",
                      static_cast<unsigned>(c.year % 100), c.month, c.day, c.hour, c.minute,
                      c.second);
        return tlv(tag::utc_time, {as_bytes(buf)});
    }
    std::snprintf(buf, sizeof buf, "%04u%02u%02u%02u%02u%02uZ", static_cast<unsigned>(c.year),
                  c.month, c.day, c.hour, c.minute, c.second);
    return tlv(tag::generalized_time, {as_bytes(buf)});
}

bool parse_digits(byte_view s, std::size_t at, std::size_t n, unsigned& out) {
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

bool decode_time(std::uint8_t t, byte_view s, std::int64_t& out) {
    unsigned year = 0, month, day, hour, minute, second;
    std::size_t at = 0;
    if (t == tag::utc_time && s.size() == 13) {
        if (!parse_digits(s, 0, 2, year)) return false;
        year += year < 50 ? 2000 : 1900;
        at = 2;
    } else if (t == tag::generalized_time && s.size() == 15) {
        if (!parse_digits(s, 0, 4, year)) return false;
        at = 4;
    } else {
        return false;
    }
    if (!parse_digits(s, at, 2, month) || !parse_digits(s, at + 2, 2, day) ||
        !parse_digits(s, at + 4, 2, hour) || !parse_digits(s, at + 6, 2, minute) ||
        !parse_digits(s, at + 8, 2, second) || s[at + 10] != 'Z')
        return false;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
        return false;
    out = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    return true;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    return r;
}

// ---- DER reading (only our own certificates, but bounds-checked like any input) ------------

struct der_reader {
    byte_view rest;

    bool at_end() const { return rest.empty(); }
    bool peek(std::uint8_t t) const { return !rest.empty() && rest[0] == t; }

    // Consumes one element with tag `t`; `content` is its value, `whole` (optional) the TLV.
    bool next(std::uint8_t t, byte_view& content, byte_view* whole = nullptr) {
        if (rest.size() < 2 || rest[0] != t) return false;
        std::size_t len = rest[1];
        std::size_t header = 2;
        if (len & 0x80) {
            const std::size_t k = len & 0x7f;
            if (k == 0 || k > 4 || rest.size() < 2 + k) return false; // no indefinite lengths
            len = 0;
            for (std::size_t i = 0; i < k; ++i) len = len << 8 | rest[2 + i];
            header += k;
        }
        if (len > rest.size() - header) return false;
        content = rest.subspan(header, len);
        if (whole) *whole = rest.first(header + len);
        rest = rest.subspan(header + len);
        return true;
    }
    bool skip_optional(std::uint8_t t) {
        byte_view ignored;
        return !peek(t) || next(t, ignored);
    }
};

bool equal(byte_view a, byte_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

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

bool parse_extensions(byte_view wrapped, parsed_cert& out) {
    der_reader w{wrapped};
    byte_view list;
    if (!w.next(tag::sequence, list) || !w.at_end()) return false;
    der_reader r{list};
    while (!r.at_end()) {
        byte_view ext, oid, value;
        if (!r.next(tag::sequence, ext)) return false;
        der_reader e{ext};
        byte_view oid_whole;
        if (!e.next(tag::oid, oid, &oid_whole) || !e.skip_optional(tag::boolean) ||
            !e.next(tag::octet_string, value) || !e.at_end())
            return false;
        if (equal(oid_whole, oid_subject_key_id)) {
            der_reader v{value};
            if (!v.next(tag::octet_string, out.key_id) || !v.at_end()) return false;
        }
    }
    return true;
}

bool parse_certificate(byte_view der, parsed_cert& out) {
    der_reader top{der};
    byte_view cert, tbs, ignored, validity, signature;
    if (!top.next(tag::sequence, cert) || !top.at_end()) return false;
    der_reader c{cert};
    if (!c.next(tag::sequence, tbs, &out.tbs) || !c.next(tag::sequence, ignored, &out.sig_alg) ||
        !c.next(tag::bit_string, signature) || !c.at_end())
        return false;
    if (signature.empty() || signature[0] != 0) return false;
    out.signature = signature.subspan(1);

    der_reader t{tbs};
    if (!t.skip_optional(tag::ctx0) || !t.next(tag::integer, ignored) ||
        !t.next(tag::sequence, ignored) || !t.next(tag::sequence, ignored, &out.issuer) ||
        !t.next(tag::sequence, validity) || !t.next(tag::sequence, ignored, &out.subject) ||
        !t.next(tag::sequence, ignored, &out.spki) || !t.skip_optional(0x81) ||
        !t.skip_optional(0x82))
        return false;
    if (t.peek(tag::ctx3)) {
        byte_view exts;
        if (!t.next(tag::ctx3, exts) || !parse_extensions(exts, out)) return false;
    }
    if (!t.at_end()) return false;

    der_reader v{validity};
    for (std::int64_t* when : {&out.not_before, &out.not_after}) {
        if (v.rest.empty()) return false;
        const std::uint8_t time_tag = v.rest[0];
        byte_view s;
        if (!v.next(time_tag, s) || !decode_time(time_tag, s, *when)) return false;
    }
    return v.at_end();
}

// ---- keys and certificates with wolfCrypt ---------------------------------------------------

result<bytes> public_key_info(ecc_key* key, std::string& error) {
    bytes spki(256);
    int n = wc_EccPublicKeyToDer(key, spki.data(), static_cast<word32>(spki.size()), 1);
    if (n <= 0) return fail_wc(n, error, "encoding a public key");
    spki.resize(static_cast<std::size_t>(n));
    return spki;
}

// RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits (the uncompressed point).
result<bytes> key_identifier(ecc_key* key, std::string& error) {
    std::uint8_t point[1 + 2 * MAX_ECC_BYTES];
    word32 point_len = sizeof point;
    if (int ret = wc_ecc_export_x963(key, point, &point_len); ret != 0)
        return fail_wc(ret, error, "exporting a public key");
    bytes id(WC_SHA_DIGEST_SIZE);
    if (int ret = wc_ShaHash(point, point_len, id.data()); ret != 0)
        return fail_wc(ret, error, "hashing a public key");
    return id;
}

result<std::string> der_to_pem(byte_view der, int type, std::string& error) {
    // Base64 grows by 4/3, plus a newline per 64 characters and the BEGIN/END lines.
    std::string pem(der.size() * 2 + 128, '\0');
    int n = wc_DerToPem(der.data(), static_cast<word32>(der.size()),
                        reinterpret_cast<byte*>(pem.data()), static_cast<word32>(pem.size()), type);
    if (n <= 0) return fail_wc(n, error, "PEM encoding");
    pem.resize(static_cast<std::size_t>(n));
    return pem;
}

// SEC 1 "EC PRIVATE KEY" PEM, with the curve OID and public key (what wc_EccKeyToDer writes).
result<std::string> private_key_pem(ecc_key* key, std::string& error) {
    std::uint8_t der[256];
    int n = wc_EccKeyToDer(key, der, sizeof der);
    if (n <= 0) return fail_wc(n, error, "encoding a private key");
    auto pem = der_to_pem(byte_view(der, static_cast<std::size_t>(n)), ECC_PRIVATEKEY_TYPE, error);
    explicit_bzero(der, sizeof der);
    return pem;
}

enum class cert_kind { root, intermediate, leaf };

struct cert_request {
    cert_kind kind;
    byte_view issuer;        // issuer Name TLV
    byte_view issuer_key_id; // authorityKeyIdentifier (not written for the self-signed root)
    byte_view subject;       // subject Name TLV
    byte_view subject_key_id;
    std::int64_t not_before;
    std::int64_t not_after;
    byte_view san; // leaf: GeneralNames
    bool san_critical = false;
};

// Builds the TBSCertificate and has wolfCrypt sign it with `signer` (ecdsa-with-SHA256).
result<bytes> make_certificate(const cert_request& req, ecc_key* subject_key, ecc_key* signer,
                               WC_RNG* rng, std::string& error) {
    static constexpr std::uint8_t version_v3[] = {tag::ctx0, 0x03, tag::integer, 0x01, 0x02};

    // A positive serial with 127 random bits: the top bit is cleared so that the INTEGER needs no
    // leading zero byte, and a zero first byte is avoided so that the encoding stays minimal.
    std::uint8_t serial[16];
    if (int ret = wc_RNG_GenerateBlock(rng, serial, sizeof serial); ret != 0)
        return fail_wc(ret, error, "generating a serial number");
    serial[0] &= 0x7f;
    if (serial[0] == 0) serial[0] = 1;

    bytes not_before = encode_time(req.not_before);
    bytes not_after = encode_time(req.not_after);
    if (not_before.empty() || not_after.empty())
        return fail(std::errc::invalid_argument, error,
                    "internal CA: validity dates out of range (year 1..9999)");

    auto spki = public_key_info(subject_key, error);
    if (!spki) return unexpected{spki.error()};

    bytes exts;
    switch (req.kind) {
    case cert_kind::root: {
        static constexpr std::uint8_t ca[] = {tag::sequence, 0x03, tag::boolean, 0x01, 0xff};
        append(exts, extension(oid_basic_constraints, true, ca));
        break;
    }
    case cert_kind::intermediate: {
        static constexpr std::uint8_t ca_pathlen0[] = {
            tag::sequence, 0x06, tag::boolean, 0x01, 0xff, tag::integer, 0x01, 0x00};
        append(exts, extension(oid_basic_constraints, true, ca_pathlen0));
        break;
    }
    case cert_kind::leaf: {
        static constexpr std::uint8_t not_ca[] = {tag::sequence, 0x00};
        append(exts, extension(oid_basic_constraints, true, not_ca));
        break;
    }
    }
    if (req.kind == cert_kind::leaf) {
        static constexpr std::uint8_t digital_signature[] = {tag::bit_string, 0x02, 0x07, 0x80};
        append(exts, extension(oid_key_usage, true, digital_signature));
        append(exts, extension(oid_ext_key_usage, false, tlv(tag::sequence, {oid_server_auth})));
        append(exts, extension(oid_subject_alt_name, req.san_critical, req.san));
    } else {
        static constexpr std::uint8_t cert_and_crl_sign[] = {tag::bit_string, 0x02, 0x01, 0x06};
        append(exts, extension(oid_key_usage, true, cert_and_crl_sign));
    }
    append(exts,
           extension(oid_subject_key_id, false, tlv(tag::octet_string, {req.subject_key_id})));
    if (req.kind != cert_kind::root) {
        append(exts,
               extension(oid_authority_key_id, false,
                         tlv(tag::sequence, {tlv(tag::key_identifier, {req.issuer_key_id})})));
    }

    bytes buf =
        tlv(tag::sequence, {version_v3, tlv(tag::integer, {serial}), alg_ecdsa_sha256, req.issuer,
                            tlv(tag::sequence, {not_before, not_after}), req.subject, *spki,
                            tlv(tag::ctx3, {tlv(tag::sequence, {exts})})});
    const auto tbs_len = static_cast<int>(buf.size());
    // wc_SignCert_ex signs buf[0, tbs_len) and rewrites buf in place as
    // Certificate { tbs, algorithm, signature }: leave room for the wrapper and an ECDSA signature.
    buf.resize(buf.size() + 256);
    int n = wc_SignCert_ex(tbs_len, CTC_SHA256wECDSA, buf.data(), static_cast<word32>(buf.size()),
                           ECC_TYPE, signer, rng);
    if (n <= 0) return fail_wc(n, error, "signing a certificate");
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

// True when `c` carries a valid ecdsa-with-SHA256 signature made by `key`.
bool signed_by(const parsed_cert& c, ecc_key* key) {
    if (!equal(c.sig_alg, alg_ecdsa_sha256)) return false;
    std::uint8_t hash[WC_SHA256_DIGEST_SIZE];
    if (wc_Sha256Hash(c.tbs.data(), static_cast<word32>(c.tbs.size()), hash) != 0) return false;
    int verified = 0;
    int ret = wc_ecc_verify_hash(c.signature.data(), static_cast<word32>(c.signature.size()), hash,
                                 sizeof hash, &verified, key);
    return ret == 0 && verified == 1;
}

result<ecc_ptr> decode_private_key(const std::string& pem, const std::string& path,
                                   std::string& error) {
    bytes der(pem.size());
    int n = wc_KeyPemToDer(reinterpret_cast<const unsigned char*>(pem.data()),
                           static_cast<int>(pem.size()), der.data(), static_cast<int>(der.size()),
                           nullptr);
    if (n <= 0)
        return fail(std::errc::bad_message, error,
                    path + ": not a PEM private key (corrupt file?)");
    ecc_ptr key(wc_ecc_key_new(nullptr));
    if (!key) return fail_wc(MEMORY_E, error, "allocating an EC key");
    word32 idx = 0;
    int ret = wc_EccPrivateKeyDecode(der.data(), &idx, key.get(), static_cast<word32>(n));
    explicit_bzero(der.data(), der.size());
    if (ret != 0)
        return fail(std::errc::bad_message, error,
                    path + ": not an EC private key: " + wc_GetErrorString(ret));
    if (key->dp == nullptr || key->dp->id != ECC_SECP256R1)
        return fail(std::errc::bad_message, error, path + ": not an EC P-256 key");
    // A SEC 1 key may omit the public point; everything below needs it.
    if (key->type == ECC_PRIVATEKEY_ONLY) {
        if (ret = wc_ecc_make_pub(key.get(), nullptr); ret != 0)
            return fail_wc(ret, error, "deriving the public key of " + path);
        key->type = ECC_PRIVATEKEY;
    }
    if (ret = wc_ecc_check_key(key.get()); ret != 0)
        return fail(std::errc::bad_message, error,
                    path + ": inconsistent EC key: " + wc_GetErrorString(ret));
    return key;
}

// ---- files ----------------------------------------------------------------------------------

constexpr std::size_t max_file_size = 1 << 20; // CA files are a few hundred bytes

// Reads a whole regular file. On failure the code is the errno (ENOENT for a missing file) and
// `error` names the path.
result<std::string> read_file(const std::string& path, std::string& error) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) return fail_sys(errno, error, path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_sys(errno, error, path);
    if (!S_ISREG(st.st_mode))
        return fail(std::errc::bad_message, error, path + ": not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > max_file_size)
        return fail(std::errc::file_too_large, error, path + ": too large for a CA file");
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_sys(errno, error, path);
        if (n == 0) break; // shrank while we read: parse what we have
        done += static_cast<std::size_t>(n);
    }
    data.resize(done);
    return data;
}

result<void> fsync_dir(const std::string& dir, std::string& error) {
    unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) return fail_sys(errno, error, dir);
    return {};
}

std::string parent_dir(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

// mkdir -p; every folder it creates gets mode 0700 (whatever the umask) and is made durable by
// an fsync of its parent. Existing folders are left as they are.
result<void> make_dirs(const std::string& path, std::string& error) {
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        const std::string prefix = path.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0700) == 0) {
            if (::chmod(prefix.c_str(), 0700) != 0) return fail_sys(errno, error, prefix);
            if (auto r = fsync_dir(parent_dir(prefix), error); !r) return r;
            continue;
        }
        // EEXIST, or EACCES/EROFS on a parent that exists: fine if it is a folder.
        const int mkdir_errno = errno;
        struct stat st {};
        if (::stat(prefix.c_str(), &st) != 0) return fail_sys(mkdir_errno, error, prefix);
        if (!S_ISDIR(st.st_mode)) return fail_sys(ENOTDIR, error, prefix);
    }
    return {};
}

// Replaces dir/name atomically: a temporary file in the same folder, written, fsynced and renamed
// over the old one, then the folder fsynced so that the rename itself survives a crash.
result<void> write_file_atomic(const std::string& dir, const std::string& name,
                               std::string_view data, mode_t mode, std::string& error) {
    const std::string path = dir + "/" + name;
    std::string tmp = dir + "/." + name + ".tmp-XXXXXX";
    unique_fd fd(::mkostemp(tmp.data(), O_CLOEXEC)); // mode 0600 from the start
    if (!fd) return fail_sys(errno, error, path);
    struct unlink_on_error {
        const std::string& path;
        bool armed = true;
        ~unlink_on_error() {
            if (armed) ::unlink(path.c_str());
        }
    } guard{tmp};

    if (::fchmod(fd.get(), mode) != 0) return fail_sys(errno, error, tmp);
    for (std::size_t done = 0; done < data.size();) {
        ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_sys(errno, error, tmp);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return fail_sys(errno, error, tmp);
    if (::close(fd.release()) != 0) return fail_sys(errno, error, tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail_sys(errno, error, path);
    guard.armed = false;
    return fsync_dir(dir, error);
}

// ---- names ----------------------------------------------------------------------------------

// Lower-cased LDH name, one trailing dot dropped, optionally "*." + name; empty if invalid.
std::string normalize_dns_name(std::string_view in) {
    if (!in.empty() && in.back() == '.') in.remove_suffix(1);
    if (in.empty() || in.size() > 253) return {};
    std::string out(in);
    std::size_t label_start = 0;
    for (std::size_t i = 0; i <= out.size(); ++i) {
        if (i < out.size() && out[i] != '.') {
            char& c = out[i];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            continue;
        }
        std::string_view label(out.data() + label_start, i - label_start);
        const bool first = label_start == 0;
        const bool last = i == out.size();
        label_start = i + 1;
        if (label.empty() || label.size() > 63) return {};
        if (label == "*") {
            if (!first || last) return {}; // wildcard: the whole leftmost label, not the only one
            continue;
        }
        if (label.front() == '-' || label.back() == '-') return {};
        bool all_digits = true;
        for (char c : label) {
            const bool digit = c >= '0' && c <= '9';
            all_digits = all_digits && digit;
            if (!digit && !(c >= 'a' && c <= 'z') && c != '-') return {};
        }
        if (last && all_digits) return {}; // "10.0.0" is a mistyped address, not a host
    }
    return out;
}

// GeneralNames DER for the SAN extension; `first` receives the first name in canonical form.
result<bytes> encode_names(std::span<const std::string> names, std::string& first,
                           std::string& error) {
    if (names.empty())
        return fail(std::errc::invalid_argument, error, "internal CA: no names to certify");
    bytes general_names;
    std::vector<bytes> seen;
    for (const std::string& name : names) {
        bytes entry;
        std::string canonical;
        std::uint8_t ip[16];
        char text[INET6_ADDRSTRLEN];
        if (name.find('\0') != std::string::npos) {
            // fall through to the error below: inet_pton would stop at the NUL
        } else if (name.find(':') != std::string::npos) {
            if (::inet_pton(AF_INET6, name.c_str(), ip) == 1) {
                entry = tlv(tag::ip_address, {byte_view(ip, 16)});
                canonical = ::inet_ntop(AF_INET6, ip, text, sizeof text);
            }
        } else if (::inet_pton(AF_INET, name.c_str(), ip) == 1) {
            entry = tlv(tag::ip_address, {byte_view(ip, 4)});
            canonical = ::inet_ntop(AF_INET, ip, text, sizeof text);
        } else if (canonical = normalize_dns_name(name); !canonical.empty()) {
            entry = tlv(tag::dns_name, {as_bytes(canonical)});
        }
        if (entry.empty())
            return fail(std::errc::invalid_argument, error,
                        "internal CA: \"" + printable(name) +
                            "\" is neither a DNS name nor an IP address");
        if (std::find(seen.begin(), seen.end(), entry) != seen.end()) continue;
        if (seen.empty()) first = canonical;
        append(general_names, entry);
        seen.push_back(std::move(entry));
    }
    return tlv(tag::sequence, {general_names});
}

std::string random_hex(WC_RNG* rng, std::size_t n_bytes, std::string& error, bool& ok) {
    std::uint8_t raw[16];
    ok = n_bytes <= sizeof raw && wc_RNG_GenerateBlock(rng, raw, static_cast<word32>(n_bytes)) == 0;
    if (!ok) {
        error = "internal CA: random number generator failed";
        return {};
    }
    std::string out;
    for (std::size_t i = 0; i < n_bytes; ++i) {
        char hex[3];
        std::snprintf(hex, sizeof hex, "%02x", raw[i]);
        out += hex;
    }
    return out;
}

} // namespace

// ---- CA material ----------------------------------------------------------------------------

// One CA certificate with its key, as loaded from or written to <storage>/ca.
struct detail::authority {
    bytes cert_der;
    std::string cert_pem;
    bytes subject; // Name TLV, the issuer of what this authority signs
    bytes key_id;  // subjectKeyIdentifier, the AKI of what this authority signs
    std::int64_t not_before = 0;
    std::int64_t not_after = 0;
    ecc_ptr key;
};

namespace {

using authority = detail::authority;
using authority_ptr = std::unique_ptr<authority>;

constexpr const char* root_name = "root";
constexpr const char* intermediate_name = "intermediate";

// Parses a certificate/key pair read from `crt_path`/`key_path`; checks that they belong together
// (bad_message with `mismatch` set when both parse but the key is not the certificate's).
result<authority_ptr> load_authority(const std::string& crt_path, const std::string& crt_pem,
                                     const std::string& key_path, const std::string& key_pem,
                                     bool& mismatch, std::string& error) {
    mismatch = false;
    auto key = decode_private_key(key_pem, key_path, error);
    if (!key) return unexpected{key.error()};

    auto a = std::make_unique<authority>();
    a->cert_der.resize(crt_pem.size());
    int n = wc_CertPemToDer(reinterpret_cast<const unsigned char*>(crt_pem.data()),
                            static_cast<int>(crt_pem.size()), a->cert_der.data(),
                            static_cast<int>(a->cert_der.size()), CERT_TYPE);
    parsed_cert c;
    if (n <= 0) return fail(std::errc::bad_message, error, crt_path + ": not a PEM certificate");
    a->cert_der.resize(static_cast<std::size_t>(n));
    if (!parse_certificate(a->cert_der, c))
        return fail(std::errc::bad_message, error, crt_path + ": malformed certificate");

    auto spki = public_key_info(key->get(), error);
    if (!spki) return unexpected{spki.error()};
    if (!equal(c.spki, *spki)) {
        mismatch = true;
        return fail(std::errc::bad_message, error,
                    key_path + " is not the key of the certificate " + crt_path);
    }

    auto pem = der_to_pem(a->cert_der, CERT_TYPE, error);
    if (!pem) return unexpected{pem.error()};
    a->cert_pem = std::move(*pem);
    a->subject.assign(c.subject.begin(), c.subject.end());
    if (!c.key_id.empty()) {
        a->key_id.assign(c.key_id.begin(), c.key_id.end());
    } else {
        auto id = key_identifier(key->get(), error);
        if (!id) return unexpected{id.error()};
        a->key_id = std::move(*id);
    }
    a->not_before = c.not_before;
    a->not_after = c.not_after;
    a->key = std::move(*key);
    return a;
}

// True when `child`'s certificate names `issuer` as its issuer and carries its signature.
bool issued_by(const authority& child, const authority& issuer) {
    parsed_cert c;
    return parse_certificate(child.cert_der, c) && equal(c.issuer, issuer.subject) &&
           signed_by(c, issuer.key.get());
}

// A new root (issuer == nullptr: self-signed) or intermediate (signed by `issuer`).
result<authority_ptr> create_authority(const authority* issuer, std::int64_t now,
                                       std::string& error) {
    auto rng = new_rng(error);
    if (!rng) return unexpected{rng.error()};
    auto key = new_p256_key(rng->get(), error);
    if (!key) return unexpected{key.error()};
    auto key_id = key_identifier(key->get(), error);
    if (!key_id) return unexpected{key_id.error()};
    bool ok = false;
    // The random suffix tells apart the roots of different machines in a trust store, and the
    // intermediates of successive renewals in a client's cache.
    std::string suffix = random_hex(rng->get(), 3, error, ok);
    if (!ok) return fail_wc(RNG_FAILURE_E, error, "random number generator");

    auto a = std::make_unique<authority>();
    a->subject = make_name(
        "ringlet", (issuer ? "ringlet Local Intermediate CA " : "ringlet Local Root CA ") + suffix);
    a->key_id = std::move(*key_id);
    a->not_before = saturating_add(now, -internal_ca::backdate);
    if (issuer) {
        // Never outlive the root: a chain is only as valid as its shortest-lived link.
        a->not_after =
            std::min(saturating_add(now, internal_ca::intermediate_lifetime), issuer->not_after);
    } else {
        a->not_after = saturating_add(now, internal_ca::root_lifetime);
    }

    cert_request req{issuer ? cert_kind::intermediate : cert_kind::root,
                     issuer ? byte_view(issuer->subject) : byte_view(a->subject),
                     issuer ? byte_view(issuer->key_id) : byte_view(a->key_id),
                     a->subject,
                     a->key_id,
                     a->not_before,
                     a->not_after,
                     {},
                     false};
    auto der = make_certificate(req, key->get(), issuer ? issuer->key.get() : key->get(),
                                rng->get(), error);
    if (!der) return unexpected{der.error()};
    auto pem = der_to_pem(*der, CERT_TYPE, error);
    if (!pem) return unexpected{pem.error()};
    a->cert_der = std::move(*der);
    a->cert_pem = std::move(*pem);
    a->key = std::move(*key);
    return a;
}

// Writes <name>.key, then <name>.crt: the certificate is written last, so that a crash between
// the two leaves a new key next to the old certificate, which the next open() detects as a
// mismatch (and, for the intermediate, repairs by re-issuing).
result<void> store_authority(const std::string& dir, const std::string& name, const authority& a,
                             std::string& error) {
    auto key_pem = private_key_pem(a.key.get(), error);
    if (!key_pem) return unexpected{key_pem.error()};
    auto r = write_file_atomic(dir, name + ".key", *key_pem, 0600, error);
    explicit_bzero(key_pem->data(), key_pem->size());
    if (!r) return r;
    return write_file_atomic(dir, name + ".crt", a.cert_pem, 0644, error);
}

struct file_pair {
    std::string crt_path, key_path;
    result<std::string> crt, key;
    bool crt_missing() const { return !crt && crt.error() == errno_code(ENOENT); }
    bool key_missing() const { return !key && key.error() == errno_code(ENOENT); }
};

file_pair read_pair(const std::string& dir, const std::string& name, std::string& crt_error,
                    std::string& key_error) {
    std::string crt_path = dir + "/" + name + ".crt";
    std::string key_path = dir + "/" + name + ".key";
    auto crt = read_file(crt_path, crt_error);
    auto key = read_file(key_path, key_error);
    return {std::move(crt_path), std::move(key_path), std::move(crt), std::move(key)};
}

result<void> check_root_valid(const authority& root, const std::string& dir, std::int64_t now,
                              std::string& error) {
    if (now < root.not_after) return {};
    return fail(errno_code(EKEYEXPIRED), error,
                dir + "/root.crt: the root certificate expired at " + format_time(root.not_after) +
                    "; move " + dir + " away to create a new CA (and trust the new root)");
}

} // namespace

// ---- internal_ca ----------------------------------------------------------------------------

internal_ca::internal_ca() = default;
internal_ca::internal_ca(internal_ca&&) noexcept = default;
internal_ca& internal_ca::operator=(internal_ca&&) noexcept = default;
internal_ca::~internal_ca() = default;

result<internal_ca> internal_ca::open(const std::string& storage_dir, std::int64_t now,
                                      std::string& error) {
    wolfcrypt_init();
    if (storage_dir.empty())
        return fail(std::errc::invalid_argument, error, "internal CA: empty storage path");
    std::string storage = storage_dir;
    while (storage.size() > 1 && storage.back() == '/') storage.pop_back();

    internal_ca ca;
    ca.dir_ = (storage == "/" ? "" : storage) + "/ca";
    if (auto r = make_dirs(ca.dir_, error); !r) return unexpected{r.error()};

    std::string crt_error, key_error;
    file_pair root = read_pair(ca.dir_, root_name, crt_error, key_error);
    if (root.crt_missing() && root.key_missing()) {
        auto created = create_authority(nullptr, now, error);
        if (!created) return unexpected{created.error()};
        if (auto r = store_authority(ca.dir_, root_name, **created, error); !r)
            return unexpected{r.error()};
        ca.root_ = std::move(*created);
    } else if (root.crt_missing() || root.key_missing()) {
        // Never replace a root behind the operator's back: clients trust it.
        const bool crt = root.crt_missing();
        return fail(errno_code(ENOENT), error,
                    (crt ? root.crt_path : root.key_path) + " is missing but " +
                        (crt ? root.key_path : root.crt_path) +
                        " exists; restore it, or remove both files to create a new root CA");
    } else if (!root.crt) {
        return fail(root.crt.error(), error, crt_error);
    } else if (!root.key) {
        return fail(root.key.error(), error, key_error);
    } else {
        bool mismatch = false;
        auto loaded =
            load_authority(root.crt_path, *root.crt, root.key_path, *root.key, mismatch, error);
        explicit_bzero(root.key->data(), root.key->size());
        if (!loaded) return unexpected{loaded.error()};
        if (!issued_by(**loaded, **loaded))
            return fail(std::errc::bad_message, error,
                        root.crt_path + ": not a self-signed certificate of " + root.key_path);
        ca.root_ = std::move(*loaded);
    }
    if (auto r = check_root_valid(*ca.root_, ca.dir_, now, error); !r) return unexpected{r.error()};

    file_pair inter = read_pair(ca.dir_, intermediate_name, crt_error, key_error);
    if (!inter.crt_missing() && !inter.key_missing()) {
        if (!inter.crt) return fail(inter.crt.error(), error, crt_error);
        if (!inter.key) return fail(inter.key.error(), error, key_error);
        bool mismatch = false;
        auto loaded =
            load_authority(inter.crt_path, *inter.crt, inter.key_path, *inter.key, mismatch, error);
        explicit_bzero(inter.key->data(), inter.key->size());
        if (!loaded) {
            // A key that does not match its certificate is what a crash between the two renames
            // leaves behind (see store_authority): re-issue. Anything unparsable is reported.
            if (!mismatch) return unexpected{loaded.error()};
            error.clear();
        } else if (issued_by(**loaded, *ca.root_)) {
            // An intermediate of another root (the root was restored from elsewhere) is dropped.
            ca.intermediate_ = std::move(*loaded);
        }
    }
    if (auto r = ca.refresh_intermediate(now, error); !r) return unexpected{r.error()};
    return ca;
}

result<void> internal_ca::refresh_intermediate(std::int64_t now, std::string& error) {
    if (intermediate_ && now >= intermediate_->not_before &&
        !renewal_due(intermediate_->not_before, intermediate_->not_after, now))
        return {};
    if (auto r = check_root_valid(*root_, dir_, now, error); !r) return r;
    auto next = create_authority(root_.get(), now, error);
    if (!next) return unexpected{next.error()};
    // Only a stored intermediate replaces the one in memory: a failed write changes nothing.
    if (auto r = store_authority(dir_, intermediate_name, **next, error); !r) return r;
    intermediate_ = std::move(*next);
    return {};
}

result<issued_certificate> internal_ca::issue(std::span<const std::string> names, std::int64_t now,
                                              std::int64_t lifetime_seconds, std::string& error) {
    if (lifetime_seconds <= 0)
        return fail(std::errc::invalid_argument, error,
                    "internal CA: certificate lifetime must be positive");
    std::string first_name;
    auto san = encode_names(names, first_name, error);
    if (!san) return unexpected{san.error()};
    if (auto r = check_root_valid(*root_, dir_, now, error); !r) return unexpected{r.error()};
    if (auto r = refresh_intermediate(now, error); !r) return unexpected{r.error()};

    auto rng = new_rng(error);
    if (!rng) return unexpected{rng.error()};
    auto key = new_p256_key(rng->get(), error);
    if (!key) return unexpected{key.error()};
    auto key_id = key_identifier(key->get(), error);
    if (!key_id) return unexpected{key_id.error()};

    // ub-common-name is 64 characters (RFC 5280 appendix A); a longer first name leaves the
    // subject empty, and RFC 5280 4.2.1.6 then requires the SAN extension to be critical.
    const bool empty_subject = first_name.size() > 64;
    const bytes subject = make_name("", empty_subject ? "" : first_name);

    issued_certificate out;
    out.not_before = saturating_add(now, -backdate);
    out.not_after = std::min(saturating_add(now, lifetime_seconds), intermediate_->not_after);
    cert_request req{cert_kind::leaf, intermediate_->subject, intermediate_->key_id, subject,
                     *key_id,         out.not_before,         out.not_after,         *san,
                     empty_subject};
    auto der = make_certificate(req, key->get(), intermediate_->key.get(), rng->get(), error);
    if (!der) return unexpected{der.error()};
    auto leaf_pem = der_to_pem(*der, CERT_TYPE, error);
    if (!leaf_pem) return unexpected{leaf_pem.error()};
    auto key_pem = private_key_pem(key->get(), error);
    if (!key_pem) return unexpected{key_pem.error()};

    out.chain_pem = std::move(*leaf_pem) + intermediate_->cert_pem;
    out.key_pem = std::move(*key_pem);
    return out;
}

const std::string& internal_ca::root_pem() const {
    return root_->cert_pem;
}

const std::string& internal_ca::intermediate_pem() const {
    return intermediate_->cert_pem;
}

std::string internal_ca::root_path() const {
    return dir_ + "/root.crt";
}

std::int64_t internal_ca::intermediate_not_before() const {
    return intermediate_->not_before;
}

std::int64_t internal_ca::intermediate_not_after() const {
    return intermediate_->not_after;
}

// ---- renewal policy -------------------------------------------------------------------------

std::int64_t renewal_time(std::int64_t not_before, std::int64_t not_after) {
    if (not_after <= not_before) return std::numeric_limits<std::int64_t>::min();
    // Unsigned: the difference of two int64 may not fit in one.
    const std::uint64_t lifetime =
        static_cast<std::uint64_t>(not_after) - static_cast<std::uint64_t>(not_before);
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(not_after) - lifetime / 3);
}

bool renewal_due(std::int64_t not_before, std::int64_t not_after, std::int64_t now) {
    return now >= renewal_time(not_before, not_after);
}

} // namespace ringlet::certs
