#include "ringlet/net/endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace ringlet::net {

namespace {
result<endpoint> bad() {
    return fail_errno(EINVAL);
}
} // namespace

result<endpoint> endpoint::parse(std::string_view text) {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad();
    std::string_view host = text.substr(0, colon), port_text = text.substr(colon + 1);
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535) return bad();

    endpoint e;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        std::string h(host.substr(1, host.size() - 2));
        auto* a6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
        if (inet_pton(AF_INET6, h.c_str(), &a6->sin6_addr) != 1) return bad();
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(static_cast<std::uint16_t>(port));
        e.len = sizeof(sockaddr_in6);
        return e;
    }
    std::string h(host);
    if (h.empty() || h == "*") h = "0.0.0.0";
    if (h == "localhost") h = "127.0.0.1";
    auto* a4 = reinterpret_cast<sockaddr_in*>(&e.addr);
    if (inet_pton(AF_INET, h.c_str(), &a4->sin_addr) != 1) return bad();
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<std::uint16_t>(port));
    e.len = sizeof(sockaddr_in);
    return e;
}

endpoint endpoint::of_socket(int fd) {
    endpoint e;
    e.len = sizeof e.addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&e.addr), &e.len) != 0) e.len = 0;
    return e;
}

std::uint16_t endpoint::port() const noexcept {
    if (addr.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

std::string endpoint::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    std::string out;
    if (addr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, buf,
                  sizeof buf);
        out.append("[").append(buf).append("]");
    } else {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, buf, sizeof buf);
        out.append(buf);
    }
    out.append(":").append(std::to_string(port()));
    return out;
}

} // namespace ringlet::net
