#include "ringlet/tls/tls_stream.hpp"

#include "ringlet/runtime/reactor.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace ringlet::tls {

namespace {
// One TLS record plus header and slack: what a single socket read is asked for.
constexpr std::size_t input_capacity = 16 * 1024 + 512;
// Plaintext per wolfSSL_write call: a few records at a time keeps the output buffer bounded.
constexpr std::size_t write_slice = 64 * 1024;

std::int64_t remaining(std::int64_t deadline) {
    std::int64_t left = deadline - rt::this_reactor().now();
    return left > 0 ? left : 1;
}
} // namespace

int tls_stream::io_recv(WOLFSSL*, char* buf, int sz, void* ctx) {
    auto* s = static_cast<tls_stream*>(ctx);
    std::size_t avail = s->in_len_ - s->in_off_;
    if (avail == 0) return s->peer_eof_ ? WOLFSSL_CBIO_ERR_CONN_CLOSE : WOLFSSL_CBIO_ERR_WANT_READ;
    std::size_t n = std::min(avail, static_cast<std::size_t>(sz));
    std::memcpy(buf, s->in_.get() + s->in_off_, n);
    s->in_off_ += n;
    return static_cast<int>(n);
}

int tls_stream::io_send(WOLFSSL*, char* buf, int sz, void* ctx) {
    static_cast<tls_stream*>(ctx)->out_.append(buf, static_cast<std::size_t>(sz));
    return sz; // always accepted: the coroutine flushes (wolfSSL never sees a partial write)
}

rt::task<result<void>> tls_stream::flush(std::int64_t timeout_ns) {
    if (out_.empty()) co_return result<void>{};
    iovec iov{out_.data(), out_.size()};
    auto r = co_await tcp_.async_write_all(std::span(&iov, 1), timeout_ns);
    out_.clear();
    if (out_.capacity() > 4 * write_slice) std::string().swap(out_); // don't pin a burst's memory
    co_return r;
}

rt::task<result<void>> tls_stream::fill(std::int64_t deadline) {
    // wolfSSL asks for more only after taking everything we had, so the buffer restarts empty.
    in_off_ = in_len_ = 0;
    auto n = co_await tcp_.async_read_some({in_.get(), in_cap_}, deadline);
    if (!n) co_return unexpected{n.error()};
    if (*n == 0) peer_eof_ = true;
    in_len_ = *n;
    co_return result<void>{};
}

rt::task<result<void>> tls_stream::async_handshake(WOLFSSL_CTX* ctx, std::span<const char> first,
                                                   std::string_view alpn, std::int64_t deadline) {
    ssl_.reset(wolfSSL_new(ctx));
    if (!ssl_) co_return fail_errno(ENOMEM);
    if (!alpn.empty() && wolfSSL_UseALPN(ssl_.get(), const_cast<char*>(alpn.data()),
                                         static_cast<unsigned>(alpn.size()),
                                         WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) != WOLFSSL_SUCCESS) {
        co_return fail_errno(ENOMEM);
    }
    wolfSSL_SetIOReadCtx(ssl_.get(), this);
    wolfSSL_SetIOWriteCtx(ssl_.get(), this);
    in_cap_ = std::max(input_capacity, first.size());
    in_ = std::make_unique_for_overwrite<char[]>(in_cap_);
    std::memcpy(in_.get(), first.data(), first.size());
    in_off_ = 0;
    in_len_ = first.size();
    for (;;) {
        int rc = wolfSSL_accept(ssl_.get());
        int err = rc == WOLFSSL_SUCCESS ? 0 : wolfSSL_get_error(ssl_.get(), rc);
        // Whatever wolfSSL produced (server flight, or an alert on failure) goes out first.
        auto sent = co_await flush(remaining(deadline));
        if (rc == WOLFSSL_SUCCESS) co_return sent;
        if (!sent) co_return sent;
        if (err != WOLFSSL_ERROR_WANT_READ) co_return fail_errno(EPROTO);
        if (peer_eof_) co_return fail_errno(ECONNRESET);
        auto got = co_await fill(deadline);
        if (!got) co_return got;
    }
}

rt::task<result<std::size_t>> tls_stream::async_read_some(std::span<char> dst,
                                                          std::int64_t deadline) {
    for (;;) {
        int n = wolfSSL_read(ssl_.get(), dst.data(),
                             static_cast<int>(std::min<std::size_t>(dst.size(), 1 << 30)));
        if (n > 0) co_return static_cast<std::size_t>(n);
        int err = wolfSSL_get_error(ssl_.get(), n);
        if (!out_.empty()) {
            // Post-handshake messages (tickets, key updates) or an alert.
            auto sent = co_await flush(remaining(deadline));
            if (!sent) co_return unexpected{sent.error()};
        }
        if (err == WOLFSSL_ERROR_ZERO_RETURN) co_return std::size_t{0}; // close_notify
        if (err != WOLFSSL_ERROR_WANT_READ) {
            // A peer that just went away reads as a clean end; anything else is a TLS failure.
            co_return peer_eof_ ? result<std::size_t>(std::size_t{0}) : fail_errno(EPROTO);
        }
        if (peer_eof_) co_return std::size_t{0};
        auto got = co_await fill(deadline);
        if (!got) co_return unexpected{got.error()};
    }
}

rt::task<result<void>> tls_stream::async_write_all(std::span<iovec> iov, std::int64_t timeout_ns) {
    for (iovec& v : iov) {
        const char* p = static_cast<const char*>(v.iov_base);
        std::size_t left = v.iov_len;
        while (left > 0) {
            int chunk = static_cast<int>(std::min(left, write_slice));
            int n = wolfSSL_write(ssl_.get(), p, chunk);
            if (n <= 0) co_return fail_errno(EPROTO);
            p += n;
            left -= static_cast<std::size_t>(n);
            if (out_.size() >= write_slice) {
                auto r = co_await flush(timeout_ns);
                if (!r) co_return r;
            }
        }
    }
    co_return co_await flush(timeout_ns);
}

rt::task<void> tls_stream::async_shutdown_write() {
    if (ssl_ && !shut_) {
        shut_ = true;
        wolfSSL_shutdown(ssl_.get()); // queues close_notify; we do not wait for the peer's
        (void)co_await flush(1'000'000'000);
    }
    ::shutdown(tcp_.fd(), SHUT_WR);
}

rt::task<void> tls_stream::async_close() {
    if (ssl_ && !shut_) {
        shut_ = true;
        wolfSSL_shutdown(ssl_.get());
        (void)co_await flush(1'000'000'000);
    }
    co_await tcp_.async_close();
    ssl_.reset();
}

const char* tls_stream::version() const noexcept {
    return ssl_ ? wolfSSL_get_version(ssl_.get()) : "";
}

bool tls_stream::resumed() const noexcept {
    return ssl_ && wolfSSL_session_reused(ssl_.get());
}

} // namespace ringlet::tls
