#include "ringlet/net/listener.hpp"
#include "ringlet/net/tcp_stream.hpp"
#include "ringlet/runtime/ops.hpp"
#include "support/uring.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <thread>

using namespace ringlet;

namespace {

// A blocking client socket connected to `port` on 127.0.0.1.
unique_fd connect_to(std::uint16_t port) {
    unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return unique_fd();
    return fd;
}

struct listening {
    unique_fd fd;
    std::uint16_t port = 0;
};

listening listen_ephemeral() {
    auto ep = net::endpoint::parse("127.0.0.1:0");
    auto fds = net::open_listeners(*ep, 1);
    listening l;
    if (!fds) return l;
    l.fd = std::move((*fds)[0]);
    l.port = net::endpoint::of_socket(l.fd.get()).port();
    return l;
}

// Accepts one connection, then closes the acceptor and waits until the kernel has let go of
// its multishot accept (the acceptor may only die after that).
rt::task<result<int>> accept_one(int listen_fd) {
    net::acceptor acc(listen_fd);
    auto conn = co_await acc.async_accept();
    acc.close();
    (void)co_await acc.async_accept();
    co_return conn;
}

// Accepts one connection, echoes everything until EOF, returns the byte count.
rt::task<std::size_t> echo_one(int listen_fd) {
    auto conn = co_await accept_one(listen_fd);
    if (!conn) co_return 0;
    net::tcp_stream s(*conn);
    std::size_t total = 0;
    char buf[3000];
    for (;;) {
        auto n = co_await s.async_read_some(buf, rt::timer::never);
        if (!n || *n == 0) break;
        total += *n;
        iovec iov{buf, *n};
        if (!co_await s.async_write_all(std::span(&iov, 1), 5'000'000'000)) break;
    }
    co_await s.async_close();
    co_return total;
}

} // namespace

TEST(tcp_stream, accepts_and_echoes_over_loopback) {
    RINGLET_REACTOR_OR_SKIP(r);
    auto l = listen_ephemeral();
    ASSERT_TRUE(l.fd);
    std::string sent(1 << 20, '\0');
    for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 7 + i / 251);
    std::string echoed;
    std::thread client([&] {
        unique_fd c = connect_to(l.port);
        std::thread writer([&] {
            for (std::size_t off = 0; off < sent.size();) {
                ssize_t w = ::send(c.get(), sent.data() + off,
                                   std::min<std::size_t>(65536, sent.size() - off), 0);
                if (w <= 0) break;
                off += static_cast<std::size_t>(w);
            }
            ::shutdown(c.get(), SHUT_WR);
        });
        char buf[65536];
        for (;;) {
            ssize_t n = ::recv(c.get(), buf, sizeof buf, 0);
            if (n <= 0) break;
            echoed.append(buf, static_cast<std::size_t>(n));
        }
        writer.join();
    });
    std::size_t total = r->run_until_done(echo_one(l.fd.get()));
    client.join();
    EXPECT_EQ(total, sent.size());
    EXPECT_TRUE(echoed == sent) << "echoed " << echoed.size() << " bytes";
    EXPECT_EQ(r->recv_buffers().outstanding(), 0u);
}

TEST(tcp_stream, read_deadline_ends_with_timed_out) {
    RINGLET_REACTOR_OR_SKIP(r);
    auto l = listen_ephemeral();
    unique_fd c = connect_to(l.port);
    auto t0 = rt::reactor::clock_now();
    auto res = r->run_until_done([](int lfd) -> rt::task<result<std::size_t>> {
        auto conn = co_await accept_one(lfd);
        net::tcp_stream s(*conn);
        char buf[64];
        auto n = co_await s.async_read_some(buf, rt::this_reactor().now() + 50'000'000);
        co_await s.async_close();
        co_return n;
    }(l.fd.get()));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), std::errc::timed_out);
    EXPECT_GE(rt::reactor::clock_now() - t0, 50'000'000);
}

