#include "ringlet/net/listener.hpp"

#include "ringlet/base/log.hpp"
#include "ringlet/runtime/ops.hpp"
#include "ringlet/runtime/reactor.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ringlet::net {

namespace {

result<unique_fd> open_one(const endpoint& where, bool reuse_port, int backlog) {
    unique_fd fd(::socket(where.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fail_errno(errno);
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        return fail_errno(errno);
    }
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (where.addr.ss_family == AF_INET6) {
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&where.addr), where.len) != 0) {
        return fail_errno(errno);
    }
    if (backlog > 0 && ::listen(fd.get(), backlog) != 0) return fail_errno(errno);
    return fd;
}

} // namespace

result<std::vector<unique_fd>> open_listeners(const endpoint& where, unsigned count, int backlog) {
    endpoint target = where;
    if (target.port() != 0) {
        // A socket without SO_REUSEPORT cannot share the port with anyone, so this bind fails
        // if any process (even another ringlet's reuseport group) already listens there.
        auto probe = open_one(target, false, 0);
        if (!probe) return unexpected{probe.error()};
    }
    std::vector<unique_fd> out;
    for (unsigned i = 0; i < count; ++i) {
        auto fd = open_one(target, true, backlog);
        if (!fd) return unexpected{fd.error()};
        if (i == 0) target = endpoint::of_socket(fd->get()); // resolves port 0 once for all
        out.push_back(std::move(*fd));
    }
    return out;
}

acceptor::acceptor(int listen_fd) : retry_(&acceptor::on_retry, this), fd_(listen_fd) {
    on_cqe = &acceptor::on_complete;
}

acceptor::~acceptor() {
    for (std::size_t i = head_; i < queue_.size(); ++i) ::close(queue_[i]);
}

void acceptor::arm() {
    io_uring_sqe* sqe = rt::this_reactor().get_sqe();
    io_uring_prep_multishot_accept(sqe, fd_, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, rt::encode(this));
    armed_ = true;
}

bool acceptor::ready() const noexcept {
    return head_ < queue_.size() || (closing_ && !armed_);
}

void acceptor::wait(std::coroutine_handle<> h) {
    waiter_ = h;
    if (!armed_ && !closing_ && !retry_.armed()) arm();
}

result<int> acceptor::take() {
    if (head_ < queue_.size()) {
        int fd = queue_[head_++];
        if (head_ == queue_.size()) {
            queue_.clear();
            head_ = 0;
        }
        return fd;
    }
    return fail_errno(ECANCELED);
}

void acceptor::close() {
    if (closing_) return;
    closing_ = true;
    rt::this_reactor().timers().disarm(retry_);
    if (armed_) {
        rt::cancel_now(rt::encode(this));
    } else if (waiter_) {
        std::exchange(waiter_, {}).resume();
    }
}

void acceptor::on_retry(rt::timer& t) {
    auto* self = static_cast<acceptor*>(t.context());
    if (!self->closing_ && !self->armed_) self->arm();
}

void acceptor::on_complete(rt::completion* c, int res, std::uint32_t flags, unsigned) {
    auto* self = static_cast<acceptor*>(c);
    if (!(flags & IORING_CQE_F_MORE)) self->armed_ = false;
    if (res >= 0) {
        if (self->closing_) {
            ::close(res);
        } else {
            self->queue_.push_back(res);
        }
    } else if (res != -ECANCELED) {
        // EMFILE, ENFILE, ENOMEM...: the listener stays; try again shortly instead of spinning,
        // and say so at most once a second.
        std::int64_t now = rt::this_reactor().now();
        if (now - self->last_warning_ >= 1'000'000'000) {
            self->last_warning_ = now;
            RINGLET_LOG(warn) << "accept failed: " << errno_code(-res);
        }
    }
    if (!self->armed_ && !self->closing_) {
        if (res < 0 && res != -ECANCELED) {
            auto& r = rt::this_reactor();
            r.timers().arm(self->retry_, r.now() + 50'000'000);
        } else {
            self->arm();
        }
    }
    if (self->waiter_ && self->ready()) std::exchange(self->waiter_, {}).resume();
}

} // namespace ringlet::net
