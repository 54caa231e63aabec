#include "ringlet/certs/acme/challenge_cert.hpp"

#include "certs/openssl_cli.hpp"

#include <gtest/gtest.h>

#include "ringlet/base/unique_fd.hpp"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

using namespace ringlet;
using namespace ringlet::certs;
using namespace ringlet::test;

namespace {

constexpr std::int64_t now = 1764355200; // 2025-11-28 18:40:00 UTC

// "Nov 28 17:40:00 2025 GMT", as `openssl x509 -dates` prints it.
std::string openssl_date(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%b %e %H:%M:%S %Y GMT", &tm);
    return buf;
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

acme::challenge_certificate make(std::string_view identifier, std::string_view key_authz) {
    std::string err;
    auto c = acme::make_tls_alpn_certificate(identifier, key_authz, now, err);
    EXPECT_TRUE(c) << err;
    return c ? std::move(*c) : acme::challenge_certificate{};
}

// The acmeIdentifier extension as `openssl asn1parse` shows it: the OID, the critical flag and
// the extnValue bytes in hex.
struct asn1_extension {
    bool found = false;
    bool critical = false;
    std::string value_hex;
};

asn1_extension find_acme_extension(const std::string& asn1parse_output) {
    asn1_extension e;
    std::size_t at = asn1parse_output.find(":1.3.6.1.5.5.7.1.31\n");
    if (at == std::string::npos) return e;
    e.found = true;
    const std::size_t next = asn1parse_output.find('\n', at + 1);
    const std::size_t end = asn1parse_output.find('\n', next + 1);
    std::string line = asn1parse_output.substr(next + 1, end - next - 1);
    if (contains(line, "BOOLEAN") && contains(line, ":255")) {
        e.critical = true;
        const std::size_t end2 = asn1parse_output.find('\n', end + 1);
        line = asn1parse_output.substr(end + 1, end2 - end - 1);
    }
    const std::string marker = "[HEX DUMP]:";
    if (contains(line, "OCTET STRING") && contains(line, marker))
        e.value_hex = line.substr(line.find(marker) + marker.size());
    return e;
}

} // namespace

TEST(acme_challenge_cert, carries_the_critical_acme_identifier_with_the_hash) {
    RINGLET_REQUIRE_OPENSSL();
    const std::string key_authz =
        "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
    auto c = make("example.com", key_authz);
    scratch_dir dir;
    const std::string der = dir.write("cert.der", c.cert_der);
    const std::string expected_hash = openssl_sha256_hex(dir.write("keyauthz", key_authz));
    ASSERT_EQ(expected_hash.size(), 64u);

    run_result asn1 = run("openssl asn1parse -inform DER -in " + der);
    ASSERT_EQ(asn1.status, 0) << asn1.output;
    asn1_extension e = find_acme_extension(asn1.output);
    ASSERT_TRUE(e.found) << asn1.output;
    EXPECT_TRUE(e.critical) << asn1.output;
    // extnValue = DER OCTET STRING (04 20) of the SHA-256 (RFC 8737 section 3).
    EXPECT_EQ(e.value_hex, "0420" + upper(expected_hash)) << asn1.output;

    run_result text = run("openssl x509 -inform DER -in " + der + " -noout -text");
    ASSERT_EQ(text.status, 0) << text.output;
    EXPECT_TRUE(contains(text.output, "1.3.6.1.5.5.7.1.31: critical")) << text.output;
    EXPECT_TRUE(contains(text.output, "X509v3 Subject Alternative Name: \n"
                                      "                DNS:example.com\n"))
        << text.output;
    EXPECT_TRUE(contains(text.output, "Subject: CN = ACME challenge")) << text.output;
    EXPECT_TRUE(contains(text.output, "Issuer: CN = ACME challenge")) << text.output;
    EXPECT_TRUE(contains(text.output, "Version: 3 (0x2)")) << text.output;
    EXPECT_TRUE(contains(text.output, "ecdsa-with-SHA256")) << text.output;
    EXPECT_TRUE(contains(text.output, "NIST CURVE: P-256")) << text.output;

    // A different key authorization changes the extension.
    auto other = make("example.com", key_authz + "x");
    const std::string der2 = dir.write("other.der", other.cert_der);
    EXPECT_NE(
        find_acme_extension(run("openssl asn1parse -inform DER -in " + der2).output).value_hex,
        e.value_hex);
}

TEST(acme_challenge_cert, validity_is_an_hour_back_to_a_week_ahead) {
    RINGLET_REQUIRE_OPENSSL();
    auto c = make("example.com", "token.thumb");
    scratch_dir dir;
    const std::string pem = dir.write("cert.pem", c.cert_pem);
    run_result dates = run("openssl x509 -in " + pem + " -noout -dates");
    ASSERT_EQ(dates.status, 0) << dates.output;
    EXPECT_EQ(dates.output, "notBefore=" + openssl_date(now - 3600) +
                                "\nnotAfter=" + openssl_date(now + 7 * 86400) + "\n");
}

TEST(acme_challenge_cert, is_self_signed_by_its_own_key) {
    RINGLET_REQUIRE_OPENSSL();
    auto c = make("example.com", "token.thumb");
    scratch_dir dir;
    const std::string pem = dir.write("cert.pem", c.cert_pem);
    const std::string key = dir.write("key.pem", c.key_pem);
    EXPECT_TRUE(c.key_pem.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
    // The key pair matches the certificate...
    EXPECT_EQ(run("openssl x509 -in " + pem + " -noout -pubkey").output,
              run("openssl ec -in " + key + " -pubout", false).output);
    // ...and the signature verifies with that key. openssl stops at the critical extension it
    // does not know (the point of making it critical) unless told to ignore it.
    const std::string at = " -attime " + std::to_string(now) + " ";
    run_result strict = run("openssl verify" + at + "-CAfile " + pem + " " + pem);
    EXPECT_NE(strict.status, 0);
    EXPECT_TRUE(contains(strict.output, "unhandled critical extension")) << strict.output;
    run_result lenient = run("openssl verify -ignore_critical" + at + "-CAfile " + pem + " " + pem);
    EXPECT_EQ(lenient.status, 0) << lenient.output;
    EXPECT_TRUE(contains(lenient.output, ": OK")) << lenient.output;
    // A certificate verified by another one's key does not pass.
    auto other = make("example.com", "token.thumb");
    const std::string other_pem = dir.write("other.pem", other.cert_pem);
    EXPECT_NE(
        run("openssl verify -ignore_critical" + at + "-CAfile " + other_pem + " " + pem).status, 0);
    // A second certificate has another key and serial.
    auto d = make("example.com", "token.thumb");
    EXPECT_NE(d.key_pem, c.key_pem);
    EXPECT_NE(d.cert_der, c.cert_der);
}

TEST(acme_challenge_cert, ip_identifiers_become_ip_address_sans) {
    RINGLET_REQUIRE_OPENSSL();
    scratch_dir dir;
    for (auto [ip, shown] : {std::pair{"192.0.2.7", "IP Address:192.0.2.7"},
                             std::pair{"2001:db8::7", "IP Address:2001:DB8:0:0:0:0:0:7"}}) {
        auto c = make(ip, "token.thumb");
        const std::string der = dir.write("cert.der", c.cert_der);
        run_result text =
            run("openssl x509 -inform DER -in " + der + " -noout -ext subjectAltName");
        EXPECT_EQ(text.output,
                  std::string("X509v3 Subject Alternative Name: \n    ") + shown + "\n");
    }
}

TEST(acme_challenge_cert, bad_identifiers_are_rejected) {
    std::string err;
    for (const char* bad : {"", "bad name", "*.example.com", "a..b"}) {
        auto r = acme::make_tls_alpn_certificate(bad, "token.thumb", now, err);
        ASSERT_FALSE(r) << bad;
        EXPECT_TRUE(r.error() == std::errc::invalid_argument) << bad;
        EXPECT_TRUE(err.starts_with("TLS-ALPN-01: ")) << err;
    }
    auto r = acme::make_tls_alpn_certificate("example.com", "", now, err);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error() == std::errc::invalid_argument);
}

// The server hands the pair to wolfSSL for the acme-tls/1 handshake: wolfSSL must load both and
// complete a handshake with them, with openssl's s_client as the validating CA's stand-in.
// (wolfSSL 5.7's full certificate parser rejects the unknown critical extension: loading works
// because wolfSSL_CTX_use_certificate_buffer decodes only up to the key, but
// wolfSSL_CTX_check_private_key and wolfSSL_X509_load_certificate_buffer fail on this certificate.)
TEST(acme_challenge_cert, wolfssl_serves_it_on_acme_tls_1) {
    RINGLET_REQUIRE_OPENSSL();
    std::string err;
    const std::int64_t wall_now = static_cast<std::int64_t>(std::time(nullptr));
    auto c = acme::make_tls_alpn_certificate("example.com", "token.thumb", wall_now, err);
    ASSERT_TRUE(c) << err;
    ASSERT_EQ(wolfSSL_Init(), WOLFSSL_SUCCESS);
    struct ctx_free {
        void operator()(WOLFSSL_CTX* c) const { wolfSSL_CTX_free(c); }
    };
    std::unique_ptr<WOLFSSL_CTX, ctx_free> der_ctx(wolfSSL_CTX_new(wolfTLS_server_method()));
    ASSERT_TRUE(der_ctx);
    EXPECT_EQ(wolfSSL_CTX_use_certificate_buffer(
                  der_ctx.get(), reinterpret_cast<const unsigned char*>(c->cert_der.data()),
                  static_cast<long>(c->cert_der.size()), WOLFSSL_FILETYPE_ASN1),
              WOLFSSL_SUCCESS);

    std::unique_ptr<WOLFSSL_CTX, ctx_free> ctx(wolfSSL_CTX_new(wolfTLS_server_method()));
    ASSERT_TRUE(ctx);
    ASSERT_EQ(wolfSSL_CTX_use_certificate_buffer(
                  ctx.get(), reinterpret_cast<const unsigned char*>(c->cert_pem.data()),
                  static_cast<long>(c->cert_pem.size()), WOLFSSL_FILETYPE_PEM),
              WOLFSSL_SUCCESS);
    ASSERT_EQ(wolfSSL_CTX_use_PrivateKey_buffer(
                  ctx.get(), reinterpret_cast<const unsigned char*>(c->key_pem.data()),
                  static_cast<long>(c->key_pem.size()), WOLFSSL_FILETYPE_PEM),
              WOLFSSL_SUCCESS);

    unique_fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);

