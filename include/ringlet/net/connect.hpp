// Outgoing TCP connections: name resolution and an io_uring connect.
//
// Used by the control thread (ACME, OCSP) and the load generator. resolve() calls getaddrinfo,
// which blocks the calling thread for as long as DNS takes (seconds, with a dead resolver), so
// it is for start-up and tools only. A reactor uses async_resolve(): getaddrinfo runs on a
// short-lived thread of its own while the reactor goes on (on the control thread, a stuck DNS
// server must not hold up SIGTERM, SIGUSR1 or the other sites' renewals). Numeric addresses and
// "localhost" are answered without getaddrinfo, so tests and local targets never depend on DNS.
//
//   std::string err;
//   auto eps = net::resolve("127.0.0.1", 8443, err);        // [127.0.0.1:8443]
//   auto fd = co_await net::async_connect((*eps)[0], 5'000'000'000);
//   if (!fd) /* fd.error(): connection_refused, timed_out, ... */;
//   net::tcp_stream s(fd->release());
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/base/unique_fd.hpp"
#include "ringlet/net/endpoint.hpp"
#include "ringlet/runtime/task.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::net {

// The addresses of `host` (a name, an IPv4 literal, or an IPv6 literal with or without
// brackets) with `port`, in the resolver's preference order, duplicates removed. "localhost"
// gives 127.0.0.1 then ::1. Errors: `error` says why ("resolve example.test: Name or service
// not known"); the code is host_unreachable for a name with no addresses, invalid_argument for
// an empty or malformed host.
result<std::vector<endpoint>> resolve(std::string_view host, std::uint16_t port,
                                      std::string& error);

// resolve() without blocking the reactor: the same answers and errors, plus timed_out ("resolve
// HOST: no answer within N ms") when `timeout_ns` (> 0) passes first. A lookup that times out is
// left to finish on its thread and its answer is dropped. Reactor thread only.
rt::task<result<std::vector<endpoint>>> async_resolve(std::string_view host, std::uint16_t port,
                                                      std::string& error, std::int64_t timeout_ns);

// A connected, non-blocking SOCK_STREAM socket (CLOEXEC, TCP_NODELAY) to `to`. Fails with
// the connect errno (connection_refused, network_unreachable, ...) or timed_out when
// `timeout_ns` (> 0; 0 = the kernel's own SYN retry limit) passes first. Reactor thread only.
rt::task<result<unique_fd>> async_connect(const endpoint& to, std::int64_t timeout_ns);

} // namespace ringlet::net
