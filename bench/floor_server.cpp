// ringlet-floor: the least a server can do per keep-alive request on this machine.
//
// Every read that returns bytes is answered with one canned HTTP/1.1 response of a fixed size
// (no parsing, no files, no TLS, no logging). What it costs the server per request is the
// kernel's share (TCP over loopback, wake-ups, the syscalls or io_uring work) plus a few hundred
// nanoseconds of user code: a floor under any real server's CPU per request for the same traffic.
// bench/floor compares it with nginx and ringlet in the same run, which tells how much of a
// server's cost is left for user code to win back.
//
//   ringlet-floor PORT [--threads N] [--size BYTES] [--epoll]
//
// --size is the whole response on the wire (head + body); pick the size of the TLS response you
// compare with. Two engines: ringlet's own runtime (io_uring, multishot recv, one reactor per
// thread), and --epoll, a plain level-triggered epoll loop with read() and write(), the pattern
// nginx uses. Loopback only; it serves until killed.
#include "ringlet/net/endpoint.hpp"
#include "ringlet/net/listener.hpp"
#include "ringlet/net/tcp_stream.hpp"
#include "ringlet/runtime/reactor.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace ringlet;

std::string canned_response(std::size_t size) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                       "Content-Length: ";
    // The body fills what the head leaves; the length's own digits count too.
    std::size_t fixed = head.size() + 4; // "\r\n\r\n"
    std::size_t body = size > fixed + 1 ? size - fixed - 1 : 0;
    while (fixed + std::to_string(body).size() + body > size && body > 0) --body;
    head += std::to_string(body) + "\r\n\r\n";
    return head + std::string(body, 'x');
}

rt::task<void> serve_uring(int fd, const std::string& resp) {
    net::tcp_stream s(fd);
    char buf[4096];
    for (;;) {
        auto n = co_await s.async_read_some(buf, rt::timer::never);
        if (!n || *n == 0) break;
        iovec iov{const_cast<char*>(resp.data()), resp.size()};
        if (!co_await s.async_write_all(std::span(&iov, 1), 10'000'000'000)) break;
    }
    co_await s.async_close();
}

rt::task<void> accept_uring(int listen_fd, const std::string& resp) {
    net::acceptor acc(listen_fd);
    while (auto fd = co_await acc.async_accept()) rt::this_reactor().spawn(serve_uring(*fd, resp));
    acc.close();
}

void run_uring(unsigned index, int listen_fd, const std::string& resp) {
    auto r = rt::reactor::create(index);
    if (!r) {
        std::fprintf(stderr, "ringlet-floor: io_uring: %s\n", r.error().message().c_str());
        std::exit(1);
    }
    (*r)->spawn(accept_uring(listen_fd, resp));
    (*r)->run();
}

void run_epoll(int listen_fd, const std::string& resp) {
    ::fcntl(listen_fd, F_SETFL, ::fcntl(listen_fd, F_GETFL) | O_NONBLOCK); // accept until EAGAIN
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev);
    std::vector<epoll_event> events(512);
    char buf[4096];
    for (;;) {
        int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == listen_fd) {
                int c;
                while ((c = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
                       0) {
                    epoll_event ce{};
                    ce.events = EPOLLIN;
                    ce.data.fd = c;
                    ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            ssize_t got = ::read(fd, buf, sizeof buf);
            if (got > 0 && ::write(fd, resp.data(), resp.size()) == ssize_t(resp.size())) continue;
            if (got < 0 && errno == EAGAIN) continue;
            ::close(fd); // end, error, or a short write (never at these sizes)
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: ringlet-floor PORT [--threads N] [--size BYTES] [--epoll]\n");
        return 2;
    }
    unsigned threads = 2;
    std::size_t size = 1200;
    bool epoll = false;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--threads" && i + 1 < argc)
            threads = static_cast<unsigned>(std::atoi(argv[++i]));
        else if (a == "--size" && i + 1 < argc)
            size = std::strtoul(argv[++i], nullptr, 10);
        else if (a == "--epoll")
            epoll = true;
        else {
            std::fprintf(stderr, "ringlet-floor: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    auto where = net::endpoint::parse(std::string("127.0.0.1:") + argv[1]);
    if (!where || threads == 0 || size < 64) {
        std::fprintf(stderr, "ringlet-floor: bad port, thread count or size\n");
        return 2;
    }
    auto fds = net::open_listeners(*where, threads);
    if (!fds) {
        std::fprintf(stderr, "ringlet-floor: listen: %s\n", fds.error().message().c_str());
        return 1;
    }
    const std::string resp = canned_response(size);
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < threads; ++i) {
        int fd = (*fds)[i].get();
        pool.emplace_back([=, &resp] {
            if (epoll)
                run_epoll(fd, resp);
            else
                run_uring(i, fd, resp);
        });
    }
    std::printf("ringlet-floor: %u %s thread(s) on 127.0.0.1:%s, %zu-byte responses\n", threads,
                epoll ? "epoll" : "io_uring", argv[1], resp.size());
    std::fflush(stdout);
    for (auto& t : pool) t.join();
}
