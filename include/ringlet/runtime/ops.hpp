// One-shot io_uring operations as awaitables: `co_await rt::async_send(fd, buf, deadline)`.
//
// Each call returns an awaiter that lives in the awaiting coroutine's frame. await_suspend takes
// an SQE from the current reactor, fills it and records the coroutine; the SQE goes to the kernel
// with the loop's next submit. The CQE resumes the coroutine; await_resume turns `res` into a
// result (negative errno -> error_code).
//
// Deadlines: ops that take `timeout_ns` (> 0) are linked to an IORING_OP_LINK_TIMEOUT; if it
// fires first the op ends with std::errc::timed_out. The coroutine resumes only after both CQEs
// (the op's and the timer's) have arrived, so nothing in the frame is touched afterwards.
//
// Buffers, paths, statx/open_how structs passed by pointer must stay valid until the co_await
// returns (keep them in the frame). To stop an op early, cancel it (async_cancel_fd or
// cancel_fd_now); it then completes with operation_canceled and the coroutine unwinds normally.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/runtime/completion.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/runtime/timer_queue.hpp"

#include <liburing.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <coroutine>
#include <cstdint>
#include <span>

namespace ringlet::rt {

// The awaiter behind every function below. `Prep` fills the SQE: void(io_uring_sqe*).
template <class Prep>
class uring_op : completion {
public:
    uring_op(Prep prep, std::int64_t timeout_ns = 0) noexcept
        : prep_(prep), timeout_ns_(timeout_ns) {
        on_cqe = &uring_op::on_complete;
    }
    uring_op(const uring_op&) = delete;
    uring_op& operator=(const uring_op&) = delete;

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        reactor& r = this_reactor();
        waiter_ = h;
        io_uring_sqe* sqe = r.get_sqe(timeout_ns_ > 0 ? 2 : 1);
        prep_(sqe);
        io_uring_sqe_set_data64(sqe, encode(this, 0));
        pending_ = 1;
        if (timeout_ns_ > 0) {
            sqe->flags |= IOSQE_IO_LINK;
            ts_.tv_sec = timeout_ns_ / 1'000'000'000;
            ts_.tv_nsec = timeout_ns_ % 1'000'000'000;
            io_uring_sqe* t = r.get_sqe();
            io_uring_prep_link_timeout(t, &ts_, 0);
            io_uring_sqe_set_data64(t, encode(this, 1));
            pending_ = 2;
        }
    }
    // The raw CQE result: >= 0 on success, or an error.
    result<int> await_resume() const noexcept {
        if (res_ >= 0) return res_;
        if (res_ == -ECANCELED && timer_fired_) return fail_errno(ETIMEDOUT);
        return fail_errno(-res_);
    }
    std::uint32_t cqe_flags() const noexcept { return flags_; }
    // What cancel_now() needs to cancel this operation while it is in flight.
    std::uint64_t user_data() noexcept { return encode(this, 0); }

private:
    static void on_complete(completion* c, int res, std::uint32_t flags, unsigned tag) {
        auto* self = static_cast<uring_op*>(c);
        if (tag == 0) {
            self->res_ = res;
            self->flags_ = flags;
        } else if (res == -ETIME) {
            self->timer_fired_ = true;
        }
        if (--self->pending_ == 0) self->waiter_.resume();
    }

    Prep prep_;
    std::int64_t timeout_ns_;
    std::coroutine_handle<> waiter_;
    __kernel_timespec ts_{};
    int res_ = 0;
    std::uint32_t flags_ = 0;
    std::uint8_t pending_ = 0;
    bool timer_fired_ = false;
};

// --- sockets -------------------------------------------------------------------------------

// Receives up to buf.size() bytes; 0 = the peer closed.
inline auto async_recv(int fd, std::span<char> buf, std::int64_t timeout_ns = 0) {
    return uring_op([=](io_uring_sqe* s) { io_uring_prep_recv(s, fd, buf.data(), buf.size(), 0); },
                    timeout_ns);
}

