// The internal CA's certificate building and checking (internal_ca_cert.hpp): the X.509 extensions
// each kind of certificate carries, kept apart from the CA's files and lifecycle (internal_ca.cpp).
#include "certs/internal_ca_cert.hpp"

#include <wolfssl/wolfcrypt/hash.h>

namespace ringlet::certs::detail {

using der::bytes;
namespace tag = der::tag;

unexpected<std::error_code> fail_ca(int ret, std::string& error, std::string_view what) {
    return fail_wc(ret, error, "internal CA: " + std::string(what));
}

result<bytes> key_identifier(const p256_key& key, std::string& error) {
    std::uint8_t point[1 + 2 * MAX_ECC_BYTES];
    word32 point_len = sizeof point;
    if (int ret = wc_ecc_export_x963(key.get(), point, &point_len); ret != 0)
        return fail_ca(ret, error, "exporting a public key");
    bytes id(WC_SHA_DIGEST_SIZE);
    if (int ret = wc_ShaHash(point, point_len, id.data()); ret != 0)
        return fail_ca(ret, error, "hashing a public key");
    return id;
}

result<bytes> make_certificate(const cert_request& req, const p256_key& subject_key,
                               const p256_key& signer, WC_RNG& rng, std::string& error) {
    auto serial = random_serial(rng, error);
    if (!serial) return unexpected{serial.error()};

    bytes not_before = der::encode_time(req.not_before);
    bytes not_after = der::encode_time(req.not_after);
    if (not_before.empty() || not_after.empty())
        return fail_msg(std::errc::invalid_argument, error,
                        "internal CA: validity dates out of range (year 1..9999)");

    auto spki = subject_key.spki_der(error);
    if (!spki) return unexpected{spki.error()};

    using der::append;
    using der::extension;
    namespace oid = der::oid;
    bytes exts;
    switch (req.kind) {
    case cert_kind::root: {
        static constexpr std::uint8_t ca[] = {tag::sequence, 0x03, tag::boolean, 0x01, 0xff};
        append(exts, extension(oid::basic_constraints, true, ca));
        break;
    }
    case cert_kind::intermediate: {
        static constexpr std::uint8_t ca_pathlen0[] = {
            tag::sequence, 0x06, tag::boolean, 0x01, 0xff, tag::integer, 0x01, 0x00};
        append(exts, extension(oid::basic_constraints, true, ca_pathlen0));
        break;
    }
    case cert_kind::leaf: {
        static constexpr std::uint8_t not_ca[] = {tag::sequence, 0x00};
        append(exts, extension(oid::basic_constraints, true, not_ca));
        break;
    }
    }
    if (req.kind == cert_kind::leaf) {
        static constexpr std::uint8_t digital_signature[] = {tag::bit_string, 0x02, 0x07, 0x80};
        append(exts, extension(oid::key_usage, true, digital_signature));
        append(exts,
               extension(oid::ext_key_usage, false, der::tlv(tag::sequence, {oid::server_auth})));
        append(exts, extension(oid::subject_alt_name, req.san_critical, req.san));
    } else {
        static constexpr std::uint8_t cert_and_crl_sign[] = {tag::bit_string, 0x02, 0x01, 0x06};
        append(exts, extension(oid::key_usage, true, cert_and_crl_sign));
    }
    append(exts, extension(oid::subject_key_id, false,
                           der::tlv(tag::octet_string, {req.subject_key_id})));
    if (req.kind != cert_kind::root) {
        append(exts, extension(oid::authority_key_id, false,
                               der::tlv(tag::sequence,
                                        {der::tlv(tag::key_identifier, {req.issuer_key_id})})));
    }

    const bytes tbs = der::tbs_certificate(
        {*serial, req.issuer, not_before, not_after, req.subject, *spki, exts});
    auto cert = sign_der(tbs, signer, rng, error);
    if (!cert) error = "internal CA: " + error;
    return cert;
}

// True when `c` carries a valid ecdsa-with-SHA256 signature made by `key`.
bool signed_by(const der::parsed_cert& c, const p256_key& key) {
    if (!der::equal(c.sig_alg, der::alg_ecdsa_sha256)) return false;
    std::uint8_t hash[WC_SHA256_DIGEST_SIZE];
    if (wc_Sha256Hash(c.tbs.data(), static_cast<word32>(c.tbs.size()), hash) != 0) return false;
    int verified = 0;
    int ret = wc_ecc_verify_hash(c.signature.data(), static_cast<word32>(c.signature.size()), hash,
                                 sizeof hash, &verified, key.get());
    return ret == 0 && verified == 1;
}

} // namespace ringlet::certs::detail
