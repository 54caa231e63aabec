// The control thread's state and its reload (server.cpp runs the loop around them; reload.cpp
// builds and switches to a new configuration). Private to the server.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/base/unique_fd.hpp"
#include "ringlet/runtime/rcu.hpp"
#include "ringlet/server/certificates.hpp"
#include "ringlet/server/server.hpp"
#include "ringlet/server/site.hpp"
#include "ringlet/tls/cert_table.hpp"
#include "ringlet/tls/challenge_table.hpp"
#include "server/worker.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ringlet::server::detail {

// The control thread's state: what is being served now, and the cells the reactors read.
struct control {
    server_options opts;
    unsigned workers = 1;
    rt::rcu_cell<site_table> sites{rt::rcu_domain::global()};
    rt::rcu_cell<tls::cert_table> certificates{rt::rcu_domain::global()};
    rt::rcu_cell<tls::challenge_table> challenges{rt::rcu_domain::global()};
    std::unique_ptr<certificate_manager> certs;
    std::map<std::string, bool> listeners;      // configured address -> secure
    std::map<std::string, std::uint16_t> bound; // configured address -> port actually bound
    std::vector<std::unique_ptr<detail::worker>> reactors;
    std::uint64_t generation = 1;
    std::uint64_t reload_seq = 0;
    std::string status_path;
};

// Listeners are keyed by scheme and configured address ("https://127.0.0.1:8443"), so the same
// text for both (e.g. port 0 in tests) names two listeners.
std::string listener_key(bool secure, const std::string& address);
std::string address_of(const std::string& key);
// The listeners `o` asks for: key -> secure.
std::map<std::string, bool> wanted_listeners(const server_options& o);
// One listening socket per reactor on `text`; errors are one line naming the address.
result<std::vector<unique_fd>> open_address(const std::string& text, unsigned n,
                                            std::string& error);
// The port the HTTPS listener is bound to (443 when there is none), for redirects.
std::uint16_t https_port_of(const control& c);
// Writes "seq=N ok|failed generation=G message" to the status file, if one is configured.
void write_status(const control& c, bool ok, const std::string& message);
// SIGUSR1: reads the config again and switches to it, or keeps the running one and says why.
bool reload(control& c, std::string& message);

} // namespace ringlet::server::detail
