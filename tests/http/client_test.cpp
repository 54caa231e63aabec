#include "ringlet/http/client.hpp"
#include "ringlet/http/response_parser.hpp"
#include "ringlet/net/endpoint.hpp"
#include "ringlet/net/listener.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/tls/client_context.hpp"
#include "support/peer.hpp"
#include "support/uring.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <thread>

using namespace ringlet;

namespace {

struct fetched {
    result<http::client_response> r = fail_errno(EINVAL);
    std::string error;
    std::int64_t elapsed_ns = 0;
};

fetched run(rt::reactor& r, const std::string& u, WOLFSSL_CTX* tls, http::client_limits l = {},
            std::string method = "GET", std::string body = {}) {
    fetched f;
    http::client_request req;
    req.method = std::move(method);
    auto parsed = http::parse_url(u);
    EXPECT_TRUE(parsed) << u;
    if (!parsed) return f;
    req.target = *parsed;
    req.body = std::move(body);
    req.headers.emplace_back("Content-Type", "application/jose+json");
    auto t0 = rt::reactor::clock_now();
    f.r = r.run_until_done(http::fetch(req, tls, l, f.error));
    f.elapsed_ns = rt::reactor::clock_now() - t0;
    return f;
}

struct http_client : ::testing::Test {
    test::temp_dir dir{"http-client"};
    std::unique_ptr<test::child_server> tls_server, plain_server;
    tls::ctx_ptr ctx;
    std::string https, http;

    void SetUp() override {
        if (!test::have_openssl() || !test::have_python_ssl()) GTEST_SKIP() << "no openssl/python3";
        ASSERT_TRUE(test::make_ca(dir.path / "ca", "ringlet-test-ca"));
        ASSERT_TRUE(test::make_leaf(dir.path / "leaf", dir.path / "ca", "DNS:localhost"));
        tls_server = test::start_python_server(dir.path, (dir.path / "leaf/cert.pem").string(),
                                               (dir.path / "leaf/key.pem").string());
        plain_server = test::start_python_server(dir.path);
        ASSERT_NE(tls_server->port(), 0);
        ASSERT_NE(plain_server->port(), 0);
        https = "https://localhost:" + std::to_string(tls_server->port());
        http = "http://127.0.0.1:" + std::to_string(plain_server->port());
        tls::client_options o;
        o.ca_file = (dir.path / "ca/ca.pem").string();
        std::string err;
        auto c = tls::make_client_context(o, err);
        ASSERT_TRUE(c) << err;
        ctx = std::move(*c);
    }
};

} // namespace

TEST_F(http_client, gets_over_https_with_default_headers) {
    RINGLET_REACTOR_OR_SKIP(r);
    auto f = run(*r, https + "/hello?x=1", ctx.get());
    ASSERT_TRUE(f.r) << f.error;
    EXPECT_EQ(f.r->status, 200);
    EXPECT_EQ(f.r->reason, "OK");
    EXPECT_EQ(f.r->body, "path=/hello?x=1 ua=ringlet/0.1 host=localhost:" +
                             std::to_string(tls_server->port()));
    EXPECT_EQ(f.r->header("content-length"), std::to_string(f.r->body.size()));
    auto links = f.r->headers_named("LINK");
    ASSERT_EQ(links.size(), 2u);
    auto parsed = http::parse_link_header(links[1]);
    ASSERT_TRUE(parsed);
    ASSERT_EQ(parsed->size(), 2u);
    EXPECT_EQ((*parsed)[1].rel, "alternate");
}

