// The server process: N pinned reactor threads, each with its own ring, SO_REUSEPORT listener,
// open-file cache and connections, plus the main thread, which owns startup, signals and shutdown
// (the control thread of later issues grows out of it).
//
// Startup failures (io_uring forbidden, a port in use, a missing root) are reported as one clear
// line and a non-zero exit, before anything is served. SIGTERM/SIGINT drain: stop accepting,
// finish in-flight responses, close idle keep-alive connections at once and busy ones at their
// next request boundary, and cancel whatever remains when the drain timeout passes; then exit 0.
// A second SIGTERM/SIGINT, or SIGQUIT, exits at once.
#pragma once

#include "ringlet/base/log.hpp"
#include "ringlet/base/result.hpp"
#include "ringlet/server/connection.hpp"
#include "ringlet/server/site.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ringlet::server {

struct server_options {
    std::vector<site_spec> sites; // empty: the current folder
    bool demo = false;            // serve the built-in demo site instead
    bool tls = true;              // HTTPS on https_listen; http_listen then redirects to it
    std::string https_listen = "127.0.0.1:8443";
    std::string http_listen = "127.0.0.1:8080"; // empty: no plain listener
    std::string storage;                        // empty: default_storage_dir()
    bool strict_sni = false; // unknown SNI: unrecognized_name alert, not the default certificate
    unsigned workers = 0;    // 0: one per CPU this process may run on
    // Pin reactor i to CPU i. Off by default: where other processes share the cores (a load
    // generator, a database) a pinned reactor waits for its busy core while another core idles;
    // measured here with h2load on the same 2 cores: 100k req/s pinned, 140k unpinned.
    bool pin_cpus = false;
    std::string pidfile;
    std::int64_t drain_timeout_ns = 10'000'000'000;
    connection_limits limits;
    std::optional<log::level> log_level; // applied at start and by each accepted reload
    std::string access_log = "off";      // "off", "stderr" or a file (fixed until restart)
    // SIGUSR1 reads the configuration again through this (set by the CLI for --config); the
    // error names the file and position. Unset: reloading is refused with a clear status.
    std::function<result<server_options>(std::string& error)> reload_source;
};

// Runs until a shutdown signal; returns the process exit code.
int run_server(server_options opts);

// Empty if io_uring can be used here; otherwise a one-line explanation for the operator.
std::string io_uring_unavailable_reason();

} // namespace ringlet::server
