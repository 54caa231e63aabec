// HTTP/1.1 response parsing for ringlet's clients (ACME, OCSP, the load generator).
//
// Pure and allocation-free like the request parser: parse_response() reads a head from a byte
// buffer into a caller-owned response_head whose views point into that buffer, and keeps no
// state between calls (re-parse from the start when more bytes arrive). The body framing it
// reports is what RFC 9112 6.3 says the client must do next; chunked bodies go through
// chunked_decoder, an incremental state machine that hands out views of the chunk data in place
// (zero copies, no buffer of its own), so a load generator can run it per response for free.
//
// Interim 1xx responses (100 Continue, 103 Early Hints) are skipped: `consumed` covers them and
// the head is the final response. 101 Switching Protocols is final, with no body.
//
// Errors are static strings ("malformed status line"), so every failure is explained without
// allocating; they never point into the input.
#pragma once

#include "ringlet/base/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ringlet::http {

struct header_field {
    std::string_view name, value; // value without surrounding whitespace
};

inline constexpr std::size_t max_response_fields = 100;

enum class body_framing {
    none,           // HEAD, 1xx, 204, 304, or Content-Length: 0
    content_length, // exactly content_length bytes
    chunked,        // Transfer-Encoding ending in chunked: use chunked_decoder
    until_close,    // neither: the body runs until the server closes
};

struct response_head {
    int status = 0;
    int minor_version = 1; // HTTP/1.x
    std::string_view reason;
    std::array<header_field, max_response_fields> fields;
    std::size_t field_count = 0;
    body_framing framing = body_framing::none;
    std::uint64_t content_length = 0; // framing == content_length
    bool keep_alive = false;          // the connection may carry another request afterwards

    std::span<const header_field> headers() const noexcept { return {fields.data(), field_count}; }
    // The first field named `name` (ASCII case-insensitive), or nullopt.
    std::optional<std::string_view> find(std::string_view name) const noexcept;
};

struct response_limits {
    std::size_t head = 16 * 1024;             // bytes of the head, interim responses included
    std::size_t fields = max_response_fields; // field lines per head
};

enum class response_status { complete, incomplete, error };

struct response_result {
    response_status status;
    std::size_t consumed = 0; // complete: bytes of the head(s) including the final empty line
    std::string_view error;   // error: what is wrong
};

// Parses the response to a request; `head_request` = it was a HEAD (no body whatever the
// headers say). Accepts CRLF or bare LF line ends; rejects: status lines other than
// "HTTP/1.x NNN reason" with a 3-digit status 100..599, field names that are not tokens,
// whitespace before the colon, obs-fold, control characters in values, invalid or conflicting
// Content-Length, heads longer than limits.head ("response head too large") or with more than
// limits.fields fields. Incomplete input gives incomplete unless a limit is already exceeded.
response_result parse_response(std::string_view buf, bool head_request, response_head& out,
                               const response_limits& limits = {}) noexcept;

// Incremental chunked transfer-coding decoder (RFC 9112 7.1). Strict hex sizes (no sign, no
// 0x, no whitespace inside), chunk extensions skipped (bounded), trailer fields skipped
// (bounded), CRLF or bare LF line ends.
//
//   chunked_decoder d;
//   while (!input.empty() && !d.done() && !d.failed()) {
//       auto s = d.step(input);          // consumes control bytes and at most one data piece
//       body.append(s.data);             // a view into `input`
//       input.remove_prefix(s.consumed);
//   }
//   // d.done(): the body is complete; input holds whatever followed it (a pipelined response)
class chunked_decoder {
public:
    struct limits {
        std::uint64_t chunk_size = std::uint64_t{1} << 40; // largest chunk accepted
        std::size_t line = 4096;                           // size line incl. extensions
        std::size_t trailers = 16 * 1024;                  // all trailer lines
    };
    struct step_result {
        std::size_t consumed = 0;
        std::string_view data; // body bytes (inside the consumed range), possibly empty
    };

    chunked_decoder() noexcept : chunked_decoder(limits{}) {}
    explicit chunked_decoder(const limits& l) noexcept : limits_(l) {}

    // Consumes as much of `in` as it can up to the end of the next data piece (or everything
    // if no data is reached). Consumes nothing only when `in` is empty, done() or failed().
    step_result step(std::string_view in) noexcept;

    bool done() const noexcept { return state_ == state::done; }
    bool failed() const noexcept { return state_ == state::failed; }
    std::string_view error() const noexcept { return error_; }
    // Starts over for the next chunked body.
    void reset() noexcept;

private:
    enum class state : std::uint8_t {
        size_first,
        size,
        size_ows,
        ext,
        size_lf,
        data,
        data_cr,
        data_lf,
        trailer_start,
        trailer,
        trailer_lf,
        final_lf,
        done,
        failed
    };
    step_result fail(std::size_t consumed, std::string_view why) noexcept;

    limits limits_;
    state state_ = state::size_first;
    std::uint64_t size_ = 0; // of the current chunk; then bytes left of it
    std::size_t line_ = 0;   // bytes of the current size line / trailer section
    std::string_view error_;
};

// Retry-After (RFC 9110 10.2.3): delta-seconds or an HTTP-date; the seconds to wait from
// `now_unix` (0 for a date in the past), or nullopt when the value is neither.
std::optional<std::int64_t> parse_retry_after(std::string_view value,
                                              std::int64_t now_unix) noexcept;

// One link of a Link header (RFC 8288) per relation type: `<u>; rel="a b"` gives {u, a}, {u, b}.
// Views into the parsed value.
struct link {
    std::string_view uri; // the URI-Reference as written (may be relative)
    std::string_view rel; // compare ASCII case-insensitively
};
// Parses a Link field value (several comma-separated links; other parameters are skipped,
// quoted strings may contain commas and semicolons). Links without rel are left out.
// Errors: invalid_argument for a malformed value.
result<std::vector<link>> parse_link_header(std::string_view value);

} // namespace ringlet::http
