#include "ringlet/net/connect.hpp"

#include "ringlet/runtime/ops.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>

namespace ringlet::net {

namespace {

endpoint from_sockaddr(const sockaddr* sa, socklen_t len) {
    endpoint e;
    std::memcpy(&e.addr, sa, std::min<std::size_t>(len, sizeof e.addr));
    e.len = len;
    return e;
}

bool same(const endpoint& a, const endpoint& b) {
    return a.len == b.len && std::memcmp(&a.addr, &b.addr, a.len) == 0;
}

// An IPv4 or IPv6 literal (IPv6 optionally in brackets), or nothing.
bool numeric(std::string_view host, std::uint16_t port, endpoint& out) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    std::string h(host);
    sockaddr_in a4{};
    if (inet_pton(AF_INET, h.c_str(), &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons(port);
        out = from_sockaddr(reinterpret_cast<sockaddr*>(&a4), sizeof a4);
        return true;
    }
    sockaddr_in6 a6{};
    if (inet_pton(AF_INET6, h.c_str(), &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons(port);
        out = from_sockaddr(reinterpret_cast<sockaddr*>(&a6), sizeof a6);
        return true;
    }
    return false;
}

struct addrinfo_deleter {
    void operator()(addrinfo* a) const noexcept { freeaddrinfo(a); }
};

// What a resolver thread hands back. Shared: whichever of the thread and the waiting coroutine
// lets go last frees it (a timed-out wait leaves the thread running).
struct lookup {
    unique_fd bell; // eventfd, written once the answer is in
    std::string host;
    std::uint16_t port = 0;
    std::string error;
    result<std::vector<endpoint>> answer = fail_errno(EHOSTUNREACH);
    std::atomic<bool> done{false};
};

void run_lookup(const std::shared_ptr<lookup>& l) {
    l->answer = resolve(l->host, l->port, l->error);
    l->done.store(true, std::memory_order_release);
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(l->bell.get(), &one, sizeof one);
}

} // namespace

namespace {

std::string lowered(std::string_view host) {
    std::string h(host);
    for (char& c : h) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return h;
}

// What resolve() answers without getaddrinfo: an invalid name, a literal address, localhost.
// Nothing for a name that needs the resolver. `lower` is lowered(host).
std::optional<result<std::vector<endpoint>>> answer_without_dns(std::string_view host,
                                                                std::string_view lower,
                                                                std::uint16_t port,
                                                                std::string& error) {
    if (host.empty() || host.find('\0') != std::string_view::npos) {
        error = "resolve: empty or invalid host name";
        return fail_errno(EINVAL);
    }
    endpoint e;
    if (numeric(host, port, e)) return std::vector<endpoint>{e};
    if (lower != "localhost" && lower != "localhost.") return std::nullopt;
    std::vector<endpoint> out(2);
    numeric("127.0.0.1", port, out[0]);
    numeric("::1", port, out[1]);
    return out;
}

} // namespace

result<std::vector<endpoint>> resolve(std::string_view host, std::uint16_t port,
                                      std::string& error) {
    const std::string h = lowered(host);
    if (auto local = answer_without_dns(host, h, port, error)) return std::move(*local);
    std::vector<endpoint> out;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    addrinfo* raw = nullptr;
    std::string service = std::to_string(port);
    int rc = getaddrinfo(h.c_str(), service.c_str(), &hints, &raw);
    std::unique_ptr<addrinfo, addrinfo_deleter> list(raw);
    if (rc != 0) {
        error = "resolve " + std::string(host) + ": " +
                (rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc));
        return fail_errno(EHOSTUNREACH);
    }
    for (addrinfo* a = list.get(); a; a = a->ai_next) {
        if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
        endpoint found = from_sockaddr(a->ai_addr, a->ai_addrlen);
        bool dup = false;
        for (const endpoint& o : out) dup = dup || same(o, found);
        if (!dup) out.push_back(found);
    }
    if (out.empty()) {
        error = "resolve " + std::string(host) + ": no IPv4 or IPv6 address";
        return fail_errno(EHOSTUNREACH);
    }
    return out;
}

rt::task<result<std::vector<endpoint>>> async_resolve(std::string_view host, std::uint16_t port,
                                                      std::string& error, std::int64_t timeout_ns) {
    // What needs no DNS is answered here, without a thread.
    if (auto local = answer_without_dns(host, lowered(host), port, error)) {
        co_return std::move(*local);
    }
    auto l = std::make_shared<lookup>();
    l->bell.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    l->host = std::string(host);
    l->port = port;
    bool started = false;
    if (l->bell) {
        try {
            std::thread([l] { run_lookup(l); }).detach();
            started = true;
        } catch (const std::system_error&) {
            // No thread to be had (RLIMIT_NPROC, memory): resolve here rather than fail.
        }
    }
    if (!started) co_return resolve(host, port, error);
    auto ready = co_await rt::async_poll(l->bell.get(), POLLIN, timeout_ns);
    if (!ready || !l->done.load(std::memory_order_acquire)) {
        error = "resolve " + l->host + ": no answer within " +
                std::to_string(timeout_ns / 1'000'000) + " ms";
        co_return fail_errno(ETIMEDOUT);
    }
    error = std::move(l->error);
    co_return std::move(l->answer);
}

rt::task<result<unique_fd>> async_connect(const endpoint& to, std::int64_t timeout_ns) {
    unique_fd fd(::socket(to.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) co_return fail_errno(errno);
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    endpoint target = to; // in the frame until the connect completes
    auto r = co_await rt::async_connect(fd.get(), reinterpret_cast<const sockaddr*>(&target.addr),
                                        target.len, timeout_ns);
    if (!r) co_return unexpected{r.error()};
    co_return std::move(fd);
}

} // namespace ringlet::net
