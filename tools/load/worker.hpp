// worker: one ringlet-load thread: its own reactor (io_uring), TLS client context, connections
// and load_report. Threads share nothing but run_state: the configuration (read-only), the
// request budget of `-n` (one atomic counter) and a start barrier.
//
// Each connection is a coroutine that keeps up to `pipeline` requests in flight: it claims
// requests from the budget to fill its window, connects (and handshakes) if it has no
// connection, writes the new requests in one send, reads the oldest response (exchange.hpp),
// and tops the window up again. A sliding window, not write-N-then-read-N: the pipeline never
// drains between batches, which is also how h2load -m pipelines, so the two compare. It
// reconnects when the server closes, something failed, or the mode is `handshake` (which
// closes after every response and, with --resume, offers the previous connection's TLS
// session on the next handshake). Latency runs from each request's own send.
//
// Stopping: at the duration's end (a timer on the reactor) or on request_stop() (another
// thread, e.g. on SIGINT) the worker aborts every connection's I/O, so requests in flight end
// unfinished (sent, neither answered nor failed) and the connections close at once. With `-n`
// only, nothing is aborted: the budget runs out and every claimed request finishes (bounded by
// --timeout). The thread's elapsed time ends at the stop, or at its last finished request.
#pragma once

#include "load/exchange.hpp"
#include "load/options.hpp"
#include "load/report.hpp"
#include "ringlet/net/endpoint.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/tls/client_context.hpp"

#include <atomic>
#include <barrier>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ringlet::load {

// Everything a connection needs about its target, computed once before the run.
struct target_plan {
    const target* where = nullptr;
    std::vector<net::endpoint> endpoints; // tried in order until one connects
    std::string requests;                 // `pipeline` copies of the request, back to back
    std::size_t request_size = 0;
    std::string server_name; // SNI and certificate name (https only)
};

// The request every connection sends, with the headers of `o` (Connection: close in handshake
// mode, so the server closes too; no Host when -H gives one).
std::string build_request(const target& t, const load_options& o);

struct run_state {
    run_state(const load_options& o, unsigned threads) : options(o), start(threads + 1) {}

    const load_options& options;
    std::vector<target_plan> plans;
    std::optional<std::uint64_t> limit;      // -n
    std::optional<std::int64_t> duration_ns; // -d (or the default)
    std::atomic<std::uint64_t> claimed{0};
    std::barrier<> start;             // every worker set up, plus the driver
    std::atomic<bool> abandon{false}; // a worker failed to set up: nobody runs

    // Takes up to `want` requests from the -n budget; 0 when it is spent.
    unsigned claim(unsigned want) noexcept;
};

// Counters published for the progress line (relaxed stores by the worker, loads by the driver).
struct live_counters {
    std::atomic<std::uint64_t> answered{0}, failed{0}, bytes{0}, handshakes{0};
    std::atomic<bool> done{false};
};

class worker {
public:
    // Runs connections [first, first + count) of the run; connection i targets plan i % plans.
    worker(run_state& run, unsigned index, unsigned first, unsigned count);
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    // The thread body: set up, wait at run.start, run the connections, fill report().
    void run();
    // Any thread: stop as at the end of the duration (no-op once finished).
    void request_stop();

    const load_report& report() const noexcept { return report_; }
    const std::string& error() const noexcept { return error_; } // setup failure, if any
    // The first connect or TLS failure, explained ("connect to 127.0.0.1:1: Connection
    // refused"), or empty: the report counts failures, this says why.
    const std::string& first_failure() const noexcept { return first_failure_; }
    const live_counters& live() const noexcept { return live_; }

private:
    rt::task<void> connection(unsigned slot, const target_plan& plan);
    rt::task<std::optional<error_kind>> open(std::optional<link>& io, unsigned slot,
                                             const target_plan& plan, WOLFSSL_SESSION* resume);
    rt::task<void> close(std::optional<link>& io, unsigned slot);
    void stop_now(std::int64_t at);
    void fail(unsigned n, error_kind k) noexcept;
    // A request finished at `at`: the thread's elapsed time runs until then (not past a stop).
    void finished(std::int64_t at) noexcept {
        if (!stopping_ && at > end_ns_) end_ns_ = at;
    }
    void note(std::string text);
    void publish() noexcept;
    static void on_deadline(rt::timer& t);

    run_state& run_;
    unsigned index_, first_, count_;
    tls::ctx_ptr ctx_;
    std::vector<net::tcp_stream*> live_streams_; // per slot: what stop_now() aborts
    bool stopping_ = false;
    std::int64_t start_ns_ = 0, end_ns_ = 0;
    std::uint64_t answered_ = 0, failed_ = 0;
    load_report report_;
    std::string error_, first_failure_;
    live_counters live_;

    std::mutex reactor_mu_; // guards reactor_ against request_stop() from other threads
    rt::reactor* reactor_ = nullptr;
    std::atomic<bool> stop_requested_{false};
};

} // namespace ringlet::load
