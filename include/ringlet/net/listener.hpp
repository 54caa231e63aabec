// Listening sockets and the multishot acceptor that drains one of them.
//
// Each reactor accepts from its own SO_REUSEPORT socket bound to the same address, so the kernel
// spreads connections across cores with no shared accept queue. Sockets are opened on the
// control thread at startup so a port that is taken is a startup error, not a reactor's problem.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/base/unique_fd.hpp"
#include "ringlet/net/endpoint.hpp"
#include "ringlet/runtime/completion.hpp"
#include "ringlet/runtime/timer_queue.hpp"

#include <coroutine>
#include <vector>

namespace ringlet::net {

// Opens `count` listening sockets on `where` with SO_REUSEPORT (TCP_NODELAY set, inherited by
// accepted sockets). Port 0 picks one ephemeral port shared by all. Fails with
// address_in_use if anything already holds the address, even another SO_REUSEPORT group.
result<std::vector<unique_fd>> open_listeners(const endpoint& where, unsigned count,
                                              int backlog = 4096);

// Multishot accept on a listening socket it does not own. Reactor thread only.
//
//   acceptor a(fd);
//   while (auto conn = co_await a.async_accept()) spawn(serve(*conn));
//   // returns operation_canceled after close(), once the kernel has let go of the request
class acceptor : rt::completion {
public:
    explicit acceptor(int listen_fd);
    acceptor(const acceptor&) = delete;
    acceptor& operator=(const acceptor&) = delete;
    // REQUIRES: close() was called and async_accept() has returned operation_canceled.
    ~acceptor();

    class accept_awaiter {
    public:
        explicit accept_awaiter(acceptor& a) noexcept : a_(a) {}
        bool await_ready() const noexcept { return a_.ready(); }
        void await_suspend(std::coroutine_handle<> h) noexcept { a_.wait(h); }
        result<int> await_resume() noexcept { return a_.take(); }

    private:
        acceptor& a_;
    };
    // The next accepted socket (the caller owns it), or an error.
    accept_awaiter async_accept() noexcept { return accept_awaiter(*this); }

    // Stops accepting; pending and later async_accept() calls end with operation_canceled.
    void close();

private:
    static void on_complete(rt::completion* c, int res, std::uint32_t flags, unsigned tag);
    static void on_retry(rt::timer& t);
    void arm();
    bool ready() const noexcept;
    void wait(std::coroutine_handle<> h);
    result<int> take();

    rt::timer retry_; // re-arms after EMFILE/ENFILE without spinning
    int fd_;
    bool armed_ = false, closing_ = false;
    std::vector<int> queue_;
    std::size_t head_ = 0;
    std::coroutine_handle<> waiter_;
    std::int64_t last_warning_ = -1'000'000'000'000;
};

} // namespace ringlet::net
