// Reactor threads: each runs one reactor with its listeners, its connections and its share of
// the server. The control thread talks to them only by posting functions (reactor::post); the
// functions below are what it posts, and run on the reactor's own thread.
#pragma once

#include "ringlet/base/unique_fd.hpp"
#include "ringlet/runtime/rcu.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/server/connection.hpp"
#include "ringlet/server/site.hpp"
#include "ringlet/tls/cert_table.hpp"

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ringlet::server::detail {

// A listening socket handed to a reactor; `address` is its configured text ("127.0.0.1:8443"),
// the key reloads use to add and remove listeners.
struct listener_fd {
    std::string address;
    bool secure = false;
    unique_fd fd;
};

struct worker_config {
    const rt::rcu_cell<site_table>* sites = nullptr;
    const rt::rcu_cell<tls::cert_table>* certificates = nullptr;
    const rt::rcu_cell<tls::challenge_table>* challenges = nullptr;
    connection_limits limits;
    bool https_redirect = false;
    std::uint16_t https_port = 443;
    bool pin_cpu = false;
    int access_log_fd = -1; // shared by all reactors; -1: off
};

struct worker {
    unsigned index = 0;
    int cpu = -1;
    std::vector<listener_fd> initial_listeners;
    rt::reactor* reactor = nullptr; // valid between ready and done
    std::thread thread;
    std::atomic<bool> done{false};

    // Starts the thread; `ready` gets "" once serving, or the reason it could not start.
    void start(const worker_config& config, std::promise<std::string> ready);
};

// To post to a reactor (each acts on the calling reactor's own state):
void drain_current_worker(std::int64_t timeout_ns);
void add_listener_current(std::shared_ptr<listener_fd> l);
// Closes the listener for `address`; `closed` is decremented once its fd is closed.
void remove_listener_current(std::string address, std::shared_ptr<std::atomic<int>> closed);
void set_redirect_current(bool https_redirect, std::uint16_t https_port);
void set_limits_current(const connection_limits& limits);

} // namespace ringlet::server::detail
