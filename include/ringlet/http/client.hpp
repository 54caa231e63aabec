// A small HTTP/1.1 client for the control thread (ACME, OCSP): one request per connection.
//
// fetch() resolves the host (blocking getaddrinfo: control thread only, see net/connect.hpp),
// connects to each address in turn until one answers, runs the TLS handshake for https:// (the
// name verified unless the context is insecure), sends the request with Connection: close,
// reads the whole response into memory, and closes. No keep-alive, no connection reuse, and
// redirects are never followed: the caller sees the 3xx and decides (ACME must not be steered
// to another host silently).
//
// Bounded: one deadline for the whole exchange (request_timeout_ns), a connect timeout per
// attempt, a cap on the head and on the body. Every failure comes back as a message fit for a
// log line, naming the peer:
//   "connect to 127.0.0.1:14000: Connection refused"
//   "TLS handshake with pebble.test: certificate verify failed (...)"
//   "timed out after 30 s reading the response from https://pebble.test:14000"
//   "malformed response from https://pebble.test:14000: malformed status line"
//   "response body larger than 1048576 bytes"
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/http/url.hpp"
#include "ringlet/runtime/task.hpp"
#include "ringlet/tls/wolfssl.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringlet::http {

inline constexpr std::string_view client_user_agent = "ringlet/0.1";

struct client_request {
    std::string method = "GET";
    url target;
    // Extra fields. Host, Content-Length and Connection are set by fetch(); a User-Agent or
    // Accept given here replaces the default one.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body; // sent with Content-Length (also when empty, for POST/PUT/PATCH)
};

struct client_response {
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers; // as received, in order
    std::string body;

    // The first value of field `name` (ASCII case-insensitive), or nullopt.
    std::optional<std::string_view> header(std::string_view name) const;
    // Every value of field `name`, in order (e.g. several Link fields).
    std::vector<std::string_view> headers_named(std::string_view name) const;
};

struct client_limits {
    std::int64_t connect_timeout_ns = 10'000'000'000; // per address tried
    std::int64_t request_timeout_ns = 30'000'000'000; // everything, from the call on
    std::size_t max_body = 1024 * 1024;
    std::size_t max_head = 16 * 1024;
};

// Runs on the calling thread's reactor. `tls` is the client context for https:// URLs (see
// tls/client_context.hpp); it may be null for http://. On failure `error` says why and the
// code is: the socket's errno (connection_refused, ...), timed_out, protocol_error (TLS or a
// malformed response), file_too_large (body or head over the limit), or invalid_argument.
rt::task<result<client_response>> fetch(const client_request& request, WOLFSSL_CTX* tls,
                                        const client_limits& limits, std::string& error);

} // namespace ringlet::http
