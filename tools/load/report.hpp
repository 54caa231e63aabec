// load_report: what a ringlet-load run measured, and the three ways it is shown.
//
// Each driver thread fills its own load_report with no sharing (counting is plain increments)
// and the reports are merged after the run: counters add up, latencies merge exactly (see
// histogram.hpp), and elapsed time is the longest thread's, since the threads ran side by side.
//
// Definitions the numbers rely on:
//  - a request is "sent" when its first byte has been handed to the kernel; it is "answered"
//    when a complete response was parsed (any status code, counted per code); it "failed" when
//    it ended with an error of one kind below instead. A request failing before it was sent
//    (connect or TLS error on its connection) counts as failed, not as sent;
//  - latency is from the send to the last byte of the response, for answered requests only;
//  - bytes_received counts HTTP bytes (heads and bodies) after TLS decryption;
//  - rates divide by elapsed_seconds (0 when it is 0); MB is 10^6 bytes.
//
// Formatting is pure: given the numbers, it returns text. --json output follows the schema
// documented above format_json(); its field names and meanings do not change within a schema
// version ("ringlet-load/1"); new fields may be added.
#pragma once

#include "load/histogram.hpp"
#include "load/options.hpp"
#include "ringlet/base/json_writer.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringlet::load {

enum class error_kind : unsigned char {
    connect,      // connect() failed or was refused
    tls,          // handshake failure, certificate rejected, bad record
    timeout,      // no complete response within --timeout
    reset,        // the peer closed or reset the connection with requests outstanding
    bad_response, // unparsable response, or a status outside 100..599
};
inline constexpr std::size_t error_kind_count = 5;
std::string_view error_kind_name(error_kind k); // "connect", "tls", ... "bad_response"

struct load_report {
    std::uint64_t requests_sent = 0;
    std::array<std::uint64_t, 600> status{}; // answered requests by status code (100..599)
    std::array<std::uint64_t, error_kind_count> errors{};
    std::uint64_t bytes_received = 0;
    std::uint64_t connections = 0;        // connections established (TCP)
    std::uint64_t handshakes = 0;         // TLS handshakes completed, resumed ones included
    std::uint64_t resumed_handshakes = 0; // of which resumed with a session ticket
    double elapsed_seconds = 0;
    histogram latency; // ns

    // A complete response with `code`; a code outside 100..599 counts as bad_response.
    void count_status(int code) noexcept;
    void count_error(error_kind k) noexcept { ++errors[static_cast<std::size_t>(k)]; }

    std::uint64_t answered() const noexcept;
    std::uint64_t failed() const noexcept;
    void merge(const load_report& other) noexcept;
};

// The human report: a rates table, a latency table (p50 p90 p99 p99.9 max mean), then the
// request, status, error and handshake lines. Ends with a newline.
std::string format_text(const load_report& r);

// The --json report, one object (schema "ringlet-load/1"); numbers are JSON numbers, rates and
// latencies with three decimals, latencies in microseconds:
// {
//   "schema": "ringlet-load/1",
//   "targets": ["https://localhost:8443/"],      URLs as given
//   "mode": "keepalive" | "handshake" | "bulk",
//   "connections": 64, "threads": 2, "pipeline": 1,   as configured
//   "elapsed_seconds": 10.002,
//   "requests": {"sent": N, "answered": N, "failed": N, "per_second": X},   per_second: answered
//   "bytes_received": N, "megabytes_per_second": X,
//   "connections_opened": N,
//   "handshakes": {"total": N, "resumed": N, "per_second": X},
//   "status": {"200": N, ...},                   only codes seen, ascending
//   "errors": {"connect": N, "tls": N, "timeout": N, "reset": N, "bad_response": N},
//   "latency_us": {"count": N, "min": X, "mean": X, "p50": X, "p90": X, "p99": X,
//                  "p99_9": X, "max": X, "saturated": N}     all 0 when count is 0
// }
std::string format_json(const load_report& r, const load_options& o);

// Live progress: counters at one moment of the run.
struct progress_sample {
    double elapsed_seconds = 0;
    std::uint64_t answered = 0;
    std::uint64_t failed = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t handshakes = 0;
};

// One line (no newline; the driver writes "\r" + line + erase-to-end-of-line): elapsed time (out
// of the duration when bounded), answered requests (out of the total when bounded), the rates
// over the window since `previous` (the whole run if the window is empty), failures.
//   "[  3.0s/10s]  30123 answered  10041 req/s  10.27 MB/s  0 failed"
std::string format_progress(const progress_sample& now, const progress_sample& previous,
                            std::optional<double> duration,
                            std::optional<std::uint64_t> total_requests);

// JSON string literal for `s` (with the quotes): escapes '"', '\\', control characters and DEL;
// valid UTF-8 passes through; an invalid byte becomes U+FFFD (base's sanitized mode).
inline std::string json_string(std::string_view s) {
    return ringlet::json_string(s, json_bytes::sanitized);
}

// "850ns", "12.3us", "1.23ms", "2.50s": three significant digits, ASCII only.
std::string format_duration_ns(double ns);

} // namespace ringlet::load
