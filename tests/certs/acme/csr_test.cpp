#include "ringlet/certs/acme/csr.hpp"

#include "certs/openssl_cli.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace ringlet;
using namespace ringlet::certs;
using namespace ringlet::test;

namespace {

p256_key new_key() {
    std::string err;
    auto rng = new_rng(err);
    EXPECT_TRUE(rng) << err;
    auto key = p256_key::generate(**rng, err);
    EXPECT_TRUE(key) << err;
    return std::move(*key);
}

// `openssl req -text` of a DER CSR, with its self-signature checked.
run_result openssl_req_text(const scratch_dir& dir, const std::string& der) {
    const std::string file = dir.write("req.der", der);
    return run("openssl req -inform DER -in " + file + " -verify -noout -text");
}

// The public key of `key` as openssl prints it from the key file, and from the CSR.
std::string openssl_public_key(const scratch_dir& dir, const p256_key& key) {
    std::string err;
    auto pem = key.to_pem(err);
    EXPECT_TRUE(pem) << err;
    const std::string file = dir.write("key.pem", pem ? *pem : "");
    return run("openssl ec -in " + file + " -pubout", false).output;
}

} // namespace

TEST(acme_csr, openssl_verifies_it_and_sees_every_name) {
    RINGLET_REQUIRE_OPENSSL();
    const p256_key key = new_key();
    std::string err;
    auto csr = acme::make_csr_der(
        {"Example.COM", "www.example.com", "*.example.com", "127.0.0.1", "2001:db8::1"}, key, err);
    ASSERT_TRUE(csr) << err;

    scratch_dir dir;
    run_result r = openssl_req_text(dir, *csr);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "verify OK")) << r.output;
    EXPECT_TRUE(contains(r.output, "Subject: CN = example.com\n")) << r.output;
    EXPECT_TRUE(contains(r.output, "Version: 1 (0x0)")) << r.output;
    EXPECT_TRUE(contains(r.output, "Requested Extensions:")) << r.output;
    EXPECT_TRUE(contains(r.output, "X509v3 Subject Alternative Name: \n")) << r.output;
    EXPECT_TRUE(contains(r.output, "DNS:example.com, DNS:www.example.com, DNS:*.example.com, "
                                   "IP Address:127.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1\n"))
        << r.output;
    EXPECT_TRUE(contains(r.output, "Signature Algorithm: ecdsa-with-SHA256")) << r.output;
    EXPECT_TRUE(contains(r.output, "NIST CURVE: P-256")) << r.output;

    // The key in the request is the certificate key.
    const std::string file = dir.write("req2.der", *csr);
    run_result pub = run("openssl req -inform DER -in " + file + " -noout -pubkey");
    EXPECT_EQ(pub.output, openssl_public_key(dir, key));
    EXPECT_NE(pub.output, openssl_public_key(dir, new_key()));
}

TEST(acme_csr, a_tampered_request_fails_verification) {
    RINGLET_REQUIRE_OPENSSL();
    const p256_key key = new_key();
    std::string err;
    auto csr = acme::make_csr_der({"example.com"}, key, err);
    ASSERT_TRUE(csr) << err;
    std::string tampered = *csr;
    const auto at = tampered.find("example.com");
    ASSERT_NE(at, std::string::npos);
    tampered[at] = 'f'; // fxample.com, in the CN: still parses, no longer matches the signature
    scratch_dir dir;
    run_result r = openssl_req_text(dir, tampered);
    EXPECT_TRUE(contains(r.output, "Subject: CN = fxample.com")) << r.output;
    EXPECT_TRUE(contains(r.output, "verify failure")) << r.output;
    EXPECT_FALSE(contains(r.output, "verify OK")) << r.output;
}

TEST(acme_csr, a_name_too_long_for_cn_leaves_the_subject_empty_and_the_san_critical) {
    RINGLET_REQUIRE_OPENSSL();
    const std::string long_name = std::string(60, 'a') + ".example.com"; // 72 characters
    std::string err;
    auto csr = acme::make_csr_der({long_name, "example.com"}, new_key(), err);
    ASSERT_TRUE(csr) << err;
    scratch_dir dir;
    run_result r = openssl_req_text(dir, *csr);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "verify OK")) << r.output;
    EXPECT_FALSE(contains(r.output, "CN =")) << r.output;
    EXPECT_TRUE(contains(r.output, "X509v3 Subject Alternative Name: critical")) << r.output;
    EXPECT_TRUE(contains(r.output, "DNS:" + long_name + ", DNS:example.com\n")) << r.output;
}

TEST(acme_csr, duplicates_are_dropped) {
    RINGLET_REQUIRE_OPENSSL();
    std::string err;
    auto csr = acme::make_csr_der({"a.example", "A.example.", "::1", "0:0::1"}, new_key(), err);
    ASSERT_TRUE(csr) << err;
    scratch_dir dir;
    run_result r = openssl_req_text(dir, *csr);
    EXPECT_TRUE(contains(r.output, "DNS:a.example, IP Address:0:0:0:0:0:0:0:1\n")) << r.output;
}

TEST(acme_csr, bad_names_are_rejected) {
    const p256_key key = new_key();
    std::string err;
    for (std::vector<std::string> names : {std::vector<std::string>{},
                                           {"bad name"},
                                           {"example.com", "a..b"},
                                           {"10.0.0"},
                                           {"a.*.example"},
                                           {std::string("nul\0.example", 12)}}) {
        auto r = acme::make_csr_der(names, key, err);
        ASSERT_FALSE(r) << (names.empty() ? "(none)" : names.back());
        EXPECT_TRUE(r.error() == std::errc::invalid_argument);
        EXPECT_TRUE(err.starts_with("CSR: ")) << err;
    }
    EXPECT_EQ(err, "CSR: \"nul\\x00.example\" is neither a DNS name nor an IP address");
}
