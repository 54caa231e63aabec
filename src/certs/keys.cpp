#include "ringlet/certs/keys.hpp"

#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include <cstring>
#include <utility>

namespace ringlet::certs {

namespace {

class wolfcrypt_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "wolfcrypt"; }
    std::string message(int ev) const override { return wc_GetErrorString(ev); }
};

} // namespace

const std::error_category& wolfcrypt_category() {
    static const wolfcrypt_category_impl c;
    return c;
}

unexpected<std::error_code> fail_wc(int ret, std::string& error, std::string_view what) {
    std::error_code ec(ret != 0 ? ret : BAD_FUNC_ARG, wolfcrypt_category());
    return fail_msg(ec, error, std::string(what) + ": " + ec.message());
}

void wolfcrypt_init() {
    // Reference-counted inside wolfCrypt; once per process is all we need.
    static const int ret = wolfCrypt_Init();
    (void)ret;
}

void rng_deleter::operator()(WC_RNG* r) const noexcept {
    wc_rng_free(r); // wc_FreeRng + free
}

result<rng_ptr> new_rng(std::string& error) {
    wolfcrypt_init();
    rng_ptr rng(wc_rng_new(nullptr, 0, nullptr));
    if (!rng) return fail_wc(RNG_FAILURE_E, error, "seeding the random number generator");
    return rng;
}

void ecc_key_deleter::operator()(ecc_key* k) const noexcept {
    wc_ecc_key_free(k); // wc_ecc_free (zeroes the private scalar) + free
}

// ---- p256_key -------------------------------------------------------------------------------

result<p256_key> p256_key::generate(WC_RNG& rng, std::string& error) {
    wolfcrypt_init();
    ecc_ptr key(wc_ecc_key_new(nullptr));
    if (!key) return fail_wc(MEMORY_E, error, "allocating an EC key");
    if (int ret = wc_ecc_make_key_ex(&rng, 32, key.get(), ECC_SECP256R1); ret != 0)
        return fail_wc(ret, error, "generating an EC P-256 key");
    return p256_key(std::move(key));
}

result<p256_key> p256_key::from_pem(std::string_view pem, std::string_view what,
                                    std::string& error) {
    wolfcrypt_init();
    const std::string name(what);
    der::bytes der(pem.size());
    int n = wc_KeyPemToDer(reinterpret_cast<const unsigned char*>(pem.data()),
                           static_cast<int>(pem.size()), der.data(), static_cast<int>(der.size()),
                           nullptr);
    if (n <= 0)
        return fail_msg(std::errc::bad_message, error,
                        name + ": not a PEM private key (corrupt file?)");
    // PKCS #8 wraps the SEC 1 structure: skip the wrapper when there is one.
    word32 idx = 0;
    if (int at = wc_GetPkcs8TraditionalOffset(der.data(), &idx, static_cast<word32>(n)); at < 0)
        idx = 0;
    ecc_ptr key(wc_ecc_key_new(nullptr));
    if (!key) return fail_wc(MEMORY_E, error, "allocating an EC key");
    int ret = wc_EccPrivateKeyDecode(der.data(), &idx, key.get(), static_cast<word32>(n));
    explicit_bzero(der.data(), der.size());
    if (ret != 0)
        return fail_msg(std::errc::bad_message, error,
                        name + ": not an EC private key: " + wc_GetErrorString(ret));
    if (key->dp == nullptr || key->dp->id != ECC_SECP256R1)
        return fail_msg(std::errc::bad_message, error, name + ": not an EC P-256 key");
    // A SEC 1 key may omit the public point; everything else needs it.
    if (key->type == ECC_PRIVATEKEY_ONLY) {
        if (ret = wc_ecc_make_pub(key.get(), nullptr); ret != 0)
            return fail_wc(ret, error, "deriving the public key of " + name);
        key->type = ECC_PRIVATEKEY;
    }
    if (ret = wc_ecc_check_key(key.get()); ret != 0)
        return fail_msg(std::errc::bad_message, error,
                        name + ": inconsistent EC key: " + wc_GetErrorString(ret));
    return p256_key(std::move(key));
}

