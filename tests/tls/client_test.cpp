#include "ringlet/net/connect.hpp"
#include "ringlet/tls/client_context.hpp"
#include "ringlet/tls/tls_stream.hpp"
#include "support/peer.hpp"
#include "support/uring.hpp"

#include <gtest/gtest.h>

using namespace ringlet;

namespace {

constexpr std::int64_t second = 1'000'000'000;

struct outcome {
    bool ok = false;
    std::error_code ec;
    std::string description, alpn, version, response;
    bool resumed = false;
    tls::session_ptr session;
};

// Connects to 127.0.0.1:port, handshakes as `name`, sends a GET and reads the response.
rt::task<outcome> get(std::uint16_t port, WOLFSSL_CTX* ctx, std::string name,
                      WOLFSSL_SESSION* resume = nullptr) {
    outcome out;
    std::string err;
    auto eps = net::resolve("127.0.0.1", port, err);
    auto fd = co_await net::async_connect((*eps)[0], 5 * second);
    if (!fd) {
        out.ec = fd.error();
        co_return out;
    }
    net::tcp_stream tcp(fd->release());
    tls::tls_stream s(tcp);
    std::int64_t deadline = rt::this_reactor().now() + 5 * second;
    auto hs = co_await s.async_connect(ctx, name, deadline, resume);
    if (!hs) {
        out.ec = hs.error();
        out.description = s.error_description();
    } else {
        out.alpn = s.alpn_selected();
        out.version = s.version();
        out.resumed = s.resumed();
        std::string req = "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
        iovec iov{req.data(), req.size()};
        auto w = co_await s.async_write_all(std::span(&iov, 1), 5 * second);
        char buf[4096];
        while (w) {
            auto n = co_await s.async_read_some(buf, deadline);
            if (!n || *n == 0) break;
            out.response.append(buf, *n);
        }
        out.ok = true;
        out.session = s.get_session();
    }
    co_await s.async_close();
    co_return out;
}

struct tls_client : ::testing::Test {
    test::temp_dir dir{"tls-client"};
    std::unique_ptr<test::child_server> server;
    std::string ca_pem;

    void SetUp() override {
        if (!test::have_openssl() || !test::have_python_ssl()) GTEST_SKIP() << "no openssl/python3";
        ASSERT_TRUE(test::make_ca(dir.path / "ca", "ringlet-test-ca"));
        ASSERT_TRUE(
            test::make_leaf(dir.path / "leaf", dir.path / "ca", "DNS:server.test,IP:127.0.0.1"));
        ca_pem = test::slurp(dir.path / "ca" / "ca.pem");
        server = test::start_python_server(dir.path, (dir.path / "leaf" / "cert.pem").string(),
                                           (dir.path / "leaf" / "key.pem").string());
        ASSERT_NE(server->port(), 0);
    }
    tls::ctx_ptr context(tls::client_options o) {
        std::string err;
        auto c = tls::make_client_context(o, err);
        EXPECT_TRUE(c) << err;
        return c ? std::move(*c) : nullptr;
    }
};

} // namespace

TEST_F(tls_client, verifies_the_chain_and_name_negotiates_alpn_and_resumes_with_a_ticket) {
    RINGLET_REACTOR_OR_SKIP(r);
    tls::client_options o;
    o.ca_pem = ca_pem;
    o.alpn = {"h2", "http/1.1"};
    auto ctx = context(o);
    auto first = r->run_until_done(get(server->port(), ctx.get(), "server.test"));
    ASSERT_TRUE(first.ok) << first.ec.message() << " " << first.description;
    EXPECT_EQ(first.alpn, "http/1.1");
    EXPECT_EQ(first.version, "TLSv1.3");
    EXPECT_FALSE(first.resumed);
    EXPECT_NE(first.response.find("path=/x"), std::string::npos) << first.response;
    ASSERT_TRUE(first.session) << "no resumable session after reading (TLS 1.3 ticket)";

    auto second =
        r->run_until_done(get(server->port(), ctx.get(), "server.test", first.session.get()));
    ASSERT_TRUE(second.ok) << second.description;
    EXPECT_TRUE(second.resumed);
    EXPECT_NE(second.response.find("path=/x"), std::string::npos);
}