TEST(tcp_stream, interrupt_wakes_a_waiting_reader_and_data_still_arrives_later) {
    RINGLET_REACTOR_OR_SKIP(r);
    auto l = listen_ephemeral();
    unique_fd c = connect_to(l.port);
    auto got = r->run_until_done([](int lfd, int client) -> rt::task<std::string> {
        auto conn = co_await accept_one(lfd);
        net::tcp_stream s(*conn);
        struct interrupter {
            net::tcp_stream* s;
            rt::timer t{&interrupter::fire, this};
            static void fire(rt::timer& t) {
                static_cast<interrupter*>(t.context())->s->interrupt();
            }
        } irq{&s};
        rt::this_reactor().timers().arm(irq.t, rt::this_reactor().now() + 10'000'000);
        char buf[64];
        auto first = co_await s.async_read_some(buf, rt::timer::never);
        std::string out = first                                            ? "data"
                          : first.error() == std::errc::operation_canceled ? "canceled"
                                                                           : "other";
        ::send(client, "hello", 5, 0);
        auto second = co_await s.async_read_some(buf, rt::this_reactor().now() + 2'000'000'000);
        if (second) out.append(":").append(buf, *second);
        co_await s.async_close();
        co_return out;
    }(l.fd.get(), c.get()));
    EXPECT_EQ(got, "canceled:hello");
}

TEST(tcp_stream, cancelling_an_in_flight_recv_completes_it_with_operation_canceled) {
    RINGLET_REACTOR_OR_SKIP(r);
    auto l = listen_ephemeral();
    unique_fd c = connect_to(l.port);
    unique_fd served(::accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(served);
    auto outcome = r->run_until_done([](int fd) -> rt::task<std::string> {
        char buf[16];
        struct canceller {
            int fd;
            rt::timer t{&canceller::fire, this};
            static void fire(rt::timer& t) {
                rt::cancel_fd_now(static_cast<canceller*>(t.context())->fd);
            }
        } k{fd};
        rt::this_reactor().timers().arm(k.t, rt::this_reactor().now() + 10'000'000);
        auto n = co_await rt::async_recv(fd, buf);
        co_return n ? "completed" : n.error().message();
    }(served.get()));
    EXPECT_EQ(outcome, std::make_error_code(std::errc::operation_canceled).message());
}

// With a tiny provided-buffer ring, many concurrent streams exhaust it; reads must still finish.
TEST(tcp_stream, exhausted_buffer_ring_falls_back_without_losing_data) {
    rt::reactor_options o;
    o.recv_buffers = 2;
    o.recv_buffer_size = 512;
    RINGLET_REACTOR_OR_SKIP(r, o);
    auto l = listen_ephemeral();
    constexpr int conns = 8;
    constexpr std::size_t per_conn = 200'000;
    std::vector<std::thread> clients;
    for (int i = 0; i < conns; ++i) {
        clients.emplace_back([&, i] {
            unique_fd c = connect_to(l.port);
            std::string data(per_conn, static_cast<char>('a' + i));
            ::send(c.get(), data.data(), data.size(), MSG_NOSIGNAL);
            ::shutdown(c.get(), SHUT_WR);
            char b[64];
            while (::recv(c.get(), b, sizeof b, 0) > 0) {
            }
        });
    }
    struct state {
        std::size_t bytes = 0, bad = 0;
        int done = 0;
    } st;
    auto reader = [](int fd, state* st) -> rt::task<void> {
        net::tcp_stream s(fd);
        char buf[1000];
        char expect = 0;
        for (;;) {
            auto n = co_await s.async_read_some(buf, rt::this_reactor().now() + 10'000'000'000);
            if (!n || *n == 0) break;
            if (!expect) expect = buf[0];
            for (std::size_t i = 0; i < *n; ++i) st->bad += buf[i] != expect;
            st->bytes += *n;
        }
        co_await s.async_close();
        ++st->done;
    };
    r->run_until_done([](int lfd, state* st, auto reader) -> rt::task<void> {
        net::acceptor acc(lfd);
        for (int i = 0; i < conns; ++i) {
            auto c = co_await acc.async_accept();
            if (c) rt::this_reactor().spawn(reader(*c, st));
        }
        acc.close();
        (void)co_await acc.async_accept();
        while (st->done < conns) co_await rt::sleep_for(1'000'000);
    }(l.fd.get(), &st, reader));
    for (auto& t : clients) t.join();
    EXPECT_EQ(st.bytes, conns * per_conn);
    EXPECT_EQ(st.bad, 0u);
    EXPECT_EQ(r->recv_buffers().outstanding(), 0u);
}

TEST(listener, a_taken_port_is_reported_as_address_in_use) {
    auto l = listen_ephemeral();
    ASSERT_TRUE(l.fd);
    std::string addr = "127.0.0.1:";
    addr.append(std::to_string(l.port));
    auto ep = net::endpoint::parse(addr);
    auto again = net::open_listeners(*ep, 2);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::address_in_use);
}

TEST(endpoint, parses_and_prints_addresses) {
    struct row {
        const char* in;
        const char* out; // nullptr = invalid
    } rows[] = {
        {"127.0.0.1:8080", "127.0.0.1:8080"},
        {"[::1]:443", "[::1]:443"},
        {"localhost:80", "127.0.0.1:80"},
        {":8080", "0.0.0.0:8080"},
        {"*:9", "0.0.0.0:9"},
        {"127.0.0.1", nullptr},
        {"127.0.0.1:99999", nullptr},
        {"example.com:80", nullptr},
        {"[::1:80", nullptr},
        {"1.2.3.4:8x", nullptr},
    };
    for (const row& r : rows) {
        auto e = net::endpoint::parse(r.in);
        if (!r.out) {
            EXPECT_FALSE(e) << r.in;
        } else {
            ASSERT_TRUE(e) << r.in;
            EXPECT_EQ(e->to_string(), r.out);
        }
    }
}

TEST(tcp_stream, a_peer_that_stops_reading_ends_the_write_with_timed_out) {
    RINGLET_REACTOR_OR_SKIP(r);
    auto l = listen_ephemeral();
    unique_fd c = connect_to(l.port); // never reads
    auto t0 = rt::reactor::clock_now();
    auto res = r->run_until_done([](int lfd) -> rt::task<result<void>> {
        auto conn = co_await accept_one(lfd);
        net::tcp_stream s(*conn);
        std::string big(32 << 20, 'z'); // far more than both socket buffers hold
        iovec iov{big.data(), big.size()};
        auto w = co_await s.async_write_all(std::span(&iov, 1), 100'000'000);
        co_await s.async_close();
        co_return w;
    }(l.fd.get()));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), std::errc::timed_out);
    EXPECT_GE(rt::reactor::clock_now() - t0, 100'000'000);
}

