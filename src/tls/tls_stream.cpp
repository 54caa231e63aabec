#include "ringlet/tls/tls_stream.hpp"

#include "ringlet/runtime/reactor.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace ringlet::tls {

namespace {
// Plaintext per wolfSSL_write call: one full record, so io_send knows whether more follows.
constexpr std::size_t record_plaintext = 16 * 1024;
// Output queued before one flush: several records in one send.
constexpr std::size_t write_slice = 64 * 1024;
// Room for write_slice plus the record that crosses it, reserved once per bulk write.
constexpr std::size_t out_reserve = write_slice + record_plaintext + 1024;

std::int64_t remaining(std::int64_t deadline) {
    std::int64_t left = deadline - rt::this_reactor().now();
    return left > 0 ? left : 1;
}
} // namespace

int tls_stream::io_recv(WOLFSSL*, char* buf, int sz, void* ctx) {
    auto* s = static_cast<tls_stream*>(ctx);
    auto want = static_cast<std::size_t>(sz);
    if (!s->first_.empty()) { // the hello bytes come before anything still queued
        std::size_t n = std::min(s->first_.size(), want);
        std::memcpy(buf, s->first_.data(), n);
        s->first_ = s->first_.subspan(n);
        return static_cast<int>(n);
    }
    std::size_t n = s->tcp_.read_buffered({buf, want});
    if (n > 0) return static_cast<int>(n);
    return s->peer_eof_ ? WOLFSSL_CBIO_ERR_CONN_CLOSE : WOLFSSL_CBIO_ERR_WANT_READ;
}

int tls_stream::io_send(WOLFSSL*, char* buf, int sz, void* ctx) {
    auto* s = static_cast<tls_stream*>(ctx);
    std::span<const char> rest(buf, static_cast<std::size_t>(sz));
    if (s->direct_ && !s->more_ && s->out_.empty()) {
        // The last record of a write, and nothing queued before it: straight to the socket (a
        // socket error is left for the flush of what remains to report). Records followed by
        // more are queued and leave in one send: measured, a send per 16 KiB record costs more
        // than the copy into out_ (bulk 10 MiB: ~450-530 against ~350-400 ms/GiB).
        if (auto n = s->tcp_.try_send(rest)) rest = rest.subspan(*n);
    }
    if (s->more_ && s->out_.capacity() < out_reserve) s->out_.reserve(out_reserve); // no regrowth
    s->out_.append(rest.data(), rest.size());
    return sz; // always accepted: the coroutine flushes (wolfSSL never sees a partial write)
}

rt::task<result<void>> tls_stream::flush(std::int64_t timeout_ns, bool keep_storage) {
    if (out_.empty()) co_return result<void>{};
    std::size_t off = 0;
    if (auto n = tcp_.try_send(out_)) off = *n; // often all of it: no ring round trip
    result<void> r;
    if (off < out_.size()) {
        iovec iov{out_.data() + off, out_.size() - off};
        r = co_await tcp_.async_write_all(std::span(&iov, 1), timeout_ns);
    }
    out_.clear();
    if (!keep_storage) std::string().swap(out_); // idle connections keep no output buffer
    co_return r;
}

rt::task<result<void>> tls_stream::fill(std::int64_t deadline) {
    // wolfSSL asks for more only after taking everything queued; wait for the next bytes.
    auto n = co_await tcp_.async_wait_readable(deadline);
    if (!n) co_return unexpected{n.error()};
    if (*n == 0) peer_eof_ = true;
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
    first_ = first;
    direct_ = false;     // a flight leaves in one piece
    struct keep_unread { // bytes of `first` the handshake left (none in practice) outlive it
        tls_stream& s;
        ~keep_unread() {
            if (s.first_.empty()) return;
            s.first_copy_.assign(s.first_.data(), s.first_.size());
            s.first_ = s.first_copy_;
        }
    } keep{*this};
    for (;;) {
        int rc = wolfSSL_accept(ssl_.get());
        int err = rc == WOLFSSL_SUCCESS ? 0 : wolfSSL_get_error(ssl_.get(), rc);
        // Whatever wolfSSL produced (server flight, or an alert on failure) goes out first.
        auto sent = co_await flush(remaining(deadline));
        if (rc == WOLFSSL_SUCCESS) {
            direct_ = true;
            co_return sent;
        }
        if (!sent) co_return sent;
        if (err != WOLFSSL_ERROR_WANT_READ) co_return fail_errno(EPROTO);
        if (peer_eof_) co_return fail_errno(ECONNRESET);
        auto got = co_await fill(deadline);
        if (!got) co_return got;
    }
}

rt::task<result<void>> tls_stream::async_wait_readable(std::int64_t deadline) {
    // wolfSSL may hold whole records it pulled from the socket but has not decrypted yet
    // (has_pending), not only decrypted bytes (pending): waiting on the socket then would stall.
    if (peer_eof_ || wolfSSL_has_pending(ssl_.get())) co_return result<void>{};
    co_return co_await fill(deadline);
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
    std::size_t total = 0;
    for (const iovec& v : iov) total += v.iov_len;
    for (iovec& v : iov) {
        const char* p = static_cast<const char*>(v.iov_base);
        std::size_t left = v.iov_len;
        while (left > 0) {
            int chunk = static_cast<int>(std::min(left, record_plaintext));
            total -= static_cast<std::size_t>(chunk);
            more_ = total > 0; // not the last record: io_send queues it
            int n = wolfSSL_write(ssl_.get(), p, chunk);
            more_ = false;
            if (n <= 0) co_return fail_errno(EPROTO);
            total += static_cast<std::size_t>(chunk - n); // (wolfSSL writes all or fails)
            p += n;
            left -= static_cast<std::size_t>(n);
            if (out_.size() >= write_slice) {
                auto r = co_await flush(timeout_ns, true);
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
