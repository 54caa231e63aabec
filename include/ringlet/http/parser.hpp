// HTTP/1.x request-head parser (RFC 9112 / RFC 9110), strict where request smuggling is possible.
//
//   request req;
//   parse_result r = parse_request(received, req);
//   if (r.status == parse_status::incomplete) { /* read more, then parse again from the start */ }
//   else if (r.status == parse_status::error) { /* answer r.error_status, then close */ }
//   else if (int s = reject_status(req)) { /* answer s */ }
//   else { /* serve req; the next request starts at received.substr(r.consumed) */ }
//
// The parser is pure and allocation-free: it never copies, owns nothing and keeps no state
// between calls. All views in the request point into the parsed buffer.
#pragma once

#include <cstddef>
#include <string_view>

#include "ringlet/http/request.hpp"

namespace ringlet::http {

struct parser_limits {
    // Longest request line, excluding its CRLF / LF. Longer -> 414.
    std::size_t request_line = 8 * 1024;
    // Longest header block: from after the request line up to and including the final empty
    // line's line end. Longer -> 431.
    std::size_t header_block = 64 * 1024;
    // Most header field lines. More -> 431. Values above max_headers act as max_headers, since
    // request::headers cannot hold more.
    std::size_t fields = max_headers;
};

enum class parse_status { complete, incomplete, error };

struct parse_result {
    parse_status status;
    std::size_t consumed = 0; // complete: bytes of the request head including the final empty
                              // line (and any leading empty lines)
    int error_status = 0;     // error: the HTTP status to answer: 400, 414, 431, 501, 505
};

// Parses one request head from the start of buf. `out` is overwritten; its views point into buf.
// After incomplete or error, `out` holds whatever was parsed so far and must not be used.
//
// Deterministic prefix behaviour: the answer for a buffer is decided by the bytes read up to the
// point of decision, so once a prefix yields complete or error, every longer buffer with that
// prefix yields the same answer. Incomplete input returns incomplete unless a limit is already
// exceeded (then 414 / 431), or a line that has fully arrived is already invalid (then its error):
// the caller can keep reading until complete or error, re-parsing from scratch each time.
//
// Accepted: up to 4 empty lines (CRLF or LF) before the request line; CRLF or bare LF line ends;
// origin-form, absolute-form (http / https, case-insensitive scheme) and, for OPTIONS only,
// asterisk-form targets; HTTP/1.0 to HTTP/1.9. Content-Length may be repeated, or a comma list,
// only with identical values. Errors:
//   400  malformed request line or field line, bare CR, CTL in a value, obs-fold, missing Host
//        (1.1) or repeated Host, invalid Host / authority, bad or conflicting Content-Length,
//        Content-Length with Transfer-Encoding, Transfer-Encoding in an HTTP/1.0 request
//   414  request line longer than limits.request_line
//   431  more than limits.fields fields or a header block longer than limits.header_block
//   501  a method token that is not one of http::method
//   505  major version other than 1
parse_result parse_request(std::string_view buf, request& out,
                           const parser_limits& limits = {}) noexcept;

// Semantic checks a static file server makes after a successful parse. Returns 0 (serve) or a
// status: 405 for a known method other than GET / HEAD (POST, PUT, DELETE, CONNECT, OPTIONS,
// TRACE, PATCH), 411 if Transfer-Encoding is present (no chunked bodies are accepted), 413 if
// Content-Length > 0. Checked in that order. method::unknown (never produced by a successful
// parse) gives 501.
int reject_status(const request& r) noexcept;

} // namespace ringlet::http
