// tls_stream: TLS over a tcp_stream, with the same byte-stream contract (async_read_some,
// async_write_all, async_shutdown_write, async_close), so the HTTP layer runs unchanged on it.
//
// wolfSSL never touches the socket itself and never sees a partial write or WANT_WRITE:
//  - its receive callback copies straight from the tcp_stream's queue of received buffers
//    (tcp_stream::read_buffered) and answers WANT_READ when it is empty; the coroutine then waits
//    with tcp_stream::async_wait_readable, which needs no buffer. So this stream owns no input
//    buffer: an idle connection costs wolfSSL's own state and little else;
//  - once a server handshake is done, its send callback hands the last record of a write
//    straight to the socket when nothing is queued before it (tcp_stream::try_send, one
//    non-blocking send): a small response costs no copy and no ring round trip. Other records
//    (bulk data, handshake flights) and what the socket does not take go to an output buffer,
//    flushed in one send of up to 64 KiB: the socket is offered it at once (try_send) and the
//    rest goes through the reactor's ring. The buffer is freed after each flush.
//
// The caller has already read the ClientHello (to choose the certificate before wolfSSL_new, see
// client_hello.hpp); async_handshake() takes those bytes first, from the caller's buffer.
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
#include <string_view>

namespace ringlet::tls {

struct session_deleter {
    void operator()(WOLFSSL_SESSION* s) const noexcept { wolfSSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<WOLFSSL_SESSION, session_deleter>;

class tls_stream {
public:
    explicit tls_stream(net::tcp_stream& tcp) : tcp_(tcp) {}
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;

    // Runs the server handshake on a new WOLFSSL from `ctx`; `first_bytes` are the bytes already
    // read from the socket (read in place: they must stay valid until this completes; any not
    // consumed by then are copied); `alpn` is the protocol to select (the client offered it), or
    // empty.
    // Fails with timed_out past `deadline` (reactor time), or with protocol_error (the alert,
    // if any, has been sent).
    rt::task<result<void>> async_handshake(WOLFSSL_CTX* ctx, std::span<const char> first_bytes,
                                           std::string_view alpn, std::int64_t deadline);

    // Waits until a read may make progress (bytes wolfSSL holds, bytes queued on the socket, or
    // the peer's end) without a destination buffer, so an idle connection holds none. Errors:
    // timed_out past `deadline`, operation_canceled by tcp().interrupt().
    rt::task<result<void>> async_wait_readable(std::int64_t deadline);
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

    // --- client side (contexts from client_context.hpp) ------------------------------------
    // Runs the client handshake on a new WOLFSSL from `client_ctx`. `server_name` is sent as
    // SNI and, unless the context is insecure, must match the certificate; an IP literal
    // ("127.0.0.1", "::1" or "[::1]") sends no SNI and must match an iPAddress subjectAltName
    // (wolfSSL in this build cannot check those, so this stream does). A verifying context needs
    // a name. `resume`: a session from get_session() of an earlier connection to the same
    // server, or null; resumed() tells whether the server took it. Fails with timed_out past
    // `deadline`, connection_reset when the server hangs up, invalid_argument for a missing
    // name, or protocol_error: then tls_error() has wolfSSL's code and error_description() says
    // what went wrong ("certificate verify failed (...)").
    rt::task<result<void>> async_connect(WOLFSSL_CTX* client_ctx, std::string_view server_name,
                                         std::int64_t deadline, WOLFSSL_SESSION* resume = nullptr);
    // The session to resume with later, or null. Under TLS 1.3 the server's ticket arrives after
    // the handshake and is processed by a read: take the session after reading a response.
    session_ptr get_session() const;
    // The protocol the server selected by ALPN, or empty.
    std::string_view alpn_selected() const noexcept;
    // wolfSSL's error code for the last failed handshake (0 if none).
    int tls_error() const noexcept { return tls_error_; }
    std::string error_description() const;

    // wolfSSL I/O callbacks (installed on every server context); `ctx` is the tls_stream.
    static int io_recv(WOLFSSL* ssl, char* buf, int sz, void* ctx);
    static int io_send(WOLFSSL* ssl, char* buf, int sz, void* ctx);

private:
    // Sends out_ and empties it; its storage is freed unless `keep_storage` (more follows).
    rt::task<result<void>> flush(std::int64_t timeout_ns, bool keep_storage = false);
    rt::task<result<void>> fill(std::int64_t deadline);

    net::tcp_stream& tcp_;
    ssl_ptr ssl_;
    std::span<const char> first_; // handshake bytes the caller read, not yet given to wolfSSL
    std::string first_copy_;      // owns first_ when some outlive async_handshake (rare)
    bool peer_eof_ = false;
    bool shut_ = false;
    bool direct_ = false; // io_send hands records to the socket (after the server handshake)
    bool more_ = false;   // more plaintext of the current write follows this record
    std::string out_;
    int tls_error_ = 0; // client handshake failures
};

} // namespace ringlet::tls
