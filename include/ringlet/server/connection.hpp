// The HTTP/1.1 connection: one coroutine per accepted socket, on the reactor that accepted it.
//
// Loop: read until a request head parses (header deadline from its first byte; the idle
// keep-alive deadline before that), answer it from the site's folder, then either take the next
// request (pipelined bytes are already buffered) or close. Responses go out in request order,
// one at a time. Errors in a request get their status code and the connection closes after a
// lingering drain so the client reads the answer instead of a reset.
//
// reactor_state holds what the connections of one reactor share: the site table (read-only),
// the open-file cache, the Date line, and the drain flag. Reactor thread only, no locks.
#pragma once

#include "ringlet/files/file_cache.hpp"
#include "ringlet/http/request.hpp"
#include "ringlet/runtime/rcu.hpp"
#include "ringlet/runtime/task.hpp"
#include "ringlet/server/site.hpp"
#include "ringlet/tls/cert_table.hpp"
#include "ringlet/tls/challenge_table.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ringlet::server {

struct connection_limits {
    std::int64_t header_timeout_ns = 10'000'000'000;    // whole request head after its first byte
    std::int64_t keepalive_timeout_ns = 30'000'000'000; // idle between requests
    std::int64_t send_timeout_ns = 30'000'000'000;      // one send making no progress
    std::size_t stream_chunk = 128 * 1024;              // read size for files not held in memory
    std::int64_t handshake_timeout_ns = 10'000'000'000; // TLS: ClientHello to Finished
    std::size_t max_handshakes = 2048;                  // concurrent TLS handshakes per reactor
};

struct connection_entry; // intrusive list node, lives in each connection's frame

struct reactor_state {
    explicit reactor_state(const rt::rcu_cell<site_table>& s, connection_limits l = {},
                           files::file_cache_options fo = {})
        : sites(&s), limits(l), cache(fo) {}
    reactor_state(const reactor_state&) = delete;
    reactor_state& operator=(const reactor_state&) = delete;

    // The site table the control thread publishes (RCU). A request pins the generation it
    // starts on (acquire_sites/release_sites) and finishes on it even if a reload publishes a
    // new one meanwhile; pins are counted per reactor, so a request costs no atomic operation.
    const rt::rcu_cell<site_table>* sites;
    const site_table* acquire_sites();
    void release_sites(const site_table* t) noexcept;

    connection_limits limits;
    unsigned reactor_index = 0;
    // TLS: the certificate table the control thread publishes (RCU), handshakes in flight, and
    // whether the plain listener sends clients to HTTPS.
    const rt::rcu_cell<tls::cert_table>* certificates = nullptr;
    // The ACME challenges being answered (HTTP-01 on the plain listener, TLS-ALPN-01 in the
    // handshake), published by the control thread; null: no ACME.
    const rt::rcu_cell<tls::challenge_table>* challenges = nullptr;
    std::size_t handshakes = 0;
    class access_log* access = nullptr; // null: no access log
    bool https_redirect = false;
    std::uint16_t https_port = 443;
    files::file_cache cache;
    // Input buffers, response-head strings and parsed-request slots of idle connections come
    // back here (a bounded
    // stock), so an idle keep-alive connection holds neither and a busy one pays no malloc.
    std::vector<std::unique_ptr<char[]>> spare_inputs;
    std::vector<std::string> spare_heads;
    std::vector<std::unique_ptr<http::request>> spare_requests;
    bool draining = false;
    connection_entry* connections = nullptr; // every live connection of this reactor
    std::size_t connection_count = 0;

    // "Date: <IMF-fixdate>\r\n", refreshed at most once per second.
    std::string_view date_line();

private:
    struct pinned_sites {
        std::shared_ptr<const site_table> table;
        std::size_t users = 0;
    };
    std::vector<pinned_sites> pinned_; // back(): the newest generation this reactor has seen
    std::int64_t date_second_ = -1;
    std::string date_line_;
};

// Serves HTTP/1.1 on `fd` (owned from here on) until the peer leaves, a limit or error closes
// it, or the reactor drains. With st.https_redirect, every request gets a 308 to HTTPS.
rt::task<void> serve_connection(reactor_state& st, int fd);
// The same over TLS, with the certificate chosen by SNI from st.certificates.
rt::task<void> serve_tls_connection(reactor_state& st, int fd);

// Graceful stop, step 1: mark draining and wake connections idle between requests so they close;
// busy ones close after their current response.
void begin_drain(reactor_state& st);
// Step 2, when the drain deadline passes: cancel the I/O of every remaining connection.
void abort_connections(reactor_state& st);

} // namespace ringlet::server
