#include "ringlet/certs/acme/jws.hpp"

#include "certs/openssl_cli.hpp"
#include "ringlet/base/base64.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <regex>
#include <string>

using namespace ringlet;
using namespace ringlet::certs;
using namespace ringlet::test;
using namespace std::string_literals;

namespace {

acme::account_key new_key() {
    std::string err;
    auto key = acme::account_key::generate(err);
    EXPECT_TRUE(key) << err;
    return std::move(*key);
}

// The three members of a flattened JWS, base64url-decoded where they are base64url.
struct jws_parts {
    std::string protected_b64, payload_b64, signature_b64;
    std::string header, payload, signature;
};

jws_parts parse_jws(const std::string& text) {
    jws_parts p;
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    EXPECT_EQ(parser.parse(text).get(obj), simdjson::SUCCESS) << text;
    std::vector<std::string> keys;
    for (auto field : obj) keys.emplace_back(field.key);
    EXPECT_EQ(keys, (std::vector<std::string>{"protected", "payload", "signature"}));
    std::string_view v;
    EXPECT_EQ(obj["protected"].get(v), simdjson::SUCCESS);
    p.protected_b64 = v;
    EXPECT_EQ(obj["payload"].get(v), simdjson::SUCCESS);
    p.payload_b64 = v;
    EXPECT_EQ(obj["signature"].get(v), simdjson::SUCCESS);
    p.signature_b64 = v;
    auto h = base64url_decode(p.protected_b64);
    auto pl = base64url_decode(p.payload_b64);
    auto s = base64url_decode(p.signature_b64);
    EXPECT_TRUE(h && pl && s) << text;
    if (h && pl && s) {
        p.header = *h;
        p.payload = *pl;
        p.signature = *s;
    }
    return p;
}

// r||s (each 32 bytes) -> DER ECDSA-Sig-Value, written here rather than by wolfCrypt so that the
// check does not trust the code under test.
std::string der_integer(std::string_view v) {
    while (v.size() > 1 && v[0] == '\0') v.remove_prefix(1);
    std::string body(v);
    if (static_cast<unsigned char>(body[0]) & 0x80) body.insert(body.begin(), '\0');
    return std::string{'\x02', static_cast<char>(body.size())} + body;
}

std::string ecdsa_sig_value(const std::string& rs) {
    std::string body = der_integer(std::string_view(rs).substr(0, 32)) +
                       der_integer(std::string_view(rs).substr(32, 32));
    return std::string{'\x30', static_cast<char>(body.size())} + body;
}

// Writes the key's public half as PEM (converted by openssl from the private key PEM).
std::string public_pem_file(const scratch_dir& dir, const acme::account_key& key) {
    std::string err;
    auto pem = key.to_pem(err);
    EXPECT_TRUE(pem) << err;
    const std::string priv = dir.write("account.key", pem ? *pem : "");
    const std::string pub = dir.path + "/account.pub";
    EXPECT_EQ(run("openssl ec -in " + priv + " -pubout -out " + pub).status, 0);
    return pub;
}

// True when openssl verifies `rs` (r||s) over `input` with the public key in `pub`.
bool openssl_verifies(const scratch_dir& dir, const std::string& pub, const std::string& input,
                      const std::string& rs) {
    const std::string in = dir.write("input", input);
    const std::string sig = dir.write("sig.der", ecdsa_sig_value(rs));
    run_result r = run("openssl dgst -sha256 -verify " + pub + " -signature " + sig + " " + in);
    return r.status == 0 && contains(r.output, "Verified OK");
}

} // namespace

TEST(acme_jws, jwk_is_canonical_and_matches_openssls_public_key) {
    RINGLET_REQUIRE_OPENSSL();
    auto key = new_key();
    const std::string& jwk = acme::jwk_json(key);
    EXPECT_TRUE(std::regex_match(
        jwk,
        std::regex(
            R"(\{"crv":"P-256","kty":"EC","x":"[A-Za-z0-9_-]{43}","y":"[A-Za-z0-9_-]{43}"\})")))
        << jwk;

    // The SPKI openssl derives from the private key ends with the uncompressed point 04 || x || y.
    scratch_dir dir;
    std::string err;
    const std::string priv = dir.write("k.pem", *key.to_pem(err));
    ASSERT_EQ(
        run("openssl ec -in " + priv + " -pubout -outform DER -out " + dir.path + "/spki").status,
        0);
    const std::string spki = dir.read("spki");
    ASSERT_EQ(spki.size(), 91u);
    const std::string x = spki.substr(27, 32), y = spki.substr(59, 32);
    EXPECT_EQ(spki[26], '\x04');
    EXPECT_EQ(jwk, R"({"crv":"P-256","kty":"EC","x":")" + base64url_encode(x) + R"(","y":")" +
                       base64url_encode(y) + R"("})");
}

