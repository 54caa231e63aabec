// jws: the JOSE pieces of an ACME client (RFC 8555 section 6.2, RFC 7515, RFC 7638): the account
// key, its JWK and thumbprint, ES256-signed requests, and the HS256 external-account binding.
//
// Every request body is a flattened JWS {"protected":..., "payload":..., "signature":...}. The
// protected header carries "alg", then exactly one of "jwk" (newAccount, and revocation by
// certificate key) or "kid" (the account URL, every other request), then "nonce" and "url". The
// server checks the signature over the exact base64url text, so everything here is byte-exact:
// members in a fixed order, no whitespace, base64url without padding.
//
// ES256 signatures are r||s, each left-padded to 32 bytes (RFC 7518 section 3.4). wolfCrypt hands
// back the minimal big-endian integers, which are 31 bytes (or fewer) about once in 128
// signatures; a CA rejects the unpadded 63-byte form, so a missing pad would fail at random.
//
// Pure: no I/O and no clock. An account_key is not thread-safe; sign from one thread.
//
//   auto key = acme::account_key::generate(err);
//   auto body = acme::sign_jws(*key, new_order_url, nonce, account_url, payload, err);
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/certs/keys.hpp"

#include <string>
#include <string_view>

namespace ringlet::certs::acme {

// The ACME account's key pair (P-256, signs with ES256), with its JWK and thumbprint computed
// once, so that reading them cannot fail.
class account_key {
public:
    static result<account_key> generate(std::string& error);
    static result<account_key> generate(WC_RNG& rng, std::string& error);
    // SEC 1 or PKCS #8 PEM. Garbage, another curve or an RSA key is bad_message and `error` says
    // which ("account key: not an EC P-256 key").
    static result<account_key> from_pem(std::string_view pem, std::string& error);
    result<std::string> to_pem(std::string& error) const { return key_.to_pem(error); }

    const p256_key& key() const { return key_; }
    // {"crv":"P-256","kty":"EC","x":"...","y":"..."}: see jwk_json().
    const std::string& jwk() const { return jwk_; }
    // base64url(SHA-256(jwk())): see jwk_thumbprint().
    const std::string& thumbprint() const { return thumbprint_; }

private:
    account_key(p256_key key, std::string jwk, std::string thumbprint)
        : key_(std::move(key)), jwk_(std::move(jwk)), thumbprint_(std::move(thumbprint)) {}
    static result<account_key> wrap(result<p256_key> key, std::string& error);

    p256_key key_;
    std::string jwk_;
    std::string thumbprint_;
};

// The public JWK in RFC 7638's canonical form: required members only, lexicographic order, no
// whitespace, x and y base64url of exactly 32 bytes each. Also what "jwk" embeds.
const std::string& jwk_json(const account_key& key);
// base64url(SHA-256(jwk_json(key))), RFC 7638.
const std::string& jwk_thumbprint(const account_key& key);
// token "." thumbprint (RFC 8555 section 8.1): what HTTP-01 serves and what TLS-ALPN-01 hashes.
std::string key_authorization(std::string_view token, const account_key& key);

// A flattened-JSON JWS signed with ES256.
//   url:     the request URL (the "url" header member; must equal the URL posted to)
//   nonce:   the Replay-Nonce; empty leaves "nonce" out
//   kid:     the account URL; empty embeds the public key as "jwk" instead
//   payload: the JSON payload; empty means POST-as-GET (the payload member is "")
// Errors: a wolfCrypt failure (wolfcrypt_category), with `error` saying what failed.
result<std::string> sign_jws(const account_key& key, std::string_view url, std::string_view nonce,
                             std::string_view kid, std::string_view payload, WC_RNG& rng,
                             std::string& error);
// The same with a DRBG seeded for this call.
result<std::string> sign_jws(const account_key& key, std::string_view url, std::string_view nonce,
                             std::string_view kid, std::string_view payload, std::string& error);

// The externalAccountBinding value of a newAccount payload (RFC 8555 section 7.3.4): a JWS whose
// payload is the account's JWK, protected {"alg":"HS256","kid":key_id,"url":new_account_url},
// MACed with HMAC-SHA256 under the CA-issued key. `hmac_key_b64url` is base64url (trailing '='
// padding tolerated, as some CAs hand it out padded). Errors: invalid_argument for an empty key
// id or a key that is empty or not base64url; a wolfCrypt failure otherwise.
result<std::string> eab_jws(std::string_view key_id, std::string_view hmac_key_b64url,
                            const account_key& key, std::string_view new_account_url,
                            std::string& error);

} // namespace ringlet::certs::acme
