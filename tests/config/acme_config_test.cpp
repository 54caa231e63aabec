// The "acme" object: top-level defaults, per-site overrides, and every bad value named.
#include "ringlet/config/config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace ringlet;
using certs::acme::challenge_type;
using config::parse_config;

namespace {

std::vector<std::string> errors_of(std::string_view json) {
    std::vector<config::config_error> errors;
    auto r = parse_config(json, "r.json", errors);
    std::vector<std::string> out;
    for (const auto& e : errors) out.push_back(e.to_string());
    if (r && !errors.empty()) out.push_back("<value despite errors>");
    return out;
}

} // namespace

TEST(acme_config, top_level_defaults_and_site_overrides) {
    std::string_view json = R"({
  "acme": { "directory": "https://127.0.0.1:14000/dir", "email": "ops@example.com",
            "trusted_roots": "pebble.pem", "challenges": ["tls-alpn-01"],
            "eab": { "key_id": "kid-1", "hmac_key": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W" } },
  "sites": [
    { "hosts": ["a.test"], "root": "/srv/a", "tls": { "issuer": "acme" } },
    { "hosts": ["b.test"], "root": "/srv/b",
      "tls": { "issuer": "acme", "acme": { "challenges": ["http-01", "tls-alpn-01"],
                                           "preferred_chain": "Pebble Root" } } },
    { "hosts": ["c.test"], "root": "/srv/c" }
  ] })";
    std::vector<config::config_error> errors;
    auto r = parse_config(json, "/etc/ringlet/r.json", errors);
    ASSERT_TRUE(r) << (errors.empty() ? "" : errors[0].to_string());
    const auto& sites = r->options.sites;
    ASSERT_TRUE(sites[0].acme);
    EXPECT_EQ(sites[0].acme->directory, "https://127.0.0.1:14000/dir");
    EXPECT_EQ(sites[0].acme->email, "ops@example.com");
    EXPECT_EQ(sites[0].acme->trusted_roots, "/etc/ringlet/pebble.pem"); // relative to the file
    EXPECT_EQ(sites[0].acme->challenges, std::vector{challenge_type::tls_alpn_01});
    ASSERT_TRUE(sites[0].acme->eab);
    EXPECT_EQ(sites[0].acme->eab->key_id, "kid-1");
    ASSERT_TRUE(sites[1].acme);
    // Overridden keys change, the others are the top level's.
    EXPECT_EQ(sites[1].acme->challenges,
              (std::vector{challenge_type::http_01, challenge_type::tls_alpn_01}));
    EXPECT_EQ(sites[1].acme->preferred_chain, "Pebble Root");
    EXPECT_EQ(sites[1].acme->email, "ops@example.com");
    EXPECT_FALSE(sites[2].acme);
    EXPECT_EQ(r->acme_hosts, (std::vector<std::string>{"a.test", "b.test"}));
}

TEST(acme_config, defaults_to_lets_encrypt_with_both_challenges) {
    std::vector<config::config_error> errors;
    auto r = parse_config(
        R"({"sites": [{"hosts": ["a.test"], "root": "/x", "tls": {"issuer": "acme"}}]})", "r.json",
        errors);
    ASSERT_TRUE(r);
    const auto& a = *r->options.sites[0].acme;
    EXPECT_EQ(a.directory, certs::acme::settings::lets_encrypt);
    EXPECT_EQ(a.challenges, (std::vector{challenge_type::http_01, challenge_type::tls_alpn_01}));
    EXPECT_FALSE(a.eab);
    EXPECT_TRUE(a.email.empty());
}

