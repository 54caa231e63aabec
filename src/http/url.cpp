#include "ringlet/http/url.hpp"

#include "ringlet/base/ascii.hpp"

#include <arpa/inet.h>

namespace ringlet::http {

namespace {

result<url> bad() {
    return fail_errno(EINVAL);
}

// Characters allowed in a path or query as sent: printable ASCII except space, '#', and the
// characters RFC 3986 never allows unencoded (", <, >, \, ^, `, {, |, }).
bool target_char(char c) noexcept {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    switch (c) {
    case '#':
    case '"':
    case '<':
    case '>':
    case '\\':
    case '^':
    case '`':
    case '{':
    case '|':
    case '}':
        return false;
    default:
        return true;
    }
}

bool host_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

std::string_view strip_fragment(std::string_view s) {
    return s.substr(0, s.find('#'));
}

bool valid_target(std::string_view t) {
    for (char c : t) {
        if (!target_char(c)) return false;
    }
    return true;
}

// Removes "." and ".." segments (RFC 3986 5.2.4) from a path (the query is not touched).
std::string remove_dot_segments(std::string_view path) {
    std::string out;
    while (!path.empty()) {
        if (path.starts_with("../")) {
            path.remove_prefix(3);
        } else if (path.starts_with("./")) {
            path.remove_prefix(2);
        } else if (path.starts_with("/./")) {
            path.remove_prefix(2);
        } else if (path == "/.") {
            path = "/";
        } else if (path.starts_with("/../") || path == "/..") {
            path = path.size() == 3 ? std::string_view("/") : path.substr(3);
            std::size_t slash = out.rfind('/');
            out.erase(slash == std::string::npos ? 0 : slash);
        } else if (path == "." || path == "..") {
            path = {};
        } else {
            std::size_t next = path.find('/', 1);
            out.append(path.substr(0, next));
            path = next == std::string_view::npos ? std::string_view() : path.substr(next);
        }
    }
    return out;
}

// Splits target into path and "?query" and normalises the path.
std::string normalise_target(std::string_view target) {
    std::size_t q = target.find('?');
    std::string path = remove_dot_segments(target.substr(0, q));
    std::string out;
    if (path.empty() || path.front() != '/') out.push_back('/');
    out.append(path);
    if (q != std::string_view::npos) out.append(target.substr(q));
    return out;
}

} // namespace

std::string url::authority() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != (https() ? 443 : 80)) out.append(":").append(std::to_string(port));
    return out;
}

std::string url::to_string() const {
    return scheme + "://" + authority() + target;
}

result<url> parse_url(std::string_view text) {
    url u;
    std::size_t colon = text.find("://");
    if (colon == std::string_view::npos) return bad();
    u.scheme = ascii_lower(text.substr(0, colon));
    if (u.scheme != "http" && u.scheme != "https") return bad();
    std::string_view rest = strip_fragment(text.substr(colon + 3));
    std::size_t slash = rest.find_first_of("/?");
    std::string_view auth = rest.substr(0, slash);
    std::string_view target = slash == std::string_view::npos ? "" : rest.substr(slash);
    if (auth.find('@') != std::string_view::npos) return bad();

    std::string_view host, port_text;
    if (!auth.empty() && auth.front() == '[') {
        std::size_t close = auth.find(']');
        if (close == std::string_view::npos) return bad();
        host = auth.substr(1, close - 1);
        std::string_view after = auth.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad();
            port_text = after.substr(1);
        }
        std::string h(host);
        unsigned char addr[16];
        if (inet_pton(AF_INET6, h.c_str(), addr) != 1) return bad();
    } else {
        std::size_t c = auth.find(':');
        host = auth.substr(0, c);
        if (c != std::string_view::npos) port_text = auth.substr(c + 1);
    }
    if (host.empty() || host.size() > 253) return bad();
    u.host = ascii_lower(host);
    if (auth.front() != '[') {
        for (char c : u.host) {
            if (!host_char(c)) return bad();
        }
    }
    u.port = u.https() ? 443 : 80;
    if (!port_text.empty()) {
        unsigned p = 0;
        if (port_text.size() > 5) return bad();
        for (char c : port_text) {
            if (c < '0' || c > '9') return bad();
            p = p * 10 + static_cast<unsigned>(c - '0');
        }
        if (p == 0 || p > 65535) return bad();
        u.port = static_cast<std::uint16_t>(p);
    }
    if (!valid_target(target)) return bad();
    if (target.empty() || target.front() == '?') u.target.push_back('/');
    u.target.append(target);
    // Control characters or spaces after a '#' are still an invalid URL.
    for (char c : text) {
        auto b = static_cast<unsigned char>(c);
        if (b <= 0x20 || b >= 0x7f) return bad();
    }
    return u;
}

result<url> resolve_url(const url& base, std::string_view ref) {
    ref = strip_fragment(ref);
    std::size_t scheme_end = ref.find("://");
    std::size_t first_delim = ref.find_first_of("/?");
    if (scheme_end != std::string_view::npos &&
        (first_delim == std::string_view::npos || scheme_end < first_delim)) {
        return parse_url(ref);
    }
    if (ref.starts_with("//")) return parse_url(base.scheme + ":" + std::string(ref));
    if (!valid_target(ref)) return bad();
    url u = base;
    if (ref.empty()) return u;
    if (ref.front() == '/') {
        u.target = normalise_target(ref);
    } else if (ref.front() == '?') {
        u.target = base.target.substr(0, base.target.find('?')) + std::string(ref);
    } else {
        std::string_view base_path = std::string_view(base.target).substr(0, base.target.find('?'));
        std::string merged(base_path.substr(0, base_path.rfind('/') + 1));
        merged.append(ref);
        u.target = normalise_target(merged);
    }
    return u;
}

} // namespace ringlet::http