TEST(acme_jws, thumbprint_is_sha256_of_the_jwk_by_openssl) {
    RINGLET_REQUIRE_OPENSSL();
    auto key = new_key();
    scratch_dir dir;
    const std::string file = dir.write("jwk.json", acme::jwk_json(key));
    run_result r = run("openssl dgst -sha256 -binary " + file + " | openssl base64 -A");
    ASSERT_EQ(r.status, 0);
    std::string expected = r.output;
    while (!expected.empty() && (expected.back() == '\n' || expected.back() == '='))
        expected.pop_back();
    for (char& c : expected) c = c == '+' ? '-' : c == '/' ? '_' : c;
    EXPECT_EQ(expected.size(), 43u);
    EXPECT_EQ(acme::jwk_thumbprint(key), expected);
    EXPECT_EQ(acme::key_authorization("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", key),
              "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA." + expected);
}

TEST(acme_jws, pem_round_trip_keeps_the_key) {
    auto key = new_key();
    std::string err;
    auto pem = key.to_pem(err);
    ASSERT_TRUE(pem) << err;
    EXPECT_TRUE(pem->starts_with("-----BEGIN EC PRIVATE KEY-----\n")) << *pem;
    auto again = acme::account_key::from_pem(*pem, err);
    ASSERT_TRUE(again) << err;
    EXPECT_EQ(acme::jwk_json(*again), acme::jwk_json(key));
    EXPECT_EQ(acme::jwk_thumbprint(*again), acme::jwk_thumbprint(key));
    EXPECT_NE(acme::jwk_json(new_key()), acme::jwk_json(key));
}

TEST(acme_jws, from_pem_rejects_garbage_and_other_keys) {
    std::string err;
    auto garbage = acme::account_key::from_pem("not a key", err);
    ASSERT_FALSE(garbage);
    EXPECT_TRUE(garbage.error() == std::errc::bad_message);
    EXPECT_EQ(err, "account key: not a PEM private key (corrupt file?)");

    RINGLET_REQUIRE_OPENSSL();
    scratch_dir dir;
    run_result p384 = run("openssl ecparam -name secp384r1 -genkey -noout");
    ASSERT_EQ(p384.status, 0);
    auto r = acme::account_key::from_pem(p384.output, err);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error() == std::errc::bad_message);
    EXPECT_EQ(err, "account key: not an EC P-256 key");

    run_result rsa = run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024");
    ASSERT_EQ(rsa.status, 0);
    r = acme::account_key::from_pem(rsa.output, err);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error() == std::errc::bad_message);
    EXPECT_TRUE(err.starts_with("account key: not an EC private key")) << err;
}

TEST(acme_jws, loads_pkcs8_and_sec1_keys_from_openssl) {
    RINGLET_REQUIRE_OPENSSL();
    scratch_dir dir;
    run_result pkcs8 = run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256");
    ASSERT_EQ(pkcs8.status, 0);
    ASSERT_TRUE(contains(pkcs8.output, "-----BEGIN PRIVATE KEY-----")) << pkcs8.output;
    std::string err;
    auto k8 = acme::account_key::from_pem(pkcs8.output, err);
    ASSERT_TRUE(k8) << err;
    // The same key converted to SEC 1 by openssl loads to the same JWK.
    const std::string file = dir.write("k8.pem", pkcs8.output);
    run_result sec1 = run("openssl ec -in " + file);
    ASSERT_TRUE(contains(sec1.output, "-----BEGIN EC PRIVATE KEY-----")) << sec1.output;
    auto k1 = acme::account_key::from_pem(sec1.output, err);
    ASSERT_TRUE(k1) << err;
    EXPECT_EQ(acme::jwk_json(*k1), acme::jwk_json(*k8));
}

