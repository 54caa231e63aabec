#include "ringlet/certs/acme/challenge_cert.hpp"

#include "ringlet/certs/der.hpp"
#include "ringlet/certs/keys.hpp"

#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/sha256.h>

namespace ringlet::certs::acme {

result<challenge_certificate> make_tls_alpn_certificate(std::string_view identifier,
                                                        std::string_view key_authorization,
                                                        std::int64_t now, std::string& error) {
    using namespace der;
    if (key_authorization.empty())
        return fail_msg(std::errc::invalid_argument, error, "TLS-ALPN-01: empty key authorization");
    if (identifier.starts_with("*."))
        return fail_msg(std::errc::invalid_argument, error,
                        "TLS-ALPN-01: a wildcard cannot be validated with this challenge");
    const std::string names[] = {std::string(identifier)};
    std::string canonical;
    auto san = general_names(names, canonical, error);
    if (!san) return fail_msg(san.error(), error, "TLS-ALPN-01: " + error);

    std::int64_t start = 0, end = 0;
    const bool overflow = __builtin_sub_overflow(now, challenge_backdate, &start) ||
                          __builtin_add_overflow(now, challenge_lifetime, &end);
    const bytes not_before = overflow ? bytes() : encode_time(start);
    const bytes not_after = overflow ? bytes() : encode_time(end);
    if (not_before.empty() || not_after.empty())
        return fail_msg(std::errc::invalid_argument, error,
                        "TLS-ALPN-01: validity dates out of range (year 1..9999)");

    // extnValue = DER of Authorization ::= OCTET STRING (SIZE (32)).
    std::uint8_t digest[WC_SHA256_DIGEST_SIZE];
    if (int ret = wc_Sha256Hash(reinterpret_cast<const byte*>(key_authorization.data()),
                                static_cast<word32>(key_authorization.size()), digest);
        ret != 0)
        return fail_wc(ret, error, "TLS-ALPN-01: hashing the key authorization");

    auto rng = new_rng(error);
    if (!rng) return unexpected{rng.error()};
    auto key = p256_key::generate(**rng, error);
    if (!key) return unexpected{key.error()};
    auto spki = key->spki_der(error);
    if (!spki) return unexpected{spki.error()};
    auto serial = random_serial(**rng, error);
    if (!serial) return unexpected{serial.error()};

    bytes exts = extension(oid::subject_alt_name, false, *san);
    append(exts, extension(oid::acme_identifier, true, tlv(tag::octet_string, {digest})));
    const bytes name = make_name("", "ACME challenge");
    const bytes tbs = tbs_certificate({*serial, name, not_before, not_after, name, *spki, exts});
    auto cert = sign_der(tbs, *key, **rng, error);
    if (!cert) return fail_msg(cert.error(), error, "TLS-ALPN-01: " + error);

    auto cert_pem = der_to_pem(*cert, CERT_TYPE, error);
    if (!cert_pem) return unexpected{cert_pem.error()};
    auto key_pem = key->to_pem(error);
    if (!key_pem) return unexpected{key_pem.error()};
    return challenge_certificate{std::string(cert->begin(), cert->end()), std::move(*cert_pem),
                                 std::move(*key_pem)};
}

} // namespace ringlet::certs::acme
