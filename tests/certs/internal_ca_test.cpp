#include "ringlet/certs/internal_ca.hpp"
#include "support/files.hpp"

#include <gtest/gtest.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace ringlet;
using namespace ringlet::certs;

namespace {

constexpr std::int64_t day = 86400;

// A fresh folder under /tmp, removed with everything in it.
struct temp_dir : test::scratch_dir {
    temp_dir() : scratch_dir("ca-test") {}
    std::string storage() const { return path + "/state"; } // not created: open() must make it
    std::string ca(const std::string& file = "") const {
        return storage() + "/ca" + (file.empty() ? "" : "/" + file);
    }
};

using test::mode_of;
using test::read_file;
using test::write_file;

struct run_result {
    int status = -1;
    std::string output; // stdout and stderr
};

run_result run(const std::string& cmd) {
    run_result r;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return r;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
    int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

bool have_openssl() {
    return run("openssl version").status == 0;
}

#define REQUIRE_OPENSSL()                                                                          \
    if (!have_openssl()) GTEST_SKIP() << "the openssl CLI is not installed"

std::vector<std::string> split_pem(const std::string& chain) {
    std::vector<std::string> out;
    const std::string end = "-----END CERTIFICATE-----\n";
    std::size_t from = 0;
    for (std::size_t at; (at = chain.find(end, from)) != std::string::npos; from = at + end.size())
        out.push_back(chain.substr(from, at + end.size() - from));
    return out;
}

// "2025-11-28 18:59:00Z", as `openssl x509 -dateopt iso_8601` prints it.
std::string iso(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf;
}

std::int64_t real_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

// Writes an issued certificate's parts next to each other for the openssl CLI.
struct written_chain {
    std::string leaf, intermediate, key;
};

written_chain write_chain(const temp_dir& dir, const issued_certificate& cert,
                          const std::string& tag) {
    auto pems = split_pem(cert.chain_pem);
    EXPECT_EQ(pems.size(), 2u);
    pems.resize(2);
    written_chain w{dir.path + "/" + tag + "-leaf.pem", dir.path + "/" + tag + "-inter.pem",
                    dir.path + "/" + tag + "-key.pem"};
    write_file(w.leaf, pems[0]);
    write_file(w.intermediate, pems[1]);
    write_file(w.key, cert.key_pem);
    return w;
}

std::string text_of(const std::string& cert_path) {
    return run("openssl x509 -noout -text -in " + cert_path).output;
}

const std::vector<std::string> local_names = {"localhost", "*.localhost", "127.0.0.1", "::1"};

} // namespace

TEST(internal_ca, first_open_creates_the_ca_with_private_modes) {
    temp_dir dir;
    std::string err;
    auto ca = internal_ca::open(dir.storage(), real_now(), err);
    ASSERT_TRUE(ca) << err;

    EXPECT_EQ(mode_of(dir.storage()), 0700u);
    EXPECT_EQ(mode_of(dir.ca()), 0700u);
    EXPECT_EQ(mode_of(dir.ca("root.key")), 0600u);
    EXPECT_EQ(mode_of(dir.ca("intermediate.key")), 0600u);
    EXPECT_EQ(mode_of(dir.ca("root.crt")), 0644u);
    EXPECT_EQ(mode_of(dir.ca("intermediate.crt")), 0644u);

    EXPECT_EQ(ca->root_path(), dir.ca("root.crt"));
    EXPECT_EQ(ca->root_pem(), read_file(dir.ca("root.crt")));
    EXPECT_EQ(ca->intermediate_pem(), read_file(dir.ca("intermediate.crt")));
    EXPECT_EQ(read_file(dir.ca("root.key")).rfind("-----BEGIN EC PRIVATE KEY-----", 0), 0u);
    // No temporary files are left behind.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.ca()),
                            std::filesystem::directory_iterator()),
              4);
}

