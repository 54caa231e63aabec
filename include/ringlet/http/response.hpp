// Response heads: the status line and header fields, written into a caller-owned string that the
// connection reuses across requests (so a warm connection allocates nothing per response).
// Always HTTP/1.1 on the wire (RFC 9110 6.2: a server sends its own highest version).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringlet::http {

// "OK", "Not Found", ... ; "Unknown" for codes we never send.
std::string_view reason_phrase(int status);

class response_writer {
public:
    // Clears `out` and writes the status line.
    response_writer(std::string& out, int status);

    response_writer& header(std::string_view name, std::string_view value);
    response_writer& header(std::string_view name, std::uint64_t value);
    // Appends a preformatted "Name: value\r\n" block (e.g. a cached Date line).
    response_writer& raw(std::string_view lines);
    // Ends the head with the empty line; returns it.
    std::string_view finish();

private:
    std::string& out_;
};

} // namespace ringlet::http