TEST_F(tls_client, an_ip_literal_is_checked_against_ip_subject_alt_names) {
    RINGLET_REACTOR_OR_SKIP(r);
    tls::client_options o;
    o.ca_pem = ca_pem;
    auto ctx = context(o);
    auto ok = r->run_until_done(get(server->port(), ctx.get(), "127.0.0.1"));
    EXPECT_TRUE(ok.ok) << ok.description;

    // A certificate without the IP: refused after the handshake, with a clear reason.
    ASSERT_TRUE(test::make_leaf(dir.path / "dns-only", dir.path / "ca", "DNS:server.test"));
    test::temp_dir other("tls-client-dns");
    auto dns_only =
        test::start_python_server(other.path, (dir.path / "dns-only" / "cert.pem").string(),
                                  (dir.path / "dns-only" / "key.pem").string());
    auto bad = r->run_until_done(get(dns_only->port(), ctx.get(), "127.0.0.1"));
    EXPECT_FALSE(bad.ok);
    EXPECT_EQ(bad.ec, std::errc::protocol_error);
    EXPECT_NE(bad.description.find("does not name this IP address"), std::string::npos)
        << bad.description;
}

TEST_F(tls_client, a_wrong_name_or_ca_fails_verification_unless_insecure) {
    RINGLET_REACTOR_OR_SKIP(r);
    tls::client_options o;
    o.ca_pem = ca_pem;
    auto ctx = context(o);
    auto mismatch = r->run_until_done(get(server->port(), ctx.get(), "other.test"));
    EXPECT_FALSE(mismatch.ok);
    EXPECT_EQ(mismatch.ec, std::errc::protocol_error);
    EXPECT_NE(mismatch.description.find("certificate verify failed"), std::string::npos)
        << mismatch.description;

    ASSERT_TRUE(test::make_ca(dir.path / "other-ca", "ringlet-other-ca"));
    tls::client_options wrong;
    wrong.ca_file = (dir.path / "other-ca" / "ca.pem").string();
    auto wrong_ctx = context(wrong);
    auto unknown = r->run_until_done(get(server->port(), wrong_ctx.get(), "server.test"));
    EXPECT_FALSE(unknown.ok);
    EXPECT_NE(unknown.description.find("certificate verify failed"), std::string::npos)
        << unknown.description;

    tls::client_options insecure;
    insecure.insecure = true;
    auto insecure_ctx = context(insecure);
    auto accepted = r->run_until_done(get(server->port(), insecure_ctx.get(), "other.test"));
    EXPECT_TRUE(accepted.ok) << accepted.description;
    EXPECT_NE(accepted.response.find("200"), std::string::npos);

    // A verifying context refuses to run without a name to check.
    auto nameless = r->run_until_done(get(server->port(), ctx.get(), ""));
    EXPECT_EQ(nameless.ec, std::errc::invalid_argument);
}

TEST(tls_client_context, reports_unreadable_ca_files_and_bad_alpn) {
    std::string err;
    tls::client_options o;
    o.ca_file = "/nonexistent/ca.pem";
    EXPECT_FALSE(tls::make_client_context(o, err));
    EXPECT_NE(err.find("/nonexistent/ca.pem"), std::string::npos) << err;
    tls::client_options a;
    a.insecure = true;
    a.alpn = {""};
    EXPECT_FALSE(tls::make_client_context(a, err));
    EXPECT_EQ(err, "invalid ALPN protocol name");
    tls::client_options sys; // the system store (Debian has ca-certificates)
    auto c = tls::make_client_context(sys, err);
    if (c) {
        EXPECT_TRUE(tls::verifies_peer(c->get()));
    }
    tls::client_options ins;
    ins.insecure = true;
    auto i = tls::make_client_context(ins, err);
    ASSERT_TRUE(i);
    EXPECT_FALSE(tls::verifies_peer(i->get()));
}