TEST(internal_ca, root_and_intermediate_match_the_documented_profile) {
    REQUIRE_OPENSSL();
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_TRUE(ca) << err;

    std::string root = text_of(dir.ca("root.crt"));
    EXPECT_NE(root.find("Issuer: O = ringlet, CN = ringlet Local Root CA "), std::string::npos)
        << root;
    EXPECT_NE(root.find("Subject: O = ringlet, CN = ringlet Local Root CA "), std::string::npos);
    EXPECT_NE(root.find("ASN1 OID: prime256v1"), std::string::npos);
    EXPECT_NE(root.find("Signature Algorithm: ecdsa-with-SHA256"), std::string::npos);
    EXPECT_NE(root.find("X509v3 Basic Constraints: critical\n                CA:TRUE\n"),
              std::string::npos);
    EXPECT_NE(root.find("X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"),
              std::string::npos);
    EXPECT_NE(root.find("X509v3 Subject Key Identifier"), std::string::npos);
    auto dates = run("openssl x509 -noout -dates -dateopt iso_8601 -in " + dir.ca("root.crt"));
    EXPECT_EQ(dates.output,
              "notBefore=" + iso(now - 60) + "\nnotAfter=" + iso(now + 3650 * day) + "\n");

    std::string inter = text_of(dir.ca("intermediate.crt"));
    EXPECT_NE(inter.find("CA:TRUE, pathlen:0"), std::string::npos) << inter;
    EXPECT_NE(inter.find("Subject: O = ringlet, CN = ringlet Local Intermediate CA "),
              std::string::npos);
    EXPECT_NE(inter.find("X509v3 Authority Key Identifier"), std::string::npos);
    dates = run("openssl x509 -noout -dates -dateopt iso_8601 -in " + dir.ca("intermediate.crt"));
    EXPECT_EQ(dates.output,
              "notBefore=" + iso(now - 60) + "\nnotAfter=" + iso(now + 30 * day) + "\n");
    EXPECT_EQ(ca->intermediate_not_before(), now - 60);
    EXPECT_EQ(ca->intermediate_not_after(), now + 30 * day);

    auto verify = run("openssl verify -x509_strict -attime " + std::to_string(now) + " -CAfile " +
                      dir.ca("root.crt") + " " + dir.ca("intermediate.crt"));
    EXPECT_EQ(verify.status, 0) << verify.output;
}

TEST(internal_ca, second_open_loads_the_same_root_and_intermediate) {
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    std::string root_pem, inter_pem;
    {
        auto ca = internal_ca::open(dir.storage(), now, err);
        ASSERT_TRUE(ca) << err;
        root_pem = ca->root_pem();
        inter_pem = ca->intermediate_pem();
    }
    auto again = internal_ca::open(dir.storage(), now + day, err);
    ASSERT_TRUE(again) << err;
    EXPECT_EQ(again->root_pem(), root_pem);
    EXPECT_EQ(again->intermediate_pem(), inter_pem); // not due yet: kept
    EXPECT_EQ(read_file(dir.ca("root.crt")), root_pem);
    EXPECT_EQ(again->intermediate_not_before(), now - 60);
}

TEST(internal_ca, a_corrupt_root_key_is_an_error_naming_the_file_and_left_untouched) {
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    ASSERT_TRUE(internal_ca::open(dir.storage(), now, err)) << err;
    const std::string garbage = "-----BEGIN EC PRIVATE KEY-----\nnot base64 at all\n";
    write_file(dir.ca("root.key"), garbage);
    const std::string root_crt = read_file(dir.ca("root.crt"));

    err.clear();
    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_FALSE(ca);
    EXPECT_TRUE(ca.error() == std::errc::bad_message) << ca.error().message();
    EXPECT_NE(err.find(dir.ca("root.key")), std::string::npos) << err;
    EXPECT_EQ(read_file(dir.ca("root.key")), garbage);
    EXPECT_EQ(read_file(dir.ca("root.crt")), root_crt);
}