TEST(acme_jws, protected_header_with_kid_and_nonce) {
    auto key = new_key();
    std::string err;
    auto jws = acme::sign_jws(key, "https://ca.example/acme/new-order", "nonce-1",
                              "https://ca.example/acme/acct/7", R"({"identifiers":[]})", err);
    ASSERT_TRUE(jws) << err;
    jws_parts p = parse_jws(*jws);
    EXPECT_EQ(p.header, R"({"alg":"ES256","kid":"https://ca.example/acme/acct/7",)"
                        R"("nonce":"nonce-1","url":"https://ca.example/acme/new-order"})");
    EXPECT_EQ(p.payload, R"({"identifiers":[]})");
    EXPECT_EQ(p.signature.size(), 64u);
}

TEST(acme_jws, protected_header_with_jwk_and_post_as_get) {
    auto key = new_key();
    std::string err;
    auto jws = acme::sign_jws(key, "https://ca.example/acme/new-acct", "n", "", "", err);
    ASSERT_TRUE(jws) << err;
    jws_parts p = parse_jws(*jws);
    EXPECT_EQ(p.header, R"({"alg":"ES256","jwk":)" + acme::jwk_json(key) +
                            R"(,"nonce":"n","url":"https://ca.example/acme/new-acct"})");
    EXPECT_EQ(p.payload_b64, ""); // POST-as-GET: the payload member is the empty string
    EXPECT_TRUE(contains(*jws, R"("payload":"")"));

    // No nonce: the member is left out.
    jws = acme::sign_jws(key, "u", "", "k", "", err);
    ASSERT_TRUE(jws) << err;
    EXPECT_EQ(parse_jws(*jws).header, R"({"alg":"ES256","kid":"k","url":"u"})");
}

TEST(acme_jws, header_strings_are_escaped) {
    auto key = new_key();
    std::string err;
    const std::string url = "https://ca.example/a\"b\\c\n\x01";
    auto jws = acme::sign_jws(key, url, "n", "kid", "{}", err);
    ASSERT_TRUE(jws) << err;
    jws_parts p = parse_jws(*jws);
    simdjson::dom::parser parser;
    simdjson::dom::object header;
    ASSERT_EQ(parser.parse(p.header).get(header), simdjson::SUCCESS) << p.header;
    std::string_view got;
    ASSERT_EQ(header["url"].get(got), simdjson::SUCCESS);
    EXPECT_EQ(got, url);
}

// Signs until both a short r and a short s (< 32 significant bytes) have come up, and has openssl
// verify those and a sample of ordinary ones. P(no short component in 4000 signatures) ~ e^-31.
TEST(acme_jws, es256_signatures_verify_with_openssl_including_short_components) {
    RINGLET_REQUIRE_OPENSSL();
    auto key = new_key();
    scratch_dir dir;
    const std::string pub = public_pem_file(dir, key);
    std::string err;
    auto rng = new_rng(err);
    ASSERT_TRUE(rng) << err;

    int short_r = 0, short_s = 0, verified = 0;
    for (int i = 0; i < 4000 && (short_r < 1 || short_s < 1 || verified < 10); ++i) {
        const std::string payload = R"({"n":)" + std::to_string(i) + "}";
        auto jws = acme::sign_jws(key, "https://ca.example/x", "nonce", "kid", payload, **rng, err);
        ASSERT_TRUE(jws) << err;
        jws_parts p = parse_jws(*jws);
        ASSERT_EQ(p.signature.size(), 64u);
        ASSERT_EQ(p.payload, payload);
        const bool r_short = p.signature[0] == '\0';
        const bool s_short = p.signature[32] == '\0';
        short_r += r_short;
        short_s += s_short;
        if (r_short || s_short || verified < 10) {
            ASSERT_TRUE(
                openssl_verifies(dir, pub, p.protected_b64 + "." + p.payload_b64, p.signature))
                << "signature " << i << (r_short ? " (short r)" : "")
                << (s_short ? " (short s)" : "");
            ++verified;
        }
    }
    EXPECT_GE(short_r, 1);
    EXPECT_GE(short_s, 1);

    // And the check itself can fail: a changed payload does not verify.
    auto jws = acme::sign_jws(key, "https://ca.example/x", "nonce", "kid", "{}", **rng, err);
    ASSERT_TRUE(jws) << err;
    jws_parts p = parse_jws(*jws);
    EXPECT_TRUE(openssl_verifies(dir, pub, p.protected_b64 + "." + p.payload_b64, p.signature));
    EXPECT_FALSE(
        openssl_verifies(dir, pub, p.protected_b64 + "." + base64url_encode("{ }"), p.signature));
}

TEST(acme_jws, eab_is_hs256_over_the_jwk_by_openssl) {
    RINGLET_REQUIRE_OPENSSL();
    auto key = new_key();
    // 32 bytes of key, as CAs hand out, with bytes that base64url encodes as '-' and '_'.
    const std::string mac_key = "\xfb\xff\x00\x01 secret key bytes for EAB\x7f\x80\xfe"s;
    ASSERT_EQ(mac_key.size(), 32u);
    const std::string mac_key_b64 = base64url_encode(mac_key);
    std::string err;
    auto jws = acme::eab_jws("kid-123", mac_key_b64, key, "https://ca.example/acme/new-acct", err);
    ASSERT_TRUE(jws) << err;
    jws_parts p = parse_jws(*jws);
    EXPECT_EQ(p.header,
              R"({"alg":"HS256","kid":"kid-123","url":"https://ca.example/acme/new-acct"})");
    EXPECT_EQ(p.payload, acme::jwk_json(key));

    scratch_dir dir;
    const std::string in = dir.write("input", p.protected_b64 + "." + p.payload_b64);
    run_result r =
        run("openssl dgst -sha256 -mac HMAC -macopt hexkey:" + to_hex(mac_key) + " -r " + in);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(to_hex(p.signature), r.output.substr(0, 64));

    // Padded keys are tolerated; the MAC is the same.
    auto padded =
        acme::eab_jws("kid-123", mac_key_b64 + "=", key, "https://ca.example/acme/new-acct", err);
    ASSERT_TRUE(padded) << err;
    EXPECT_EQ(parse_jws(*padded).signature, p.signature);
}

TEST(acme_jws, eab_rejects_bad_keys) {
    auto key = new_key();
    std::string err;
    for (const char* bad : {"", "=", "not base64!", "ab+c", "a"}) {
        auto r = acme::eab_jws("kid", bad, key, "u", err);
        ASSERT_FALSE(r) << bad;
        EXPECT_TRUE(r.error() == std::errc::invalid_argument) << bad;
        EXPECT_TRUE(contains(err, "HMAC key")) << err;
    }
    auto r = acme::eab_jws("", "c2VjcmV0", key, "u", err);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error() == std::errc::invalid_argument);
}