TEST_F(http_client, posts_a_body_and_gets_it_back) {
    RINGLET_REACTOR_OR_SKIP(r);
    std::string payload(100'000, 'p');
    payload += "{\"end\":true}";
    auto f = run(*r, https + "/new-order", ctx.get(), {}, "POST", payload);
    ASSERT_TRUE(f.r) << f.error;
    EXPECT_EQ(f.r->status, 201);
    EXPECT_EQ(f.r->body, payload);
    EXPECT_EQ(f.r->header("Location"), "/new/1");
}

TEST_F(http_client, plain_http_chunked_and_until_close_bodies) {
    RINGLET_REACTOR_OR_SKIP(r);
    auto c = run(*r, http + "/chunked", nullptr);
    ASSERT_TRUE(c.r) << c.error;
    EXPECT_EQ(c.r->body, "hello chunked world");
    auto t = run(*r, http + "/ticks", nullptr);
    ASSERT_TRUE(t.r) << t.error;
    EXPECT_EQ(t.r->body.size(), 5000u);
    auto tls_chunked = run(*r, https + "/chunked", ctx.get());
    ASSERT_TRUE(tls_chunked.r) << tls_chunked.error;
    EXPECT_EQ(tls_chunked.r->body, "hello chunked world");
}

TEST_F(http_client, a_body_over_the_cap_is_refused) {
    RINGLET_REACTOR_OR_SKIP(r);
    http::client_limits l;
    l.max_body = 1024 * 1024;
    auto ok = run(*r, https + "/big/1048576", ctx.get(), l);
    ASSERT_TRUE(ok.r) << ok.error;
    EXPECT_EQ(ok.r->body.size(), 1048576u);
    auto big = run(*r, https + "/big/1048577", ctx.get(), l);
    ASSERT_FALSE(big.r);
    EXPECT_EQ(big.error, "response body larger than 1048576 bytes");
    l.max_body = 10;
    auto chunked = run(*r, http + "/chunked", nullptr, l);
    ASSERT_FALSE(chunked.r);
    EXPECT_EQ(chunked.error, "response body larger than 10 bytes");
}

TEST_F(http_client, tls_failures_name_the_host_and_the_reason) {
    RINGLET_REACTOR_OR_SKIP(r);
    ASSERT_TRUE(test::make_ca(dir.path / "other", "ringlet-other-ca"));
    tls::client_options o;
    o.ca_file = (dir.path / "other/ca.pem").string();
    std::string err;
    auto wrong = tls::make_client_context(o, err);
    ASSERT_TRUE(wrong) << err;
    auto f = run(*r, https + "/", wrong->get());
    ASSERT_FALSE(f.r);
    EXPECT_EQ(f.error.rfind("TLS handshake with localhost: certificate verify failed (", 0), 0u)
        << f.error;

    // The certificate names localhost only.
    auto by_ip =
        run(*r, "https://127.0.0.1:" + std::to_string(tls_server->port()) + "/", ctx.get());
    ASSERT_FALSE(by_ip.r);
    EXPECT_NE(by_ip.error.find("certificate verify failed"), std::string::npos) << by_ip.error;

    auto no_ctx = run(*r, https + "/", nullptr);
    ASSERT_FALSE(no_ctx.r);
    EXPECT_NE(no_ctx.error.find("needs a TLS client context"), std::string::npos);
}

TEST(http_client_errors, refused_and_silent_servers) {
    RINGLET_REACTOR_OR_SKIP(r);
    // A port nobody listens on: bind one, then close it.
    std::uint16_t free_port;
    {
        auto ep = net::endpoint::parse("127.0.0.1:0");
        auto fds = net::open_listeners(*ep, 1);
        ASSERT_TRUE(fds);
        free_port = net::endpoint::of_socket((*fds)[0].get()).port();
    }
    auto refused = run(*r, "http://127.0.0.1:" + std::to_string(free_port) + "/", nullptr);
    ASSERT_FALSE(refused.r);
    EXPECT_EQ(refused.r.error(), std::errc::connection_refused);
    EXPECT_EQ(refused.error,
              "connect to 127.0.0.1:" + std::to_string(free_port) + ": Connection refused");

    // A server that accepts (the kernel's backlog does) and never answers.
    auto ep = net::endpoint::parse("127.0.0.1:0");
    auto silent = net::open_listeners(*ep, 1);
    ASSERT_TRUE(silent);
    auto port = net::endpoint::of_socket((*silent)[0].get()).port();
    http::client_limits l;
    l.request_timeout_ns = 300'000'000;
    auto timed = run(*r, "http://127.0.0.1:" + std::to_string(port) + "/", nullptr, l);
    ASSERT_FALSE(timed.r);
    EXPECT_EQ(timed.r.error(), std::errc::timed_out);
    EXPECT_EQ(timed.error, "timed out after 300 ms reading the response from http://127.0.0.1:" +
                               std::to_string(port));
    EXPECT_GE(timed.elapsed_ns, 290'000'000);
    EXPECT_LT(timed.elapsed_ns, 3'000'000'000);
}

TEST(http_client_errors, a_malformed_response_is_reported) {
    RINGLET_REACTOR_OR_SKIP(r);
    auto ep = net::endpoint::parse("127.0.0.1:0");
    auto fds = net::open_listeners(*ep, 1);
    ASSERT_TRUE(fds);
    int lfd = (*fds)[0].get();
    auto port = net::endpoint::of_socket(lfd).port();
    std::thread server([lfd] {
        unique_fd c(::accept(lfd, nullptr, nullptr));
        char buf[4096];
        (void)::recv(c.get(), buf, sizeof buf, 0);
        const char reply[] = "HTTP/1.1 200 OK\r\nBroken header\r\n\r\n";
        (void)::send(c.get(), reply, sizeof reply - 1, MSG_NOSIGNAL);
    });
    auto f = run(*r, "http://127.0.0.1:" + std::to_string(port) + "/", nullptr);
    server.join();
    ASSERT_FALSE(f.r);
    EXPECT_EQ(f.error, "malformed response from http://127.0.0.1:" + std::to_string(port) +
                           ": malformed header field");
}
