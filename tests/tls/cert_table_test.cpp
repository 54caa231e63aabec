#include "ringlet/tls/cert_table.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace ringlet;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A self-signed ECDSA P-256 certificate for `names`, made by the openssl CLI.
tls::certificate make_cert(const fs::path& dir, const std::string& cn, const std::string& sans) {
    fs::create_directories(dir);
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
        "-subj /CN=" +
        cn + " -addext subjectAltName=" + sans + " -keyout " + (dir / "key.pem").string() +
        " -out " + (dir / "cert.pem").string() + " 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) return {};
    std::string err;
    auto c = tls::parse_certificate(slurp(dir / "cert.pem"), slurp(dir / "key.pem"),
                                    ::time(nullptr), "cert.pem", "key.pem", err);
    return c ? std::move(*c) : tls::certificate{};
}

struct tables : ::testing::Test {
    fs::path dir = fs::temp_directory_path() / ("ringlet-table-" + std::to_string(::getpid()));
    void TearDown() override { fs::remove_all(dir); }
};

} // namespace

TEST_F(tables, sni_picks_exact_then_wildcard_then_default_or_nothing_when_strict) {
    if (std::system("openssl version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
    auto a = make_cert(dir / "a", "a.test", "DNS:a.test");
    auto w = make_cert(dir / "w", "wild", "DNS:*.example.test,IP:127.0.0.1");
    ASSERT_FALSE(a.chain_der.empty());
    ASSERT_FALSE(w.chain_der.empty());
    EXPECT_EQ(w.ip_names, std::vector<std::string>{"127.0.0.1"});
    EXPECT_TRUE(tls::covers(w, "x.example.test"));
    EXPECT_FALSE(tls::covers(w, "example.test"));
    EXPECT_FALSE(tls::covers(w, "a.b.example.test"));

    auto keys = std::make_shared<const tls::ticket_keys>(tls::ticket_keys::generate(0));
    for (bool strict : {false, true}) {
        std::string err;
        auto t = tls::cert_table::build({{a, {"a.test"}}, {w, {"*.example.test"}}}, 2, keys, strict,
                                        1, err);
        ASSERT_TRUE(t) << err;
        const auto* ea = (*t)->entries()[0].get();
        const auto* ew = (*t)->entries()[1].get();
        EXPECT_EQ((*t)->find("a.test"), ea);
        EXPECT_EQ((*t)->find("A.TEST."), ea); // case and a trailing dot don't matter
        EXPECT_EQ((*t)->find("www.example.test"), ew);
        EXPECT_EQ((*t)->find("x.y.example.test"), strict ? nullptr : ea); // one label only
        EXPECT_EQ((*t)->find("example.test"), strict ? nullptr : ea);
        EXPECT_EQ((*t)->find(""), strict ? nullptr : ea);        // no SNI
        EXPECT_NE((*t)->context(*ea, 0), (*t)->context(*ea, 1)); // one context per reactor
    }
}

TEST_F(tables, a_key_from_another_certificate_is_refused_naming_the_key_file) {
    if (std::system("openssl version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
    make_cert(dir / "one", "one.test", "DNS:one.test");
    make_cert(dir / "two", "two.test", "DNS:two.test");
    std::string err;
    auto c = tls::load_certificate_files((dir / "one" / "cert.pem").string(),
                                         (dir / "two" / "key.pem").string(), ::time(nullptr), err);
    EXPECT_FALSE(c);
    EXPECT_NE(err.find((dir / "two" / "key.pem").string()), std::string::npos) << err;
    EXPECT_NE(err.find("does not match"), std::string::npos) << err;
}

TEST_F(tables, a_chain_out_of_order_is_refused) {
    if (std::system("openssl version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
    // CA, then a leaf it signs; listing the CA first is the mistake.
    fs::create_directories(dir);
    std::string d = dir.string();
    std::string cmd =
        "cd " + d +
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-days 2 -subj /CN=ca -keyout ca.key -out ca.pem 2>/dev/null && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=leaf.test "
        "-keyout leaf.key -out leaf.csr 2>/dev/null && "
        "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile <(printf 'subjectAltName=DNS:leaf.test') -out leaf.pem 2>/dev/null && "
        "cat leaf.pem ca.pem > good.pem && cat ca.pem leaf.pem > bad.pem";
    ASSERT_EQ(std::system(("bash -c \"" + cmd + "\"").c_str()), 0);
    std::string err;
    auto good = tls::load_certificate_files(d + "/good.pem", d + "/leaf.key", ::time(nullptr), err);
    EXPECT_TRUE(good) << err;
    auto bad = tls::load_certificate_files(d + "/bad.pem", d + "/leaf.key", ::time(nullptr), err);
    EXPECT_FALSE(bad);
    EXPECT_NE(err.find("bad.pem"), std::string::npos) << err;
}