TEST(internal_ca, a_corrupt_root_certificate_is_an_error_naming_the_file) {
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    ASSERT_TRUE(internal_ca::open(dir.storage(), now, err)) << err;
    std::string crt = read_file(dir.ca("root.crt"));
    crt[crt.size() / 2] = crt[crt.size() / 2] == 'A' ? 'B' : 'A'; // one base64 character
    write_file(dir.ca("root.crt"), crt);

    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_FALSE(ca);
    EXPECT_NE(err.find(dir.ca("root.crt")), std::string::npos) << err;
    EXPECT_EQ(read_file(dir.ca("root.crt")), crt);
}

TEST(internal_ca, a_root_key_without_its_certificate_is_refused) {
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    ASSERT_TRUE(internal_ca::open(dir.storage(), now, err)) << err;
    const std::string key = read_file(dir.ca("root.key"));
    std::filesystem::remove(dir.ca("root.crt"));

    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_FALSE(ca);
    EXPECT_TRUE(ca.error() == std::errc::no_such_file_or_directory) << ca.error().message();
    EXPECT_EQ(err.rfind(dir.ca("root.crt") + " is missing but " + dir.ca("root.key"), 0), 0u)
        << err;
    EXPECT_FALSE(std::filesystem::exists(dir.ca("root.crt")));
    EXPECT_EQ(read_file(dir.ca("root.key")), key);
}

TEST(internal_ca, a_root_key_of_another_ca_is_a_mismatch_not_a_new_root) {
    temp_dir a, b;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    ASSERT_TRUE(internal_ca::open(a.storage(), now, err)) << err;
    ASSERT_TRUE(internal_ca::open(b.storage(), now, err)) << err;
    const std::string crt = read_file(a.ca("root.crt"));
    std::filesystem::copy_file(b.ca("root.key"), a.ca("root.key"),
                               std::filesystem::copy_options::overwrite_existing);

    auto ca = internal_ca::open(a.storage(), now, err);
    ASSERT_FALSE(ca);
    EXPECT_EQ(err, a.ca("root.key") + " is not the key of the certificate " + a.ca("root.crt"));
    EXPECT_EQ(read_file(a.ca("root.crt")), crt);
}

TEST(internal_ca, a_mismatched_intermediate_is_reissued) {
    REQUIRE_OPENSSL();
    temp_dir a, b;
    std::string err;
    const std::int64_t now = real_now();
    ASSERT_TRUE(internal_ca::open(a.storage(), now, err)) << err;
    ASSERT_TRUE(internal_ca::open(b.storage(), now, err)) << err;
    const std::string old_inter = read_file(a.ca("intermediate.crt"));
    // What a crash between writing intermediate.key and intermediate.crt leaves behind.
    std::filesystem::copy_file(b.ca("intermediate.key"), a.ca("intermediate.key"),
                               std::filesystem::copy_options::overwrite_existing);

    auto ca = internal_ca::open(a.storage(), now, err);
    ASSERT_TRUE(ca) << err;
    EXPECT_NE(read_file(a.ca("intermediate.crt")), old_inter);
    auto leaf = ca->issue(local_names, now, 3600, err);
    ASSERT_TRUE(leaf) << err;
    auto w = write_chain(a, *leaf, "x");
    auto verify = run("openssl verify -CAfile " + a.ca("root.crt") + " -untrusted " +
                      a.ca("intermediate.crt") + " " + w.leaf);
    EXPECT_EQ(verify.status, 0) << verify.output;
}

TEST(internal_ca, an_intermediate_of_another_root_is_reissued) {
    temp_dir a, b;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    ASSERT_TRUE(internal_ca::open(a.storage(), now, err)) << err;
    ASSERT_TRUE(internal_ca::open(b.storage(), now, err)) << err;
    for (const char* f : {"intermediate.crt", "intermediate.key"})
        std::filesystem::copy_file(b.ca(f), a.ca(f),
                                   std::filesystem::copy_options::overwrite_existing);
    auto ca = internal_ca::open(a.storage(), now, err);
    ASSERT_TRUE(ca) << err;
    EXPECT_NE(ca->intermediate_pem(), read_file(b.ca("intermediate.crt")));
    EXPECT_EQ(ca->intermediate_pem(), read_file(a.ca("intermediate.crt")));
}

