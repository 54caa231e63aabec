// endpoint: an IPv4 or IPv6 socket address, parsed from and printed as "127.0.0.1:8080",
// "[::1]:8443", "localhost:8080" (= 127.0.0.1), ":8080" / "*:8080" (= 0.0.0.0).
#pragma once

#include "ringlet/base/result.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace ringlet::net {

struct endpoint {
    sockaddr_storage addr{};
    socklen_t len = 0;

    // Numeric addresses only (plus "localhost"): a server must not depend on DNS to start.
    // Errors: invalid_argument with nothing else to say; callers add the offending text.
    static result<endpoint> parse(std::string_view text);
    static endpoint of_socket(int fd); // getsockname

    std::uint16_t port() const noexcept;
    std::string to_string() const;
};

} // namespace ringlet::net