// Sends all of buf (MSG_WAITALL: the kernel retries short sends) without SIGPIPE.
inline auto async_send(int fd, std::span<const char> buf, std::int64_t timeout_ns = 0) {
    return uring_op(
        [=](io_uring_sqe* s) {
            io_uring_prep_send(s, fd, buf.data(), buf.size(), MSG_NOSIGNAL | MSG_WAITALL);
        },
        timeout_ns);
}

// Sends the iovecs described by `msg` (which must outlive the await).
inline auto async_sendmsg(int fd, const msghdr* msg, std::int64_t timeout_ns = 0) {
    return uring_op(
        [=](io_uring_sqe* s) { io_uring_prep_sendmsg(s, fd, msg, MSG_NOSIGNAL | MSG_WAITALL); },
        timeout_ns);
}

// Connects `fd` to `addr` (IORING_OP_CONNECT; works on a non-blocking socket: the kernel waits
// for the handshake). Returns 0 once connected. `addr` must stay valid until the co_await returns.
inline auto async_connect(int fd, const sockaddr* addr, socklen_t len,
                          std::int64_t timeout_ns = 0) {
    return uring_op([=](io_uring_sqe* s) { io_uring_prep_connect(s, fd, addr, len); }, timeout_ns);
}

// Completes when `fd` has an event in `mask` (POLLIN, ...); returns the events.
inline auto async_poll(int fd, unsigned mask, std::int64_t timeout_ns = 0) {
    return uring_op([=](io_uring_sqe* s) { io_uring_prep_poll_add(s, fd, mask); }, timeout_ns);
}

// --- files ---------------------------------------------------------------------------------

// openat2(2): returns the new fd. RESOLVE_BENEATH in `how` keeps lookups inside `dirfd`.
inline auto async_openat2(int dirfd, const char* path, open_how* how) {
    return uring_op([=](io_uring_sqe* s) { io_uring_prep_openat2(s, dirfd, path, how); });
}

inline auto async_statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* out) {
    return uring_op(
        [=](io_uring_sqe* s) { io_uring_prep_statx(s, dirfd, path, flags, mask, out); });
}

// pread(2): returns bytes read (0 at end of file).
inline auto async_read(int fd, std::span<char> buf, std::uint64_t offset) {
    return uring_op(
        [=](io_uring_sqe* s) { io_uring_prep_read(s, fd, buf.data(), buf.size(), offset); });
}

inline auto async_close(int fd) {
    return uring_op([=](io_uring_sqe* s) { io_uring_prep_close(s, fd); });
}

// --- timing and cancellation ---------------------------------------------------------------

// Completes after `ns` nanoseconds (an IORING_OP_TIMEOUT; result timed_out is the normal end).
class sleep_awaiter {
public:
    explicit sleep_awaiter(std::int64_t ns) noexcept : ns_(ns) {}
    bool await_ready() const noexcept { return ns_ <= 0; }
    void await_suspend(std::coroutine_handle<> h) {
        waiter_ = h;
        timer_.set_callback(&sleep_awaiter::on_fire, this);
        reactor& r = this_reactor();
        r.timers().arm(timer_, reactor::clock_now() + ns_);
    }
    void await_resume() const noexcept {}

private:
    static void on_fire(timer& t) { static_cast<sleep_awaiter*>(t.context())->waiter_.resume(); }
    timer timer_;
    std::int64_t ns_;
    std::coroutine_handle<> waiter_;
};
inline sleep_awaiter sleep_for(std::int64_t ns) {
    return sleep_awaiter(ns);
}

// Cancels every in-flight operation on `fd` (IORING_ASYNC_CANCEL_FD | ALL); returns how many.
inline auto async_cancel_fd(int fd) {
    return uring_op(
        [=](io_uring_sqe* s) { io_uring_prep_cancel_fd(s, fd, IORING_ASYNC_CANCEL_ALL); });
}

// Queues the same cancellation without waiting for its result (safe from non-coroutine code).
void cancel_fd_now(int fd);
// Queues a cancellation of the operation whose user_data is `user_data`.
void cancel_now(std::uint64_t user_data);
// Queues a close(2) of `fd` through the ring, nobody waiting.
void close_now(int fd);

} // namespace ringlet::rt