TEST(internal_ca, a_corrupt_intermediate_is_an_error_naming_the_file) {
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    ASSERT_TRUE(internal_ca::open(dir.storage(), now, err)) << err;
    write_file(dir.ca("intermediate.crt"), "junk");
    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_FALSE(ca);
    EXPECT_EQ(err, dir.ca("intermediate.crt") + ": not a PEM certificate");
    EXPECT_EQ(read_file(dir.ca("intermediate.crt")), "junk");
}

TEST(internal_ca, an_expired_root_is_an_error) {
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    ASSERT_TRUE(internal_ca::open(dir.storage(), now, err)) << err;
    auto ca = internal_ca::open(dir.storage(), now + 3650 * day, err);
    ASSERT_FALSE(ca);
    EXPECT_EQ(ca.error().value(), EKEYEXPIRED);
    EXPECT_NE(err.find("root certificate expired"), std::string::npos) << err;
}

TEST(internal_ca, issued_chain_verifies_with_openssl) {
    REQUIRE_OPENSSL();
    temp_dir dir;
    std::string err;
    const std::int64_t now = real_now();
    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_TRUE(ca) << err;
    const std::int64_t lifetime = 12 * 3600;
    auto leaf = ca->issue(local_names, now, lifetime, err);
    ASSERT_TRUE(leaf) << err;
    EXPECT_EQ(leaf->not_before, now - 60);
    EXPECT_EQ(leaf->not_after, now + lifetime);
    EXPECT_EQ(leaf->key_pem.rfind("-----BEGIN EC PRIVATE KEY-----\n", 0), 0u);
    auto w = write_chain(dir, *leaf, "a");
    EXPECT_EQ(read_file(w.intermediate), ca->intermediate_pem());

    const std::string verify = "openssl verify -x509_strict -purpose sslserver -CAfile " +
                               ca->root_path() + " -untrusted " + w.intermediate + " ";
    auto ok = run(verify + w.leaf);
    EXPECT_EQ(ok.status, 0) << ok.output;
    EXPECT_EQ(ok.output, w.leaf + ": OK\n");
    // (No "-verify_hostname app.localhost": OpenSSL, like browsers, does not let a wildcard
    // cover a whole single-label domain; "*.localhost" is still encoded as asked.)
    for (const char* check :
         {"-verify_hostname localhost", "-verify_ip 127.0.0.1", "-verify_ip ::1"}) {
        auto r = run(verify + check + " " + w.leaf);
        EXPECT_EQ(r.status, 0) << check << ": " << r.output;
    }
    auto wrong = run(verify + "-verify_hostname example.com " + w.leaf);
    EXPECT_NE(wrong.status, 0) << wrong.output;

    const std::string text = text_of(w.leaf);
    EXPECT_NE(text.find("X509v3 Subject Alternative Name: \n                DNS:localhost, "
                        "DNS:*.localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("Subject: CN = localhost\n"), std::string::npos);
    EXPECT_NE(text.find("X509v3 Basic Constraints: critical\n                CA:FALSE\n"),
              std::string::npos);
    EXPECT_NE(text.find("X509v3 Key Usage: critical\n                Digital Signature\n"),
              std::string::npos);
    EXPECT_NE(text.find("X509v3 Extended Key Usage: \n                TLS Web Server "
                        "Authentication\n"),
              std::string::npos);
    EXPECT_NE(text.find("X509v3 Subject Key Identifier"), std::string::npos);
    EXPECT_NE(text.find("X509v3 Authority Key Identifier"), std::string::npos);
    EXPECT_NE(text.find("ASN1 OID: prime256v1"), std::string::npos);

    auto dates = run("openssl x509 -noout -dates -dateopt iso_8601 -in " + w.leaf);
    EXPECT_EQ(dates.output,
              "notBefore=" + iso(now - 60) + "\nnotAfter=" + iso(now + lifetime) + "\n");

    auto key_pub = run("openssl pkey -pubout -in " + w.key);
    auto cert_pub = run("openssl x509 -noout -pubkey -in " + w.leaf);
    EXPECT_EQ(key_pub.status, 0) << key_pub.output;
    EXPECT_EQ(key_pub.output, cert_pub.output);
    EXPECT_NE(key_pub.output.find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
}

// What the TLS area will do with an issued certificate: load it into a server context, and have
// wolfSSL's own certificate manager verify the chain up to the root.
TEST(internal_ca, wolfssl_loads_and_verifies_the_chain) {
    temp_dir dir;
    std::string err;
    const std::int64_t now = real_now();
    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_TRUE(ca) << err;
    auto leaf = ca->issue(local_names, now, 3600, err);
    ASSERT_TRUE(leaf) << err;
    ASSERT_EQ(wolfSSL_Init(), WOLFSSL_SUCCESS);

    struct ctx_free {
        void operator()(WOLFSSL_CTX* c) const { wolfSSL_CTX_free(c); }
    };
    std::unique_ptr<WOLFSSL_CTX, ctx_free> ctx(wolfSSL_CTX_new(wolfTLS_server_method()));
    ASSERT_TRUE(ctx);
    auto bytes = [](const std::string& s) {
        return reinterpret_cast<const unsigned char*>(s.data());
    };
    auto size = [](const std::string& s) { return static_cast<long>(s.size()); };
    EXPECT_EQ(wolfSSL_CTX_use_certificate_chain_buffer_format(
                  ctx.get(), bytes(leaf->chain_pem), size(leaf->chain_pem), WOLFSSL_FILETYPE_PEM),
              WOLFSSL_SUCCESS);
    EXPECT_EQ(wolfSSL_CTX_use_PrivateKey_buffer(ctx.get(), bytes(leaf->key_pem),
                                                size(leaf->key_pem), WOLFSSL_FILETYPE_PEM),
              WOLFSSL_SUCCESS);
    EXPECT_EQ(wolfSSL_CTX_check_private_key(ctx.get()), WOLFSSL_SUCCESS);

    struct cm_free {
        void operator()(WOLFSSL_CERT_MANAGER* c) const { wolfSSL_CertManagerFree(c); }
    };
    std::unique_ptr<WOLFSSL_CERT_MANAGER, cm_free> cm(wolfSSL_CertManagerNew());
    ASSERT_TRUE(cm);
    const std::string& root = ca->root_pem();
    const std::string& inter = ca->intermediate_pem();
    const std::string leaf_pem = split_pem(leaf->chain_pem).at(0);
    ASSERT_EQ(
        wolfSSL_CertManagerLoadCABuffer(cm.get(), bytes(root), size(root), WOLFSSL_FILETYPE_PEM),
        WOLFSSL_SUCCESS);
    // The leaf does not verify before its issuer is known...
    EXPECT_NE(wolfSSL_CertManagerVerifyBuffer(cm.get(), bytes(leaf_pem), size(leaf_pem),
                                              WOLFSSL_FILETYPE_PEM),
              WOLFSSL_SUCCESS);
    EXPECT_EQ(
        wolfSSL_CertManagerLoadCABuffer(cm.get(), bytes(inter), size(inter), WOLFSSL_FILETYPE_PEM),
        WOLFSSL_SUCCESS);
    // ...and does once the intermediate (a CA, signed by the root) is.
    EXPECT_EQ(wolfSSL_CertManagerVerifyBuffer(cm.get(), bytes(leaf_pem), size(leaf_pem),
                                              WOLFSSL_FILETYPE_PEM),
              WOLFSSL_SUCCESS);
}

TEST(internal_ca, issue_renews_a_due_intermediate_first) {
    REQUIRE_OPENSSL();
    temp_dir dir;
    std::string err;
    const std::int64_t now = real_now();
    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_TRUE(ca) << err;
    const std::string root = read_file(dir.ca("root.crt"));
    const std::string old_inter = read_file(dir.ca("intermediate.crt"));
    const std::string old_key = read_file(dir.ca("intermediate.key"));

    const std::int64_t later = now + 365 * day;
    auto leaf = ca->issue(local_names, later, 7 * day, err);
    ASSERT_TRUE(leaf) << err;
    const std::string new_inter = read_file(dir.ca("intermediate.crt"));
    EXPECT_NE(new_inter, old_inter);
    EXPECT_NE(read_file(dir.ca("intermediate.key")), old_key);
    EXPECT_EQ(read_file(dir.ca("root.crt")), root);
    EXPECT_EQ(ca->intermediate_pem(), new_inter);
    EXPECT_EQ(ca->intermediate_not_before(), later - 60);
    EXPECT_EQ(leaf->not_after, later + 7 * day);
    EXPECT_EQ(mode_of(dir.ca("intermediate.key")), 0600u);

    auto w = write_chain(dir, *leaf, "b");
    EXPECT_EQ(read_file(w.intermediate), new_inter);
    const std::string at = " -attime " + std::to_string(later) + " ";
    auto inter_ok = run("openssl verify -x509_strict" + at + "-CAfile " + dir.ca("root.crt") + " " +
                        dir.ca("intermediate.crt"));
    EXPECT_EQ(inter_ok.status, 0) << inter_ok.output;
    auto chain_ok = run("openssl verify -x509_strict -purpose sslserver" + at + "-CAfile " +
                        dir.ca("root.crt") + " -untrusted " + w.intermediate + " " + w.leaf);
    EXPECT_EQ(chain_ok.status, 0) << chain_ok.output;
    // The same chain is not valid yet at the real time: the dates really are the injected ones.
    auto not_yet = run("openssl verify -CAfile " + dir.ca("root.crt") + " -untrusted " +
                       w.intermediate + " " + w.leaf);
    EXPECT_NE(not_yet.status, 0) << not_yet.output;

    // The reloaded CA has the renewed intermediate.
    auto reopened = internal_ca::open(dir.storage(), later, err);
    ASSERT_TRUE(reopened) << err;
    EXPECT_EQ(reopened->intermediate_pem(), new_inter);
}

TEST(internal_ca, the_intermediate_is_renewed_exactly_when_due) {
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_TRUE(ca) << err;
    const std::int64_t due = renewal_time(now - 60, now + 30 * day);
    EXPECT_EQ(due, now + 20 * day - 20); // 2/3 of (30 days + 60 s) after notBefore

    const std::string first = ca->intermediate_pem();
    ASSERT_TRUE(ca->issue(local_names, due - 1, 3600, err)) << err;
    EXPECT_EQ(ca->intermediate_pem(), first);
    ASSERT_TRUE(ca->issue(local_names, due, 3600, err)) << err;
    EXPECT_NE(ca->intermediate_pem(), first);
    EXPECT_EQ(ca->intermediate_not_before(), due - 60);

    // open() renews too.
    const std::string second = ca->intermediate_pem();
    auto reopened = internal_ca::open(dir.storage(), renewal_time(due - 60, due + 30 * day), err);
    ASSERT_TRUE(reopened) << err;
    EXPECT_NE(reopened->intermediate_pem(), second);
    EXPECT_EQ(read_file(dir.ca("intermediate.crt")), reopened->intermediate_pem());
}

TEST(internal_ca, a_leaf_never_outlives_its_intermediate) {
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_TRUE(ca) << err;
    auto leaf = ca->issue(local_names, now + day, 90 * day, err);
    ASSERT_TRUE(leaf) << err;
    EXPECT_EQ(leaf->not_before, now + day - 60);
    EXPECT_EQ(leaf->not_after, ca->intermediate_not_after());
    EXPECT_EQ(leaf->not_after, now + 30 * day);
}

TEST(internal_ca, two_leaves_get_different_serials_and_keys) {
    REQUIRE_OPENSSL();
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_TRUE(ca) << err;
    auto one = ca->issue(local_names, now, 3600, err);
    auto two = ca->issue(local_names, now, 3600, err);
    ASSERT_TRUE(one && two) << err;
    EXPECT_NE(one->key_pem, two->key_pem);
    auto w1 = write_chain(dir, *one, "one");
    auto w2 = write_chain(dir, *two, "two");
    auto s1 = run("openssl x509 -noout -serial -in " + w1.leaf);
    auto s2 = run("openssl x509 -noout -serial -in " + w2.leaf);
    ASSERT_EQ(s1.status, 0) << s1.output;
    EXPECT_NE(s1.output, s2.output);
    // 16 bytes: "serial=" + up to 32 hex digits (the top bit is clear, so no padding byte).
    EXPECT_GE(s1.output.size(), std::string("serial=\n").size() + 30);
    EXPECT_LE(s1.output.size(), std::string("serial=\n").size() + 32);
    auto k1 = run("openssl x509 -noout -pubkey -in " + w1.leaf);
    auto k2 = run("openssl x509 -noout -pubkey -in " + w2.leaf);
    EXPECT_NE(k1.output, k2.output);
}

TEST(internal_ca, names_are_normalised_and_a_long_first_name_moves_to_a_critical_san) {
    REQUIRE_OPENSSL();
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_TRUE(ca) << err;

    const std::vector<std::string> names = {"App.Example.TEST.", "app.example.test",
                                            "*.Dev.Localhost", "::ffff:1.2.3.4", "2001:DB8::1"};
    auto leaf = ca->issue(names, now, 3600, err);
    ASSERT_TRUE(leaf) << err;
    auto w = write_chain(dir, *leaf, "n");
    std::string text = text_of(w.leaf);
    EXPECT_NE(text.find("Subject: CN = app.example.test\n"), std::string::npos) << text;
    EXPECT_NE(text.find("DNS:app.example.test, DNS:*.dev.localhost, IP "
                        "Address:0:0:0:0:0:FFFF:102:304, IP Address:2001:DB8:0:0:0:0:0:1\n"),
              std::string::npos)
        << text;
    for (const char* check : {"-verify_hostname x.dev.localhost", "-verify_ip 2001:db8::1"}) {
        auto r =
            run("openssl verify -x509_strict -attime " + std::to_string(now) + " -CAfile " +
                ca->root_path() + " -untrusted " + w.intermediate + " " + check + " " + w.leaf);
        EXPECT_EQ(r.status, 0) << check << ": " << r.output;
    }

    const std::string long_name = std::string(60, 'a') + ".localhost"; // 70 > 64 characters
    leaf = ca->issue(std::vector<std::string>{long_name}, now, 3600, err);
    ASSERT_TRUE(leaf) << err;
    w = write_chain(dir, *leaf, "l");
    text = text_of(w.leaf);
    EXPECT_NE(text.find("Subject: \n"), std::string::npos) << text;
    EXPECT_NE(text.find("X509v3 Subject Alternative Name: critical\n                DNS:" +
                        long_name + "\n"),
              std::string::npos)
        << text;
    auto verify = run("openssl verify -x509_strict -attime " + std::to_string(now) + " -CAfile " +
                      ca->root_path() + " -untrusted " + w.intermediate + " -verify_hostname " +
                      long_name + " " + w.leaf);
    EXPECT_EQ(verify.status, 0) << verify.output;
}

TEST(internal_ca, bad_names_and_lifetimes_are_rejected) {
    temp_dir dir;
    std::string err;
    const std::int64_t now = 1'800'000'000;
    auto ca = internal_ca::open(dir.storage(), now, err);
    ASSERT_TRUE(ca) << err;
    const std::string bad[] = {"",
                               ".",
                               "a..b",
                               "*",
                               "*.",
                               "foo.*.test",
                               "f*.test",
                               "-a.test",
                               "a-.test",
                               "exa mple.test",
                               "b\xc3\xbc"
                               "cher.test",
                               "[::1]",
                               "fe80::1%eth0",
                               "10.0.0",
                               "1.2.3.256",
                               std::string("127.0.0.1\0.evil", 15),
                               std::string(64, 'a') + ".test",
                               "under_score.test"};
    for (const std::string& name : bad) {
        err.clear();
        auto r = ca->issue(std::vector<std::string>{name}, now, 3600, err);
        EXPECT_FALSE(r) << "accepted: " << name;
        if (!r) {
            EXPECT_TRUE(r.error() == std::errc::invalid_argument) << name;
        }
        EXPECT_NE(err.find("is neither a DNS name nor an IP address"), std::string::npos) << err;
    }
    EXPECT_FALSE(ca->issue(std::vector<std::string>{}, now, 3600, err));
    EXPECT_EQ(err, "internal CA: no names to certify");
    EXPECT_FALSE(ca->issue(local_names, now, 0, err));
    EXPECT_EQ(err, "internal CA: certificate lifetime must be positive");
}

TEST(internal_ca, an_empty_storage_path_is_rejected) {
    std::string err;
    auto ca = internal_ca::open("", 1'800'000'000, err);
    ASSERT_FALSE(ca);
    EXPECT_TRUE(ca.error() == std::errc::invalid_argument);
}

TEST(internal_ca, a_storage_path_through_a_file_is_an_error_naming_it) {
    temp_dir dir;
    write_file(dir.path + "/file", "x");
    std::string err;
    auto ca = internal_ca::open(dir.path + "/file/state", 1'800'000'000, err);
    ASSERT_FALSE(ca);
    EXPECT_EQ(err, dir.path + "/file: Not a directory");
}

TEST(renewal, due_at_two_thirds_of_the_lifetime_not_before) {
    struct row {
        std::int64_t lifetime;
        std::int64_t due_after; // seconds after notBefore
    } rows[] = {
        {7 * day, 403200},     // 4 d 16 h = 4.67 days
        {90 * day, 60 * day},  // day 60, 30 days left
        {12 * 3600, 8 * 3600}, // Caddy's internal leaf: 4 h left
        {30 * day + 60, 20 * day + 40},
        {10, 7}, // 10 s: a third is 3.33 s, so due with 3 s left
        {1, 1},  // at notAfter itself
    };
    const std::int64_t nb = 1'700'000'000;
    for (const row& r : rows) {
        const std::int64_t na = nb + r.lifetime;
        EXPECT_EQ(renewal_time(nb, na), nb + r.due_after) << r.lifetime;
        EXPECT_FALSE(renewal_due(nb, na, nb + r.due_after - 1)) << r.lifetime;
        EXPECT_TRUE(renewal_due(nb, na, nb + r.due_after)) << r.lifetime;
        EXPECT_TRUE(renewal_due(nb, na, na + 1)) << r.lifetime;
        EXPECT_FALSE(renewal_due(nb, na, nb)) << r.lifetime;
    }
}

TEST(renewal, an_empty_or_inverted_window_is_always_due) {
    EXPECT_TRUE(renewal_due(100, 100, 0));
    EXPECT_TRUE(renewal_due(200, 100, -1'000'000));
    EXPECT_TRUE(renewal_due(std::numeric_limits<std::int64_t>::min(),
                            std::numeric_limits<std::int64_t>::max(),
                            std::numeric_limits<std::int64_t>::max()));
    EXPECT_FALSE(renewal_due(std::numeric_limits<std::int64_t>::min(),
                             std::numeric_limits<std::int64_t>::max(), 0));
}
