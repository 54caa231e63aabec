// ringlet-load: the io_uring HTTP/HTTPS load generator (options.hpp: the command line;
// driver.hpp: the run; report.hpp: what is printed).
//
// Exit status: 0 when at least one response was a 2xx; 1 when none was (every request failed
// or got another status), or when the run could not start (io_uring not allowed); 2 for a bad
// command line, or inputs refused before any traffic (a target that is not loopback without
// --allow-remote, a CA file that does not load, a name that does not resolve).
//
// SIGINT/SIGTERM end the run early and the report is still printed; a second one exits at
// once. The progress line goes to stderr (a terminal, unless --progress/--no-progress), the
// report to stdout, so `--json > out.json` stays clean.
#include "load/driver.hpp"
#include "load/options.hpp"
#include "load/report.hpp"

#include <csignal>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <pthread.h>
#include <unistd.h>

using namespace ringlet;

namespace {

void put(std::FILE* f, std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), f);
}

std::uint64_t successes(const load::load_report& r) {
    std::uint64_t n = 0;
    for (int code = 200; code < 300; ++code) n += r.status[static_cast<std::size_t>(code)];
    return n;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    std::string error;
    auto parsed = load::parse_load_options(args, error);
    if (!parsed) {
        put(stderr, "ringlet-load: " + error + "\nTry 'ringlet-load --help'.\n");
        return load::usage_exit_code;
    }
    const load::load_options& o = *parsed;
    if (o.help) {
        put(stdout, load::load_usage());
        return 0;
    }
    if (o.version) {
        put(stdout, "ringlet-load " RINGLET_VERSION "\n");
        return 0;
    }

    auto d = load::driver::create(o, error);
    if (!d) {
        put(stderr, "ringlet-load: " + error + "\n");
        return load::usage_exit_code;
    }
    // Signals are taken synchronously on this thread; the workers inherit the blocked mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    if (!(*d)->start(error)) {
        put(stderr, "ringlet-load: " + error + "\n");
        return 1;
    }

    const bool progress = load::show_progress(o, isatty(STDERR_FILENO) == 1);
    load::progress_sample previous;
    double next_line = 1.0;
    bool interrupted = false;
    while (!(*d)->finished()) {
        timespec tick{0, 100'000'000};
        if (sigtimedwait(&stop_signals, nullptr, &tick) > 0) {
            if (interrupted) _exit(130);
            interrupted = true;
            (*d)->stop();
        }
        if (!progress) continue;
        load::progress_sample now = (*d)->sample();
        if (now.elapsed_seconds < next_line) continue;
        // Appended, not "literal" + string: g++ 12 warns falsely (-Wrestrict) about that.
        std::string line = "\r";
        line += load::format_progress(now, previous, load::effective_duration(o), o.requests);
        line += "\x1b[K";
        put(stderr, line);
        std::fflush(stderr);
        previous = now;
        next_line += 1.0;
    }
    if (progress) put(stderr, "\r\x1b[K");

    load::load_report report = (*d)->join();
    put(stdout, o.json ? load::format_json(report, o) : load::format_text(report));
    std::fflush(stdout);
    if (report.failed() > 0) {
        std::string why = (*d)->first_failure();
        if (!why.empty()) put(stderr, "ringlet-load: first failure: " + why + "\n");
    }
    return successes(report) > 0 ? 0 : 1;
}
