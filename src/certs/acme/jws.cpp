#include "ringlet/certs/acme/jws.hpp"

#include "ringlet/base/base64.hpp"
#include "ringlet/base/json_writer.hpp"

#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <cstring>

namespace ringlet::certs::acme {

namespace {

// protected_b64 "." payload_b64 -> the flattened serialization with `signature`.
std::string flattened(const std::string& protected_b64, const std::string& payload_b64,
                      std::span<const std::uint8_t> signature) {
    return json_object()
        .add("protected", protected_b64)
        .add("payload", payload_b64)
        .add("signature", base64url_encode(signature))
        .str();
}

} // namespace

// ---- account_key ----------------------------------------------------------------------------

result<account_key> account_key::wrap(result<p256_key> key, std::string& error) {
    if (!key) return unexpected{key.error()};
    std::uint8_t x[32], y[32];
    if (auto r = key->public_xy(x, y, error); !r) return unexpected{r.error()};
    std::string jwk = json_object()
                          .add("crv", "P-256")
                          .add("kty", "EC")
                          .add("x", base64url_encode(std::span<const std::uint8_t>(x)))
                          .add("y", base64url_encode(std::span<const std::uint8_t>(y)))
                          .str();
    std::uint8_t hash[WC_SHA256_DIGEST_SIZE];
    if (int ret = wc_Sha256Hash(reinterpret_cast<const byte*>(jwk.data()),
                                static_cast<word32>(jwk.size()), hash);
        ret != 0)
        return fail_wc(ret, error, "hashing the account JWK");
    std::string thumbprint = base64url_encode(std::span<const std::uint8_t>(hash));
    return account_key(std::move(*key), std::move(jwk), std::move(thumbprint));
}

result<account_key> account_key::generate(WC_RNG& rng, std::string& error) {
    return wrap(p256_key::generate(rng, error), error);
}

result<account_key> account_key::generate(std::string& error) {
    auto rng = new_rng(error);
    if (!rng) return unexpected{rng.error()};
    return generate(**rng, error);
}

result<account_key> account_key::from_pem(std::string_view pem, std::string& error) {
    return wrap(p256_key::from_pem(pem, "account key", error), error);
}

const std::string& jwk_json(const account_key& key) {
    return key.jwk();
}

const std::string& jwk_thumbprint(const account_key& key) {
    return key.thumbprint();
}

std::string key_authorization(std::string_view token, const account_key& key) {
    std::string out(token);
    out += '.';
    out += jwk_thumbprint(key);
    return out;
}

// ---- ES256 ----------------------------------------------------------------------------------

result<std::string> sign_jws(const account_key& key, std::string_view url, std::string_view nonce,
                             std::string_view kid, std::string_view payload, WC_RNG& rng,
                             std::string& error) {
    json_object header;
    header.add("alg", "ES256");
    if (kid.empty()) {
        header.add_raw("jwk", key.jwk());
    } else {
        header.add("kid", kid);
    }
    if (!nonce.empty()) header.add("nonce", nonce);
    header.add("url", url);
    const std::string protected_b64 = base64url_encode(header.str());
    const std::string payload_b64 = base64url_encode(payload);
    const std::string signing_input = protected_b64 + "." + payload_b64;

    std::uint8_t hash[WC_SHA256_DIGEST_SIZE];
    if (int ret = wc_Sha256Hash(reinterpret_cast<const byte*>(signing_input.data()),
                                static_cast<word32>(signing_input.size()), hash);
        ret != 0)
        return fail_wc(ret, error, "JWS: hashing");
    std::uint8_t der[ECC_MAX_SIG_SIZE];
    word32 der_len = sizeof der;
    if (int ret = wc_ecc_sign_hash(hash, sizeof hash, der, &der_len, &rng, key.key().get());
        ret != 0)
        return fail_wc(ret, error, "JWS: signing with ES256");

    // DER ECDSA-Sig-Value -> minimal big-endian r and s -> each left-padded to 32 bytes.
    std::uint8_t r[MAX_ECC_BYTES], s[MAX_ECC_BYTES];
    word32 r_len = sizeof r, s_len = sizeof s;
    if (int ret = wc_ecc_sig_to_rs(der, der_len, r, &r_len, s, &s_len); ret != 0)
        return fail_wc(ret, error, "JWS: decoding the ECDSA signature");
    if (r_len > 32 || s_len > 32) return fail_wc(ASN_PARSE_E, error, "JWS: ECDSA signature");
    std::uint8_t rs[64] = {};
    std::memcpy(rs + (32 - r_len), r, r_len);
    std::memcpy(rs + 64 - s_len, s, s_len);
    return flattened(protected_b64, payload_b64, rs);
}

result<std::string> sign_jws(const account_key& key, std::string_view url, std::string_view nonce,
                             std::string_view kid, std::string_view payload, std::string& error) {
    auto rng = new_rng(error);
    if (!rng) return unexpected{rng.error()};
    return sign_jws(key, url, nonce, kid, payload, **rng, error);
}

// ---- HS256 (external account binding) -------------------------------------------------------

namespace {

struct hmac_guard {
    Hmac h;
    bool initialized = false;
    ~hmac_guard() {
        if (initialized) wc_HmacFree(&h);
        explicit_bzero(&h, sizeof h); // the key schedule holds the MAC key
    }
};

} // namespace

result<std::string> eab_jws(std::string_view key_id, std::string_view hmac_key_b64url,
                            const account_key& key, std::string_view new_account_url,
                            std::string& error) {
    if (key_id.empty())
        return fail_msg(std::errc::invalid_argument, error, "EAB: empty key identifier");
    while (!hmac_key_b64url.empty() && hmac_key_b64url.back() == '=')
        hmac_key_b64url.remove_suffix(1);
    std::optional<std::string> mac_key = base64url_decode(hmac_key_b64url);
    if (!mac_key || mac_key->empty())
        return fail_msg(std::errc::invalid_argument, error,
                        "EAB: the HMAC key is not base64url (or is empty)");

    const std::string protected_b64 = base64url_encode(
        json_object().add("alg", "HS256").add("kid", key_id).add("url", new_account_url).str());
    const std::string payload_b64 = base64url_encode(key.jwk());
    const std::string signing_input = protected_b64 + "." + payload_b64;

    hmac_guard g;
    std::uint8_t mac[WC_SHA256_DIGEST_SIZE];
    int ret = wc_HmacInit(&g.h, nullptr, INVALID_DEVID);
    g.initialized = ret == 0;
    if (ret == 0)
        ret = wc_HmacSetKey(&g.h, WC_SHA256, reinterpret_cast<const byte*>(mac_key->data()),
                            static_cast<word32>(mac_key->size()));
    if (ret == 0)
        ret = wc_HmacUpdate(&g.h, reinterpret_cast<const byte*>(signing_input.data()),
                            static_cast<word32>(signing_input.size()));
    if (ret == 0) ret = wc_HmacFinal(&g.h, mac);
    explicit_bzero(mac_key->data(), mac_key->size());
    if (ret != 0) return fail_wc(ret, error, "EAB: HMAC-SHA256");
    return flattened(protected_b64, payload_b64, mac);
}

} // namespace ringlet::certs::acme
