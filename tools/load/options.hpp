// load_options: the command line of ringlet-load, the io_uring HTTP/HTTPS load generator.
//
// Parsing is pure (no clock, no environment, no DNS, no terminal query) so every rule below is
// unit-tested; the driver resolves what needs the machine (progress_mode::automatic against
// isatty(2), host names) afterwards. Every bad input is refused with one message that names the
// option as typed and the offending value; the driver prints it with a hint to --help and exits
// with usage_exit_code.
//
// Syntax: `--name value`, `--name=value`, `-x value` and `-xVALUE`; `--` ends the options; the
// remaining arguments (and any argument not starting with '-') are URLs. `args` excludes the
// program name. --help and --version win over everything else (nothing else is checked then).
//
// How long a run lasts:
//   -d only          until the duration has passed;
//   -n only          until n requests have *finished*: answered, or failed (connect, TLS,
//                    timeout, reset, bad response). Every request is bounded by --timeout, so
//                    such a run always ends even against a server that stopped answering;
//   -d and -n        whichever comes first;
//   neither          -d 10 (default_duration_seconds), like wrk.
//
// Safety: only loopback targets (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, "localhost") unless
// --allow-remote, so a typo does not turn a benchmark into an attack on someone else's server.
// A host name other than "localhost" is remote even if it would resolve to loopback: the check
// is on what was typed, before any DNS.
#pragma once

#include "load/target.hpp"
#include "ringlet/base/result.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::load {

inline constexpr int usage_exit_code = 2;
inline constexpr double default_duration_seconds = 10;

enum class load_mode {
    keepalive, // persistent connections, requests back to back (optionally pipelined)
    handshake, // a new connection (full TLS handshake, or a resumption with --resume) per request
    bulk,      // persistent connections fetching large bodies: the interesting number is MB/s
};

enum class progress_mode { automatic, on, off };

struct load_options {
    std::vector<target> targets; // connections are spread round-robin over them
    unsigned connections = 64;   // total, over all threads
    unsigned threads = 1;        // default: min(CPUs, connections)
    std::optional<double> duration_seconds;
    std::optional<std::uint64_t> requests;
    load_mode mode = load_mode::keepalive;
    bool resume = false;   // handshake mode: resume with session tickets after the first
    std::string cacert;    // PEM file to verify servers with; empty: the system store
    bool insecure = false; // do not verify certificates
    std::string sni;       // server name to send instead of each target's host (empty: host)
    std::vector<header_field> headers;
    unsigned pipeline = 1;       // requests in flight per connection (HTTP/1.1 pipelining)
    double timeout_seconds = 10; // per request, from send to the last byte of the response
    bool json = false;
    bool allow_remote = false;
    progress_mode progress = progress_mode::automatic;
    bool help = false;
    bool version = false;
};

// `cpus` is what the default thread count is derived from (the two-argument form asks
// std::thread::hardware_concurrency(), at least 1). On failure `error` holds the message.
result<load_options> parse_load_options(std::span<const std::string_view> args, std::string& error,
                                        unsigned cpus);
result<load_options> parse_load_options(std::span<const std::string_view> args, std::string& error);

// Whether to print the live progress line, given whether stderr is a terminal.
inline bool show_progress(const load_options& o, bool stderr_is_tty) {
    return o.progress == progress_mode::on ||
           (o.progress == progress_mode::automatic && stderr_is_tty);
}

// The effective run bound (see the file comment): the duration to stop at, if any.
inline std::optional<double> effective_duration(const load_options& o) {
    if (o.duration_seconds) return o.duration_seconds;
    if (o.requests) return std::nullopt;
    return default_duration_seconds;
}

std::string_view mode_name(load_mode m);

// The --help text.
std::string_view load_usage();

} // namespace ringlet::load
