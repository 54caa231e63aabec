#include "ringlet/http/url.hpp"

#include <gtest/gtest.h>

using namespace ringlet::http;

TEST(url, parses_scheme_host_port_and_target) {
    auto u = parse_url("HTTPS://ACME.Test:14000/dir/x?y=1#frag");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->scheme, "https");
    EXPECT_EQ(u->host, "acme.test");
    EXPECT_EQ(u->port, 14000);
    EXPECT_EQ(u->target, "/dir/x?y=1");
    EXPECT_EQ(u->authority(), "acme.test:14000");
    EXPECT_EQ(u->to_string(), "https://acme.test:14000/dir/x?y=1");

    auto d = parse_url("http://example.test");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->port, 80);
    EXPECT_EQ(d->target, "/");
    EXPECT_EQ(d->authority(), "example.test");
    EXPECT_EQ(parse_url("https://example.test?q")->target, "/?q");
    EXPECT_EQ(parse_url("https://example.test:/")->port, 443);

    auto v6 = parse_url("https://[::1]:8443/");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->authority(), "[::1]:8443");
    EXPECT_EQ(parse_url("http://127.0.0.1:8080/a")->host, "127.0.0.1");
}

TEST(url, rejects_what_a_client_must_not_send) {
    for (const char* bad :
         {"ftp://a.test/", "a.test/x", "https://", "https://user@a.test/", "https://u:p@a.test/",
          "https://a.test:0/", "https://a.test:65536/", "https://a.test:12a/", "https://a.test:-1/",
          "https://a test/", "https://a.test/a b", "https://a.test/\x01", "https://a.test/\xc3\xa9",
          "https://[::1/", "https://[zz]/", "https://[::1]x/", "https://a.test/x#frag ment",
          "https://a%41.test/", "https://:80/"}) {
        EXPECT_FALSE(parse_url(bad)) << bad;
    }
}

TEST(url, resolves_references_against_a_base) {
    auto base = *parse_url("https://a.test:8443/acme/order/1?x=2");
    EXPECT_EQ(resolve_url(base, "/new")->to_string(), "https://a.test:8443/new");
    EXPECT_EQ(resolve_url(base, "cert")->to_string(), "https://a.test:8443/acme/order/cert");
    EXPECT_EQ(resolve_url(base, "../b/./c")->to_string(), "https://a.test:8443/acme/b/c");
    EXPECT_EQ(resolve_url(base, "../../../x")->to_string(), "https://a.test:8443/x");
    EXPECT_EQ(resolve_url(base, "?y=3")->to_string(), "https://a.test:8443/acme/order/1?y=3");
    EXPECT_EQ(resolve_url(base, "//b.test/p")->to_string(), "https://b.test/p");
    EXPECT_EQ(resolve_url(base, "http://c.test/q#f")->to_string(), "http://c.test/q");
    EXPECT_EQ(resolve_url(base, "")->to_string(), base.to_string());
    EXPECT_FALSE(resolve_url(base, "/a b"));
    EXPECT_FALSE(resolve_url(base, "ftp://x/"));
}
