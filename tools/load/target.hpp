// Targets and request headers of ringlet-load, checked once on the command line so the driver
// never re-parses or re-validates them per request.
//
// URLs are deliberately narrow: http:// or https:// only, no user names, hosts as DNS names
// (letters, digits, '-', '_', '.'), IPv4 literals or bracketed IPv6 literals (no zones), a port
// of 1..65535, and a path/query of visible ASCII (anything else must be percent-encoded: it goes
// on the wire as written). The fragment is dropped. Each refusal says why, for the message the
// command line prints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringlet::load {

struct target {
    std::string url; // as given
    bool https = false;
    std::string host; // lower-cased; an IPv6 literal without brackets
    std::uint16_t port = 0;
    std::string authority; // the Host header value: host[:port], brackets for IPv6, port only
                           // when it is not the scheme's default
    std::string path;      // origin-form request target: path plus "?query", at least "/"
    bool ip_literal = false;
};

struct header_field {
    std::string name; // as typed (case kept)
    std::string value;
};

// nullopt with `why` set when `url` is refused.
std::optional<target> parse_target(std::string_view url, std::string& why);

// True for 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104 and the name "localhost" (trailing dot
// allowed). Judged on what was typed, before any DNS: another name is not loopback even if it
// resolves there (the driver must still check where "localhost" resolves to).
bool is_loopback(const target& t);

// "Name: value": a token name, optional whitespace around the value trimmed, no control
// characters (CR/LF would inject headers). Content-Length and Transfer-Encoding are refused:
// requests are GETs without a body.
std::optional<header_field> parse_header_field(std::string_view text, std::string& why);

// A syntactically valid DNS name (1..253 bytes, no empty labels).
bool is_dns_name(std::string_view h);

// 'text', for messages that quote what the user typed.
inline std::string quoted(std::string_view s) {
    std::string q(1, '\'');
    q.append(s).push_back('\'');
    return q;
}

} // namespace ringlet::load
