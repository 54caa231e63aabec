#include "ringlet/net/connect.hpp"
#include "ringlet/net/listener.hpp"
#include "ringlet/runtime/ops.hpp"
#include "support/uring.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

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

TEST(async_resolve, gives_what_resolve_gives) {
    RINGLET_REACTOR_OR_SKIP(r);
    std::string err;
    auto v4 = r->run_until_done(net::async_resolve("127.0.0.1", 80, err, 1'000'000'000));
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->at(0).to_string(), "127.0.0.1:80");
    auto local = r->run_until_done(net::async_resolve("LOCALHOST", 9, err, 1'000'000'000));
    ASSERT_TRUE(local);
    ASSERT_EQ(local->size(), 2u);
    EXPECT_EQ(local->at(1).to_string(), "[::1]:9");
    auto empty = r->run_until_done(net::async_resolve("", 80, err, 1'000'000'000));
    EXPECT_FALSE(empty);
    // A name goes through getaddrinfo on a thread of its own; .invalid never resolves.
    auto none =
        r->run_until_done(net::async_resolve("no-such-host.invalid", 80, err, 5'000'000'000));
    ASSERT_FALSE(none);
    EXPECT_EQ(err.rfind("resolve no-such-host.invalid: ", 0), 0u) << err;
}

TEST(async_resolve, a_lookup_given_up_on_finishes_safely_on_its_thread) {
    RINGLET_REACTOR_OR_SKIP(r);
    std::string err;
    // 1 ns: the wait ends long before the thread has an answer (or, rarely, just after).
    auto r1 = r->run_until_done(net::async_resolve("no-such-host.invalid", 80, err, 1));
    ASSERT_FALSE(r1);
    if (r1.error() == std::errc::timed_out) {
        EXPECT_EQ(err, "resolve no-such-host.invalid: no answer within 0 ms");
    }
    // The abandoned thread still writes its answer and rings the bell: give it time to, so a
    // use-after-free there shows up under the sanitizers.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

namespace {
// Child process body: DNS goes to a local server that never answers; the reactor must keep
// running timers while the lookup waits, and the lookup must end at its timeout. Exit code 0 =
// as expected; 77 = this environment can't set it up (not root, no mount namespaces).
int silent_dns_child() {
    if (::unshare(CLONE_NEWNS) != 0) return 77;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 77;
    char conf[] = "/tmp/ringlet-resolv-XXXXXX";
    int fd = ::mkstemp(conf);
    if (fd < 0) return 77;
    const char text[] = "nameserver 127.0.0.1\noptions timeout:3 attempts:1\n";
    if (::write(fd, text, sizeof text - 1) != ssize_t(sizeof text - 1)) return 77;
    ::close(fd);
    bool mounted = ::mount(conf, "/etc/resolv.conf", nullptr, MS_BIND, nullptr) == 0;
    ::unlink(conf);
    if (!mounted) return 77;
    int dns = ::socket(AF_INET, SOCK_DGRAM, 0); // bound, never read: queries go unanswered
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (dns < 0 || ::bind(dns, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 77;

    auto r = test::make_reactor();
    if (!r) return 77;
    std::string err;
    int ticks = 0;
    r->spawn([](int& n) -> rt::task<void> {
        for (int i = 0; i < 10; ++i) {
            co_await rt::sleep_for(20'000'000);
            ++n;
        }
    }(ticks));
    auto t0 = std::chrono::steady_clock::now();
    auto res = r->run_until_done(net::async_resolve("slow.example", 443, err, 400'000'000));
    auto waited = std::chrono::steady_clock::now() - t0;
    if (res || res.error() != std::errc::timed_out) {
        std::fprintf(stderr, "expected a timeout, got %s (%s)\n",
                     res ? "an answer" : res.error().message().c_str(), err.c_str());
        return 1;
    }
    if (err != "resolve slow.example: no answer within 400 ms") {
        std::fprintf(stderr, "message: %s\n", err.c_str());
        return 1;
    }
    if (waited > std::chrono::milliseconds(2500)) { // getaddrinfo itself would take 3 s or more
        std::fprintf(stderr, "the wait took %lld ms\n",
                     static_cast<long long>(waited / std::chrono::milliseconds(1)));
        return 1;
    }
    if (ticks < 10) { // 200 ms of 20 ms timers ran during the 400 ms lookup
        std::fprintf(stderr, "only %d timer ticks while the lookup waited\n", ticks);
        return 1;
    }
    return 0;
}
} // namespace

TEST(async_resolve, a_silent_dns_server_does_not_stall_the_reactor) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(silent_dns_child());
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "needs root and mount namespaces";
    EXPECT_EQ(WEXITSTATUS(status), 0);
}
