// tls_stream: TLS over a tcp_stream, with the same byte-stream contract (async_read_some,
// async_write_all, async_shutdown_write, async_close), so the HTTP layer runs unchanged on it.
//
// wolfSSL never touches the socket. Its receive callback copies from this stream's input buffer
// (filled by tcp_stream reads) and answers WANT_READ when it is empty; its send callback appends
// to an output buffer and always accepts everything; the coroutine then flushes that buffer with
// one send. So wolfSSL never sees a partial write, and all I/O stays on the reactor's ring.
//
// The caller has already read the ClientHello (to choose the certificate before wolfSSL_new, see
// client_hello.hpp); async_handshake() takes those bytes first.
//
// Lifetime: the tcp_stream must outlive this object; async_close() sends close_notify (bounded
// wait) and then closes the tcp_stream.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/net/tcp_stream.hpp"
#include "ringlet/runtime/task.hpp"
#include "ringlet/tls/wolfssl.hpp"

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace ringlet::tls {

class tls_stream {
public:
    explicit tls_stream(net::tcp_stream& tcp) : tcp_(tcp) {}
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;

    // Runs the server handshake on a new WOLFSSL from `ctx`; `first_bytes` are the bytes already
    // read from the socket; `alpn` is the protocol to select (the client offered it), or empty.
    // Fails with timed_out past `deadline` (reactor time), or with protocol_error (the alert,
    // if any, has been sent).
    rt::task<result<void>> async_handshake(WOLFSSL_CTX* ctx, std::span<const char> first_bytes,
                                           std::string_view alpn, std::int64_t deadline);

    // Decrypted bytes into dst (> 0), 0 when the peer closed (close_notify or EOF), or an error.
    rt::task<result<std::size_t>> async_read_some(std::span<char> dst, std::int64_t deadline);
    // Encrypts and sends every byte of `iov`.
    rt::task<result<void>> async_write_all(std::span<iovec> iov, std::int64_t timeout_ns);
    // Sends close_notify and half-closes the socket.
    rt::task<void> async_shutdown_write();
    rt::task<void> async_close();

    WOLFSSL* ssl() const noexcept { return ssl_.get(); }
    net::tcp_stream& tcp() noexcept { return tcp_; }
    // Negotiated protocol version, e.g. "TLSv1.3".
    const char* version() const noexcept;
    bool resumed() const noexcept;

    // wolfSSL I/O callbacks (installed on every server context); `ctx` is the tls_stream.
    static int io_recv(WOLFSSL* ssl, char* buf, int sz, void* ctx);
    static int io_send(WOLFSSL* ssl, char* buf, int sz, void* ctx);

private:
    rt::task<result<void>> flush(std::int64_t timeout_ns);
    rt::task<result<void>> fill(std::int64_t deadline);

    net::tcp_stream& tcp_;
    ssl_ptr ssl_;
    std::unique_ptr<char[]> in_;
    std::size_t in_cap_ = 0, in_off_ = 0, in_len_ = 0;
    bool peer_eof_ = false;
    bool shut_ = false;
    std::string out_;
};

} // namespace ringlet::tls
