#include "ringlet/net/connect.hpp"
#include "ringlet/net/listener.hpp"
#include "ringlet/runtime/ops.hpp"
#include "support/uring.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>

using namespace ringlet;

TEST(resolve, numeric_addresses_and_localhost_need_no_dns) {
    std::string err;
    auto v4 = net::resolve("127.0.0.1", 80, err);
    ASSERT_TRUE(v4) << err;
    ASSERT_EQ(v4->size(), 1u);
    EXPECT_EQ((*v4)[0].to_string(), "127.0.0.1:80");
    auto v6 = net::resolve("[::1]", 8443, err);
    ASSERT_TRUE(v6);
    EXPECT_EQ((*v6)[0].to_string(), "[::1]:8443");
    EXPECT_EQ(net::resolve("::1", 1, err)->at(0).to_string(), "[::1]:1");
    auto local = net::resolve("LocalHost", 9, err);
    ASSERT_TRUE(local);
    ASSERT_EQ(local->size(), 2u);
    EXPECT_EQ((*local)[0].to_string(), "127.0.0.1:9");
    EXPECT_EQ((*local)[1].to_string(), "[::1]:9");
}

TEST(resolve, bad_names_are_errors_with_a_message) {
    std::string err;
    auto empty = net::resolve("", 80, err);
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error(), std::errc::invalid_argument);
    // .invalid never resolves (RFC 6761); without DNS here it fails too, either way an error.
    auto none = net::resolve("no-such-host.invalid", 80, err);
    ASSERT_FALSE(none);
    EXPECT_EQ(err.rfind("resolve no-such-host.invalid: ", 0), 0u) << err;
}

TEST(async_connect, connects_and_reports_refusal) {
    RINGLET_REACTOR_OR_SKIP(r);
    auto ep = net::endpoint::parse("127.0.0.1:0");
    auto fds = net::open_listeners(*ep, 1);
    ASSERT_TRUE(fds);
    auto bound = net::endpoint::of_socket((*fds)[0].get());

    auto ok = r->run_until_done(net::async_connect(bound, 1'000'000'000));
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(net::endpoint::of_socket(ok->get()).to_string().rfind("127.0.0.1:", 0), 0u);
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    EXPECT_EQ(::getpeername(ok->get(), reinterpret_cast<sockaddr*>(&peer), &len), 0);

    fds->clear(); // nobody listens there any more
    auto refused = r->run_until_done(net::async_connect(bound, 1'000'000'000));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), std::errc::connection_refused);

    // No connect-timeout case: this machine's network answers SYNs to unroutable addresses
    // and a loopback listener with a full accept queue answered RST here, so nothing
    // here leaves a SYN unanswered. The linked timeout is the one every other op uses.
}
