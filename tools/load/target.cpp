#include "load/target.hpp"

#include "ringlet/base/ascii.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace ringlet::load {

namespace {

bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

} // namespace

bool is_dns_name(std::string_view h) {
    if (h.empty() || h.size() > 253) return false;
    for (char c : h) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
        if (!ok) return false;
    }
    return h.front() != '.' && h.find("..") == std::string_view::npos;
}

bool is_loopback(const target& t) {
    std::string_view h = t.host;
    if (!t.ip_literal) {
        if (!h.empty() && h.back() == '.') h.remove_suffix(1);
        return h == "localhost";
    }
    const std::string s(h);
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        return (ntohl(v4.s_addr) >> 24) == 127;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return false;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(mapped, mapped + 12, v6.s6_addr)) return v6.s6_addr[12] == 127;
    return IN6_IS_ADDR_LOOPBACK(&v6);
}

// Splits and checks one URL; nullopt with `why` set on failure.
std::optional<target> parse_target(std::string_view url, std::string& why) {
    target t;
    t.url = std::string(url);
    const std::size_t sep = url.find("://");
    if (sep == std::string_view::npos) {
        why = "missing http:// or https://";
        return std::nullopt;
    }
    const std::string scheme = ascii_lower(url.substr(0, sep));
    if (scheme == "https") {
        t.https = true;
    } else if (scheme != "http") {
        why = "the scheme must be http:// or https://";
        return std::nullopt;
    }
    std::string_view rest = url.substr(sep + 3);
    const std::size_t auth_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, auth_end);
    std::string_view path = auth_end == std::string_view::npos ? "" : rest.substr(auth_end);
    if (const std::size_t hash = path.find('#'); hash != std::string_view::npos) {
        path = path.substr(0, hash);
    }
    if (authority.find('@') != std::string_view::npos) {
        why = "user names in URLs are not supported";
        return std::nullopt;
    }
    std::string_view host, port;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            why = "an IPv6 address needs a closing ']'";
            return std::nullopt;
        }
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                why = "unexpected characters after ']'";
                return std::nullopt;
            }
            port = after.substr(1);
            has_port = true;
        }
        in6_addr a{};
        if (inet_pton(AF_INET6, std::string(host).c_str(), &a) != 1) {
            why = quoted(host) + " is not an IPv6 address (zones are not supported)";
            return std::nullopt;
        }
        t.ip_literal = true;
    } else {
        const std::size_t colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
            has_port = true;
            if (port.find(':') != std::string_view::npos) {
                why = "an IPv6 address must be in brackets, e.g. https://[::1]:8443/";
                return std::nullopt;
            }
        }
        if (host.empty()) {
            why = "missing host";
            return std::nullopt;
        }
        if (!is_dns_name(host)) {
            why = quoted(host) + " is not a valid host name";
            return std::nullopt;
        }
        in_addr a{};
        t.ip_literal = inet_pton(AF_INET, std::string(host).c_str(), &a) == 1;
    }
    t.host = ascii_lower(host);
    t.port = t.https ? 443 : 80;
    if (has_port) {
        std::uint16_t p = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
        if (port.empty() || port.front() == '+' || ec != std::errc{} ||
            end != port.data() + port.size() || p == 0) {
            why = "port '" + std::string(port) + "' is not a number from 1 to 65535";
            return std::nullopt;
        }
        t.port = p;
    }
    for (std::size_t i = 0; i < path.size(); ++i) {
        const auto c = static_cast<unsigned char>(path[i]);
        if (c <= 0x20 || c >= 0x7f) {
            why = "the path has a space, control or non-ASCII byte at offset " + std::to_string(i) +
                  " (percent-encode it)";
            return std::nullopt;
        }
    }
    t.path =
        path.empty() || path.front() == '?' ? std::string("/").append(path) : std::string(path);
    const bool v6 = t.host.find(':') != std::string::npos;
    t.authority = v6 ? std::string("[").append(t.host).append("]") : t.host;
    if (t.port != (t.https ? 443 : 80)) t.authority += ":" + std::to_string(t.port);
    return t;
}

// "Name: value" -> header_field; nullopt with `why` set on failure.
std::optional<header_field> parse_header_field(std::string_view h, std::string& why) {
    const std::size_t colon = h.find(':');
    if (colon == std::string_view::npos) {
        why = "expected \"Name: value\"";
        return std::nullopt;
    }
    std::string_view name = h.substr(0, colon), value = h.substr(colon + 1);
    if (name.empty()) {
        why = "the header name is empty";
        return std::nullopt;
    }
    for (char c : name) {
        if (!is_tchar(c)) {
            why = "the header name may not contain " +
                  (c == ' ' || c == '\t' ? std::string("spaces") : quoted(std::string(1, c)));
            return std::nullopt;
        }
    }
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            why = "the header value has a control character (CR, LF, NUL, ...)";
            return std::nullopt;
        }
    }
    const std::string lower = ascii_lower(name);
    if (lower == "content-length" || lower == "transfer-encoding") {
        why = "requests are GETs without a body, so " + std::string(name) + " cannot be set";
        return std::nullopt;
    }
    return header_field{std::string(name), std::string(value)};
}

} // namespace ringlet::load
