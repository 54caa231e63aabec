// driver: one ringlet-load run. It turns parsed options into per-target plans (addresses
// resolved once, the request bytes built once), checks what can be checked before any traffic
// (every address is loopback unless --allow-remote, the CA file loads), then runs one worker
// thread per --threads with the connections spread evenly over them (worker.hpp), and merges
// their reports at the end.
//
// The driver's own thread (main) stays free while the workers run: it samples the workers'
// published counters for the progress line and may stop the run early (SIGINT); it never
// touches a worker's reactor except through post().
#pragma once

#include "load/options.hpp"
#include "load/report.hpp"
#include "load/worker.hpp"
#include "ringlet/base/result.hpp"

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ringlet::load {

class driver {
public:
    // Resolves and checks everything the run needs. Errors concern the command line's inputs
    // (a target that is not loopback, a CA file that does not load, a name that does not
    // resolve): `error` says which, and nothing has been sent anywhere.
    static result<std::unique_ptr<driver>> create(const load_options& o, std::string& error);
    ~driver(); // stops and joins threads still running
    driver(const driver&) = delete;
    driver& operator=(const driver&) = delete;

    // Starts the worker threads and returns once all of them are set up and running. False,
    // with `error` set and every thread joined, when one could not set up (io_uring not
    // allowed, out of memory): then no request was sent.
    bool start(std::string& error);

    // Counters of the run so far (any time after start()); cheap, no locks.
    progress_sample sample() const;
    // Every worker has finished: join() will not wait.
    bool finished() const;
    // Ends the run now, as at the end of the duration (requests in flight stay unfinished).
    void stop();
    // Waits for the workers and returns their merged report. Call once, after start().
    load_report join();
    // The first connect/TLS failure any worker explained, or empty. After join().
    std::string first_failure() const;

private:
    explicit driver(const load_options& o);

    const load_options& options_;
    std::unique_ptr<run_state> run_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::vector<std::thread> threads_;
    std::int64_t start_ns_ = 0;
};

} // namespace ringlet::load