TEST(acme_config, bad_values_are_named) {
    auto e = errors_of(R"({"acme": {"directory": "ftp://x/dir", "email": "nobody",
 "challenges": ["dns-01", "http-01", "http-01"], "eab": {"key_id": "k"}, "dirctory": 1},
 "sites": [{"hosts": ["a.test"], "root": "/x", "tls": {"issuer": "acme"}}]})");
    ASSERT_EQ(e.size(), 6u) << ::testing::PrintToString(e);
    EXPECT_EQ(e[0], "r.json:1:24: acme.directory: expected the CA's directory URL, like "
                    "\"https://acme-v02.api.letsencrypt.org/directory\", found \"ftp://x/dir\" "
                    "(it must start with https://, or http:// for a CA on this machine)");
    EXPECT_EQ(e[1], "r.json:1:48: acme.email: expected an email address like "
                    "\"ops@example.com\", found \"nobody\"");
    EXPECT_EQ(e[2], "r.json:2:17: acme.challenges[0]: expected \"http-01\" or \"tls-alpn-01\", "
                    "found \"dns-01\"");
    EXPECT_EQ(e[3], "r.json:2:38: acme.challenges[2]: \"http-01\" is listed twice");
    EXPECT_EQ(e[4], "r.json:2:57: acme.eab: missing \"hmac_key\" (both come from the CA)");
    EXPECT_EQ(e[5], "r.json:2:74: unknown key \"dirctory\" in acme (did you mean \"directory\"?)");
}

TEST(acme_config, plain_http_directories_only_on_this_machine) {
    for (const char* ok : {"http://localhost:14000/dir", "http://127.0.0.1/dir",
                           "http://[::1]:8080/dir", "https://ca.example/dir"}) {
        auto e = errors_of(std::string(R"({"acme": {"directory": ")") + ok + R"("},
 "sites": [{"hosts": ["a.test"], "root": "/x", "tls": {"issuer": "acme"}}]})");
        EXPECT_TRUE(e.empty()) << ok << ": " << ::testing::PrintToString(e);
    }
    for (const char* bad : {"http://ca.example/dir", "http://10.0.0.1:14000/dir",
                            "http://localhost.example/dir", "http://[::2]/dir"}) {
        auto e = errors_of(std::string(R"({"acme": {"directory": ")") + bad + R"("},
 "sites": [{"hosts": ["a.test"], "root": "/x", "tls": {"issuer": "acme"}}]})");
        ASSERT_EQ(e.size(), 1u) << bad;
        EXPECT_NE(e[0].find("plain http:// is only for a CA on this machine"), std::string::npos)
            << e[0];
    }
}

TEST(acme_config, acme_sites_need_hosts_without_wildcards) {
    auto e = errors_of(R"({"sites": [{"hosts": ["*.a.test"], "root": "/x",
 "tls": {"issuer": "acme"}}]})");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_NE(e[0].find("sites[0].hosts: \"*.a.test\": a wildcard certificate needs the dns-01"),
              std::string::npos)
        << e[0];
}

TEST(acme_config, site_acme_object_needs_the_acme_issuer) {
    auto e = errors_of(R"({"sites": [{"hosts": ["a.test"], "root": "/x",
 "tls": {"issuer": "internal", "acme": {"email": "a@b.c"}}}]})");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0], "r.json:2:40: sites[0].tls.acme: \"acme\" needs \"issuer\": \"acme\"");
}

TEST(acme_config, http_challenge_only_needs_the_plain_listener) {
    auto e = errors_of(R"({"listen": {"http": "off"}, "sites": [{"hosts": ["a.test"], "root": "/x",
 "tls": {"issuer": "acme", "acme": {"challenges": ["http-01"]}}}]})");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0], "r.json:1:21: listen.http: \"off\" leaves sites[0] without the plain "
                    "listener its http-01 challenge needs");
}

TEST(acme_config, ip_addresses_are_refused_for_acme) {
    auto e = errors_of(R"({"sites": [{"hosts": ["192.0.2.1", "[2001:db8::1]"], "root": "/x",
 "tls": {"issuer": "acme"}}]})");
    ASSERT_EQ(e.size(), 2u) << ::testing::PrintToString(e);
    EXPECT_NE(e[0].find("\"192.0.2.1\": ringlet does not order certificates for IP addresses"),
              std::string::npos);
    EXPECT_NE(e[1].find("\"[2001:db8::1]\""), std::string::npos);
}

TEST(acme_config, without_the_plain_listener_http_01_is_not_attempted) {
    std::vector<config::config_error> errors;
    auto r = parse_config(R"({"listen": {"http": "off"}, "sites": [{"hosts": ["a.test"],
 "root": "/x", "tls": {"issuer": "acme"}}]})",
                          "r.json", errors);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->options.sites[0].acme->challenges, std::vector{challenge_type::tls_alpn_01});
    EXPECT_EQ(r->warnings.size(), 1u);
}
