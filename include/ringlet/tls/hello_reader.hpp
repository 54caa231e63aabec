// Reading the ClientHello before any wolfSSL object exists, so the certificate (and later the
// ACME challenge answer) is chosen from the parsed SNI and ALPN, never by switching contexts
// inside wolfSSL's callbacks.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/net/tcp_stream.hpp"
#include "ringlet/runtime/task.hpp"
#include "ringlet/tls/client_hello.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace ringlet::tls {

// Bytes of socket input that always hold a complete ClientHello we accept (the message limit
// plus the record headers of a fragmented one).
inline constexpr std::size_t hello_buffer_size = max_client_hello + 1024;

struct hello_bytes {
    std::size_t read = 0;     // bytes read into the buffer (all go to the handshake)
    std::size_t consumed = 0; // of which the records carrying the ClientHello
};

// Reads into `buf` until a complete ClientHello is buffered. A malformed, oversized or non-TLS
// hello gets its alert (when it has one) and ends with protocol_error; a silent client ends with
// timed_out.
rt::task<result<hello_bytes>> read_client_hello(net::tcp_stream& tcp, std::span<char> buf,
                                                client_hello_info& info, std::string& scratch,
                                                std::int64_t deadline);

// What wolfSSL should be fed: the bytes as read, except that a ClientHello fragmented over
// several records (which RFC 8446 5.1 allows, down to 1-byte records, and which wolfSSL 5.7
// fails on) is re-framed as one record holding the reassembled message from `scratch`. The
// transcript hash covers handshake messages, not records, so the handshake is unchanged.
// Returns a view of `buf` or of `out`.
std::span<const char> handshake_input(std::span<const char> buf, hello_bytes got,
                                      const std::string& scratch, std::string& out);

// Sends a fatal alert record (TLS 1.2 framing, which every version's client accepts before the
// handshake has chosen one), e.g. 112 unrecognized_name.
rt::task<void> send_alert(net::tcp_stream& tcp, std::uint8_t description);

} // namespace ringlet::tls