    // One blocking handshake on a thread; the receive timeout bounds it if the client fails.
    int accepted = 0;
    std::thread server([&] {
        unique_fd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!fd) return;
        timeval tv{10, 0};
        ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        WOLFSSL* ssl = wolfSSL_new(ctx.get());
        if (!ssl) return;
        char alpn[] = "acme-tls/1";
        wolfSSL_UseALPN(ssl, alpn, sizeof alpn - 1, WOLFSSL_ALPN_FAILED_ON_MISMATCH);
        wolfSSL_set_fd(ssl, fd.get());
        accepted = wolfSSL_accept(ssl);
        if (accepted == WOLFSSL_SUCCESS) wolfSSL_shutdown(ssl);
        wolfSSL_free(ssl);
    });
    run_result client = run("echo | timeout 20 openssl s_client -connect 127.0.0.1:" +
                            std::to_string(ntohs(addr.sin_port)) +
                            " -servername example.com -alpn acme-tls/1 -showcerts");
    ::shutdown(listener.get(), SHUT_RDWR); // unblocks accept() if the client never connected
    server.join();
    EXPECT_EQ(accepted, WOLFSSL_SUCCESS) << client.output;
    EXPECT_TRUE(contains(client.output, "ALPN protocol: acme-tls/1")) << client.output;
    EXPECT_TRUE(contains(client.output, c->cert_pem)) << client.output;
    EXPECT_TRUE(contains(client.output, "unhandled critical extension")) << client.output;
}
