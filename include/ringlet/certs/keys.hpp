// keys: the wolfCrypt objects that ringlet's certificate code shares (internal CA, ACME), each
// owned by RAII so that no error path leaks a key or leaves key material in memory.
//
// Every key is ECDSA P-256: browsers and every ACME CA accept it, signing is ~20x cheaper than
// RSA-2048 in a handshake, and one curve means one code path to test. Private keys are stored as
// SEC 1 PEM ("-----BEGIN EC PRIVATE KEY-----"), which both wolfSSL and OpenSSL load.
//
// Errors: a wolfCrypt failure is a std::error_code in wolfcrypt_category() (the code is wolfCrypt's
// negative return value) plus a sentence in `error`; a key file that is not what it should be is
// std::errc::bad_message. Not thread-safe per object; distinct objects may be used concurrently.
//
//   std::string err;
//   auto rng = certs::new_rng(err);
//   auto key = certs::p256_key::generate(**rng, err);
//   auto pem = key->to_pem(err);
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/certs/der.hpp"

// wolfSSL: options.h first, always (it carries the defines the library was built with).
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>

#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace ringlet::certs {

const std::error_category& wolfcrypt_category();

// A failed wolfCrypt call (`ret` its return value; 0 counts as BAD_FUNC_ARG): `error` becomes
// "<what>: <wolfCrypt's reason>".
unexpected<std::error_code> fail_wc(int ret, std::string& error, std::string_view what);

// wolfCrypt_Init, once per process (idempotent, cheap after the first call).
void wolfcrypt_init();

struct rng_deleter {
    void operator()(WC_RNG* r) const noexcept;
};
using rng_ptr = std::unique_ptr<WC_RNG, rng_deleter>;

// A DRBG seeded from the OS. Creating one reads the OS entropy source: keep one per task rather
// than one per signature when signing in a loop.
result<rng_ptr> new_rng(std::string& error);

struct ecc_key_deleter {
    void operator()(ecc_key* k) const noexcept;
};
using ecc_ptr = std::unique_ptr<ecc_key, ecc_key_deleter>;

// An ECDSA P-256 key pair. Always holds a key (there is no empty state except moved-from).
class p256_key {
public:
    static result<p256_key> generate(WC_RNG& rng, std::string& error);
    // Loads a private key from PEM: SEC 1 ("EC PRIVATE KEY") or PKCS #8 ("PRIVATE KEY"). Anything
    // else, another curve, or an inconsistent key is bad_message with `error` = "<what>: ...".
    // A key stored without its public point gets it recomputed.
    static result<p256_key> from_pem(std::string_view pem, std::string_view what,
                                     std::string& error);

    // SEC 1 PEM with the curve OID and the public key (what wc_EccKeyToDer writes).
    result<std::string> to_pem(std::string& error) const;
    // SubjectPublicKeyInfo DER (id-ecPublicKey, prime256v1, uncompressed point).
    result<der::bytes> spki_der(std::string& error) const;
    // The affine coordinates, each exactly 32 bytes big-endian (left-padded with zeros).
    result<void> public_xy(std::uint8_t (&x)[32], std::uint8_t (&y)[32], std::string& error) const;

    // For wolfCrypt calls, which take a non-const key even to read it.
    ecc_key* get() const { return key_.get(); }

private:
    explicit p256_key(ecc_ptr key) : key_(std::move(key)) {}
    ecc_ptr key_;
};

// DER -> PEM of the given wolfSSL type (CERT_TYPE, CERTREQ_TYPE, ECC_PRIVATEKEY_TYPE ...).
result<std::string> der_to_pem(der::byte_view der, int type, std::string& error);

// A random positive serial number (INTEGER content, 16 bytes, minimal encoding: the top bit clear
// and the first byte non-zero).
result<der::bytes> random_serial(WC_RNG& rng, std::string& error);

// Signs `body` (a TBSCertificate or a CertificationRequestInfo TLV) with ecdsa-with-SHA256 by
// `signer` and returns SEQUENCE { body, AlgorithmIdentifier, BIT STRING signature }: the shape of
// both an X.509 Certificate and a PKCS #10 CertificationRequest.
result<der::bytes> sign_der(der::byte_view body, const p256_key& signer, WC_RNG& rng,
                            std::string& error);

} // namespace ringlet::certs
