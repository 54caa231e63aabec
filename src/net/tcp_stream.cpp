#include "ringlet/net/tcp_stream.hpp"

#include "ringlet/runtime/ops.hpp"
#include "ringlet/runtime/reactor.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cassert>
#include <climits>
#include <cstring>

namespace ringlet::net {

namespace {
constexpr unsigned tag_multishot = 0;
constexpr unsigned tag_oneshot = 1;

struct close_awaiter {
    std::coroutine_handle<>& slot;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { slot = h; }
    void await_resume() const noexcept {}
};
} // namespace

tcp_stream::tcp_stream(int fd)
    : fd_(fd), deadline_(&tcp_stream::on_deadline, this),
      write_deadline_(&tcp_stream::on_write_deadline, this) {
    on_cqe = &tcp_stream::on_complete;
}

tcp_stream::~tcp_stream() {
    // Normal path: async_close() ran. Anything else is a programming error; still don't leak.
    assert(mode_ == recv_mode::idle);
    drop_queued();
    if (fd_ >= 0) ::close(fd_);
}

std::size_t tcp_stream::copy_out(std::span<char> dst) noexcept {
    auto& ring = rt::this_reactor().recv_buffers();
    std::size_t copied = 0;
    while (copied < dst.size() && head_ < queue_.size()) {
        chunk& c = queue_[head_];
        const char* src = c.id == spill_id ? spill_.get() : ring.data(c.id);
        std::size_t n = std::min<std::size_t>(c.len - c.off, dst.size() - copied);
        std::memcpy(dst.data() + copied, src + c.off, n);
        copied += n;
        c.off = static_cast<std::uint16_t>(c.off + n);
        if (c.off == c.len) {
            if (c.id == spill_id) {
                spill_.reset();
            } else {
                ring.recycle(c.id);
            }
            ++head_;
        }
    }
    if (head_ == queue_.size()) {
        queue_.clear();
        head_ = 0;
    }
    queued_bytes_ -= copied;
    return copied;
}

void tcp_stream::drop_queued() noexcept {
    if (head_ == queue_.size()) return;
    auto& ring = rt::this_reactor().recv_buffers();
    for (std::size_t i = head_; i < queue_.size(); ++i) {
        if (queue_[i].id != spill_id) ring.recycle(queue_[i].id);
    }
    spill_.reset();
    queue_.clear();
    head_ = 0;
    queued_bytes_ = 0;
}

int tcp_stream::take_for(std::span<char> dst) noexcept {
    // An empty dst is async_wait_readable: report what is queued, consume nothing.
    if (dst.empty()) return static_cast<int>(std::min<std::size_t>(queued_bytes_, INT_MAX));
    return static_cast<int>(copy_out(dst));
}

bool tcp_stream::try_read(std::span<char> dst) noexcept {
    if (head_ < queue_.size()) {
        result_ = take_for(dst);
        return true;
    }
    if (error_) {
        result_ = -error_;
        return true;
    }
    if (eof_) {
        result_ = 0;
        return true;
    }
    if (interrupted_) {
        interrupted_ = false;
        result_ = -ECANCELED;
        return true;
    }
    return false;
}

result<std::size_t> tcp_stream::read_result() noexcept {
    if (result_ < 0) return fail_errno(-result_);
    return static_cast<std::size_t>(result_);
}

void tcp_stream::wait_read(std::coroutine_handle<> h, std::span<char> dst, std::int64_t deadline) {
    waiter_ = h;
    dst_ = dst;
    auto& timers = rt::this_reactor().timers();
    if (deadline == rt::timer::never) {
        timers.disarm(deadline_);
    } else {
        timers.arm(deadline_, deadline);
    }
    if (mode_ == recv_mode::idle) start_recv();
}

void tcp_stream::start_recv() {
    auto& r = rt::this_reactor();
    io_uring_sqe* sqe = r.get_sqe();
    if (ring_dry_) {
        // The shared ring is empty: read straight into the caller's buffer this once (or, for a
        // wait without one, into a spill buffer that is queued like a ring buffer).
        ring_dry_ = false;
        if (dst_.empty()) {
            spill_ = std::make_unique_for_overwrite<char[]>(spill_size);
            spill_recv_ = true;
            io_uring_prep_recv(sqe, fd_, spill_.get(), spill_size, 0);
        } else {
            io_uring_prep_recv(sqe, fd_, dst_.data(), dst_.size(), 0);
        }
        io_uring_sqe_set_data64(sqe, rt::encode(this, tag_oneshot));
        mode_ = recv_mode::oneshot;
        return;
    }
    io_uring_prep_recv_multishot(sqe, fd_, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = r.recv_buffers().group();
    io_uring_sqe_set_data64(sqe, rt::encode(this, tag_multishot));
    mode_ = recv_mode::multishot;
}

void tcp_stream::finish_read(int res) {
    result_ = res;
    rt::this_reactor().timers().disarm(deadline_);
    std::exchange(waiter_, {}).resume(); // last: the coroutine may finish and free us
}

void tcp_stream::abort_wait(int err) {
    if (!waiter_) return;
    if (mode_ == recv_mode::oneshot) {
        // The kernel is writing into the caller's buffer: cancel and resume on its CQE.
        abort_reason_ = err;
        rt::cancel_now(rt::encode(this, tag_oneshot));
        return;
    }
    finish_read(-err);
}

void tcp_stream::interrupt() {
    // No reader right now (e.g. a TLS stream flushing before it reads): the next read that
    // would wait ends instead, so the interruption is not lost.
    if (!waiter_) {
        interrupted_ = true;
        return;
    }
    abort_wait(ECANCELED);
}

void tcp_stream::abort() {
    aborted_ = true;
    if (!error_) error_ = ECANCELED;
    // A cancelled MSG_WAITALL send reports the bytes it got out, so the writer loop would just
    // send the rest: aborted_ stops it there.
    rt::cancel_fd_now(fd_);
    abort_wait(ECANCELED);
}

void tcp_stream::on_deadline(rt::timer& t) {
    static_cast<tcp_stream*>(t.context())->abort_wait(ETIMEDOUT);
}

void tcp_stream::on_write_deadline(rt::timer& t) {
    auto* self = static_cast<tcp_stream*>(t.context());
    if (!self->write_op_) return; // armed lazily; the send it guarded is long done
    self->write_timed_out_ = true;
    rt::cancel_now(self->write_op_);
}

void tcp_stream::on_complete(rt::completion* c, int res, std::uint32_t flags, unsigned tag) {
    auto* self = static_cast<tcp_stream*>(c);
    auto& r = rt::this_reactor();

    if (tag == tag_oneshot) {
        self->mode_ = recv_mode::idle;
        int reason = std::exchange(self->abort_reason_, 0);
        if (std::exchange(self->spill_recv_, false)) {
            // This recv went into the spill buffer: queue what it got, like a ring buffer.
            if (res > 0 && !self->closing_) {
                self->queue_.push_back({spill_id, 0, static_cast<std::uint32_t>(res)});
                self->queued_bytes_ += static_cast<std::size_t>(res);
            } else {
                self->spill_.reset();
            }
        }
        if (self->closing_) {
            if (self->close_waiter_) std::exchange(self->close_waiter_, {}).resume();
            return;
        }
        if (res == 0) self->eof_ = true;
        if (res < 0 && res != -ECANCELED) self->error_ = -res;
        if (res == -ECANCELED && reason) res = -reason;
        if (self->waiter_) self->finish_read(res);
        return;
    }

    if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
        auto id = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
        r.recv_buffers().note_taken();
        if (self->closing_) {
            r.recv_buffers().recycle(id);
        } else {
            self->queue_.push_back({id, 0, static_cast<std::uint32_t>(res)});
            self->queued_bytes_ += static_cast<std::size_t>(res);
        }
    } else if (res == 0) {
        self->eof_ = true;
    } else if (res == -ENOBUFS) {
        self->ring_dry_ = true;
    } else if (res < 0 && res != -ECANCELED) {
        self->error_ = -res;
    }
    if (!(flags & IORING_CQE_F_MORE)) {
        self->mode_ = recv_mode::idle;
        self->paused_ = false;
    }

    if (self->closing_) {
        if (self->mode_ == recv_mode::idle && self->close_waiter_) {
            std::exchange(self->close_waiter_, {}).resume();
        }
        return;
    }
    if (self->mode_ == recv_mode::multishot && !self->paused_ &&
        (self->queued_bytes_ > max_queued_bytes ||
         self->queue_.size() - self->head_ > max_queued_chunks)) {
        // The reader is busy (e.g. sending a large file): stop taking shared buffers.
        self->paused_ = true;
        rt::cancel_now(rt::encode(self, tag_multishot));
    }
    if (!self->waiter_) return;
    if (self->head_ < self->queue_.size()) {
        self->finish_read(self->take_for(self->dst_));
    } else if (self->error_) {
        self->finish_read(-self->error_);
    } else if (self->eof_) {
        self->finish_read(0);
    } else if (self->mode_ == recv_mode::idle) {
        self->start_recv();
    }
}

result<std::size_t> tcp_stream::try_send(std::span<const char> bytes) noexcept {
    if (aborted_) return fail_errno(ECANCELED);
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return std::size_t{0};
    return fail_errno(errno);
}

rt::task<result<void>> tcp_stream::async_write_all(std::span<iovec> iov, std::int64_t timeout_ns) {
    auto& r = rt::this_reactor();
    msghdr msg{};
    write_timed_out_ = false;
    while (!iov.empty()) {
        if (aborted_) co_return fail_errno(ECANCELED);
        // A cancelled MSG_WAITALL send may report partial progress instead of an error.
        if (write_timed_out_) co_return fail_errno(ETIMEDOUT);
        if (iov.front().iov_len == 0) {
            iov = iov.subspan(1);
            continue;
        }
        msg.msg_iov = iov.data();
        msg.msg_iovlen = iov.size();
        // One buffer goes out as a plain send, which the kernel handles more cheaply.
        auto op = rt::uring_op([fd = fd_, m = &msg](io_uring_sqe* sqe) {
            constexpr int flags = MSG_NOSIGNAL | MSG_WAITALL;
            if (m->msg_iovlen == 1) {
                io_uring_prep_send(sqe, fd, m->msg_iov[0].iov_base, m->msg_iov[0].iov_len, flags);
            } else {
                io_uring_prep_sendmsg(sqe, fd, m, flags);
            }
        });
        if (timeout_ns > 0) r.timers().arm(write_deadline_, r.now() + timeout_ns);
        write_op_ = op.user_data();
        auto sent = co_await op;
        write_op_ = 0;
        if (!sent) co_return fail_errno(write_timed_out_ ? ETIMEDOUT : sent.error().value());
        auto n = static_cast<std::size_t>(*sent);
        if (n == 0) co_return fail_errno(EPIPE);
        while (n > 0 && !iov.empty()) {
            if (n >= iov.front().iov_len) {
                n -= iov.front().iov_len;
                iov = iov.subspan(1);
            } else {
                iov.front().iov_base = static_cast<char*>(iov.front().iov_base) + n;
                iov.front().iov_len -= n;
                n = 0;
            }
        }
    }
    co_return result<void>{};
}

rt::task<void> tcp_stream::async_shutdown_write() {
    ::shutdown(fd_, SHUT_WR);
    co_return;
}

rt::task<void> tcp_stream::async_close() {
    closing_ = true;
    rt::this_reactor().timers().disarm(deadline_);
    rt::this_reactor().timers().disarm(write_deadline_);
    if (mode_ == recv_mode::multishot) rt::cancel_now(rt::encode(this, tag_multishot));
    if (mode_ == recv_mode::oneshot) rt::cancel_now(rt::encode(this, tag_oneshot));
    if (mode_ != recv_mode::idle) co_await close_awaiter{close_waiter_};
    drop_queued();
    int fd = std::exchange(fd_, -1);
    (void)co_await rt::async_close(fd);
}

} // namespace ringlet::net
