// http:// and https:// URLs as ringlet's clients use them (ACME directory and resource URLs,
// OCSP responders, load generator targets): pure parsing, no I/O.
//
// Deliberately narrower than RFC 3986: no userinfo (credentials in URLs are a leak, and ACME
// never sends them), no percent-decoding (the target goes on the wire as written), no
// internationalised hosts. The fragment is dropped: it never reaches the server.
//
//   auto u = parse_url("https://acme.test:14000/dir?x=1#top");
//   // u->https() == true, u->host == "acme.test", u->port == 14000, u->target == "/dir?x=1"
#pragma once

#include "ringlet/base/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ringlet::http {

struct url {
    std::string scheme;     // "http" or "https" (lower case)
    std::string host;       // lower case; an IPv6 literal without its brackets ("::1")
    std::uint16_t port = 0; // explicit or the scheme's default (80 / 443)
    std::string target;     // path and query, "/" when the URL has no path

    bool https() const noexcept { return scheme == "https"; }
    // host[:port] for the Host header: IPv6 in brackets, the port only when not the default.
    std::string authority() const;
    // scheme://authority/target, for messages.
    std::string to_string() const;
};

// Errors: invalid_argument (not an absolute http/https URL, userinfo, an empty or invalid
// host, a port that is not 1..65535, spaces, control or non-ASCII characters anywhere).
result<url> parse_url(std::string_view text);

// Resolves a reference (e.g. a Location header) against `base` (RFC 3986 5.2): an absolute
// URL, "//host/path", "/path", "path" (relative to base's directory), "?query", with "." and
// ".." segments removed. Errors as parse_url.
result<url> resolve_url(const url& base, std::string_view reference);

} // namespace ringlet::http