TEST(tcp_stream, an_interrupt_with_no_reader_ends_the_next_read_that_would_wait) {
    RINGLET_REACTOR_OR_SKIP(r);
    auto l = listen_ephemeral();
    unique_fd c = connect_to(l.port);
    auto got = r->run_until_done([](int lfd, int client) -> rt::task<std::string> {
        auto conn = co_await accept_one(lfd);
        net::tcp_stream s(*conn);
        char buf[64];
        ::send(client, "abc", 3, 0);
        auto first = co_await s.async_read_some(buf, rt::this_reactor().now() + 2'000'000'000);
        std::string out = first ? std::string(buf, *first) : "error";
        s.interrupt(); // nobody is reading now
        ::send(client, "def", 3, 0);
        co_await rt::sleep_for(20'000'000); // "def" is buffered by now
        auto second = co_await s.async_read_some(buf, rt::this_reactor().now() + 2'000'000'000);
        out += second ? ":" + std::string(buf, *second) : ":error";
        auto third = co_await s.async_read_some(buf, rt::this_reactor().now() + 2'000'000'000);
        out += third ? ":data"
                     : (third.error() == std::errc::operation_canceled ? ":canceled" : ":other");
        co_await s.async_close();
        co_return out;
    }(l.fd.get(), c.get()));
    EXPECT_EQ(got, "abc:def:canceled"); // buffered data first, then the interruption
}
