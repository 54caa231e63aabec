// request: one parsed HTTP/1.x request head, as produced by parse_request() (parser.hpp).
//
// Ownership: every std::string_view in a request points into the receive buffer that was parsed
// (the only exception is `path`, which may point at a static "/" for an absolute-form target with
// an empty path). The request is valid only while that buffer is alive and unchanged; it owns no
// memory and needs no cleanup, so one instance can be reused for every request on a connection.
//
// Limits: at most max_headers header fields are kept (the parser rejects more with 431).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringlet::http {

// The request methods the server knows about. Anything else that is a valid token parses as
// "unknown" and is answered with 501 by the parser.
enum class method : std::uint8_t {
    get,
    head,
    post,
    put,
    delete_,
    connect,
    options,
    trace,
    patch,
    unknown
};

// One header field line. Both views point into the receive buffer; `value` has the optional
// whitespace (SP / HT) around it trimmed and may be empty. Names keep the case they were sent in.
struct header {
    std::string_view name, value;
};

inline constexpr std::size_t max_headers = 100;

struct request {
    http::method method = method::unknown;
    std::string_view method_name; // as sent
    std::string_view target;      // raw request-target as sent
    // Origin-form path (target before '?'); for absolute-form "http://h/p?q" -> "/p" (or "/" if the
    // target has no path). Not decoded or normalised: that is the file layer's job.
    std::string_view path;
    std::string_view query; // after '?', without it; empty if none
    // Host header value, or the authority of an absolute-form target (which wins); may include
    // ":port". Empty for an HTTP/1.0 request without Host (or an explicitly empty Host).
    std::string_view host;
    int version_minor = 1; // 0 or 1; HTTP/1.2..1.9 are treated as 1.1 (RFC 9112 2.3)
    // 1.1: true unless Connection has the token "close"; 1.0: only if Connection has the token
    // "keep-alive" (and not "close").
    bool keep_alive = true;
    bool has_content_length = false;
    std::uint64_t content_length = 0;
    bool has_transfer_encoding = false;
    // Raw (OWS-trimmed) values, empty if absent. When a field is repeated, the first non-empty
    // occurrence is kept here; all occurrences are in `headers`.
    std::string_view accept_encoding, if_none_match, if_modified_since, if_match,
        if_unmodified_since, range, if_range;
    // Every header field line in the order received. Only [0, header_count) is meaningful: the
    // parser does not clear entries past header_count when it reuses a request.
    std::array<header, max_headers> headers{};
    std::size_t header_count = 0;
};

// The canonical upper-case name of a known method ("GET", "HEAD", ..., "DELETE");
// an empty view for method::unknown. The view refers to static storage.
std::string_view method_name(method m) noexcept;

} // namespace ringlet::http