result<std::string> p256_key::to_pem(std::string& error) const {
    std::uint8_t der[256];
    int n = wc_EccKeyToDer(key_.get(), der, sizeof der);
    if (n <= 0) return fail_wc(n, error, "encoding a private key");
    auto pem =
        der_to_pem(der::byte_view(der, static_cast<std::size_t>(n)), ECC_PRIVATEKEY_TYPE, error);
    explicit_bzero(der, sizeof der);
    return pem;
}

result<der::bytes> p256_key::spki_der(std::string& error) const {
    der::bytes spki(256);
    int n = wc_EccPublicKeyToDer(key_.get(), spki.data(), static_cast<word32>(spki.size()), 1);
    if (n <= 0) return fail_wc(n, error, "encoding a public key");
    spki.resize(static_cast<std::size_t>(n));
    return spki;
}

result<void> p256_key::public_xy(std::uint8_t (&x)[32], std::uint8_t (&y)[32],
                                 std::string& error) const {
    // wc_ecc_export_public_raw pads each coordinate to the field size when given 32 bytes, but
    // the padding is done here too so that the contract does not rest on that detail.
    std::uint8_t qx[MAX_ECC_BYTES], qy[MAX_ECC_BYTES];
    word32 xl = sizeof qx, yl = sizeof qy;
    if (int ret = wc_ecc_export_public_raw(key_.get(), qx, &xl, qy, &yl); ret != 0)
        return fail_wc(ret, error, "exporting a public key");
    if (xl > 32 || yl > 32) return fail_wc(ECC_BAD_ARG_E, error, "exporting a public key");
    std::memset(x, 0, 32);
    std::memset(y, 0, 32);
    std::memcpy(x + (32 - xl), qx, xl);
    std::memcpy(y + (32 - yl), qy, yl);
    return {};
}

// ---- DER helpers ----------------------------------------------------------------------------

result<std::string> der_to_pem(der::byte_view der, int type, std::string& error) {
    // Base64 grows by 4/3, plus a newline per 64 characters and the BEGIN/END lines.
    std::string pem(der.size() * 2 + 128, '\0');
    int n = wc_DerToPem(der.data(), static_cast<word32>(der.size()),
                        reinterpret_cast<byte*>(pem.data()), static_cast<word32>(pem.size()), type);
    if (n <= 0) return fail_wc(n, error, "PEM encoding");
    pem.resize(static_cast<std::size_t>(n));
    return pem;
}

result<der::bytes> random_serial(WC_RNG& rng, std::string& error) {
    der::bytes serial(16);
    if (int ret = wc_RNG_GenerateBlock(&rng, serial.data(), static_cast<word32>(serial.size()));
        ret != 0)
        return fail_wc(ret, error, "generating a serial number");
    // 127 random bits: the top bit cleared keeps the INTEGER positive without a leading zero byte,
    // and a non-zero first byte keeps the encoding minimal.
    serial[0] &= 0x7f;
    if (serial[0] == 0) serial[0] = 1;
    return serial;
}

result<der::bytes> sign_der(der::byte_view body, const p256_key& signer, WC_RNG& rng,
                            std::string& error) {
    // wc_SignCert_ex signs buf[0, body size) and rewrites buf in place as
    // SEQUENCE { body, algorithm, signature }: leave room for the wrapper and an ECDSA signature.
    der::bytes buf(body.begin(), body.end());
    buf.resize(buf.size() + 256);
    int n = wc_SignCert_ex(static_cast<int>(body.size()), CTC_SHA256wECDSA, buf.data(),
                           static_cast<word32>(buf.size()), ECC_TYPE, signer.get(), &rng);
    if (n <= 0) return fail_wc(n, error, "signing");
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

} // namespace ringlet::certs
