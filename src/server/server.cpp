#include "ringlet/server/server.hpp"

#include "ringlet/base/log.hpp"
#include "ringlet/net/listener.hpp"
#include "ringlet/runtime/ops.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/server/certificates.hpp"
#include "ringlet/server/demo_site.hpp"
#include "server/control.hpp"
#include "server/wall_clock.hpp"
#include "server/worker.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <thread>

namespace ringlet::server {

namespace {

std::vector<int> allowed_cpus() {
    std::vector<int> cpus;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int i = 0; i < CPU_SETSIZE; ++i) {
            if (CPU_ISSET(i, &set)) cpus.push_back(i);
        }
    }
    return cpus;
}

// Writes the embedded demo site to a fresh private folder; returns it (empty on failure).
std::string materialize_demo_site(std::string& error) {
    char tmpl[] = "/tmp/ringlet-demo-XXXXXX";
    if (!::mkdtemp(tmpl)) {
        error = std::string("cannot create a folder for the demo site: ") + std::strerror(errno);
        return {};
    }
    for (const embedded_file& f : demo_site()) {
        std::ofstream out(std::string(tmpl) + "/" + std::string(f.name), std::ios::binary);
        out.write(f.contents.data(), static_cast<std::streamsize>(f.contents.size()));
        if (!out) {
            error = "cannot write the demo site into " + std::string(tmpl);
            return {};
        }
    }
    return tmpl;
}

bool write_pidfile(const std::string& path, std::string& error) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << ::getpid() << "\n";
        if (!out) {
            error = "cannot write pidfile " + path;
            return false;
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        error = "cannot write pidfile " + path + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

} // namespace

std::string io_uring_unavailable_reason() {
    io_uring ring;
    int rc = io_uring_queue_init(4, &ring, 0);
    if (rc == 0) {
        io_uring_queue_exit(&ring);
        return {};
    }
    std::string why = "io_uring is not available here (" + std::string(std::strerror(-rc)) + ")";
    std::ifstream knob("/proc/sys/kernel/io_uring_disabled");
    int disabled = 0;
    if (knob >> disabled && disabled != 0) {
        why += ": the kernel setting kernel.io_uring_disabled is " + std::to_string(disabled) +
               " (set it to 0)";
    } else if (rc == -EPERM) {
        why += ": a seccomp profile blocks it (Docker's default does; run with a profile that "
               "allows io_uring_setup, io_uring_enter and io_uring_register)";
    } else if (rc == -ENOSYS) {
        why += ": this kernel was built without it, or a seccomp profile hides it";
    }
    return why + ". ringlet needs io_uring (Linux 6.1 or newer).";
}

using detail::address_of;
using detail::control;
using detail::https_port_of;
using detail::open_address;
using detail::reload;
using detail::wanted_listeners;
using detail::write_status;

namespace {

struct loop_state {
    bool draining = false;
    bool finished = false; // every reactor has stopped
    std::int64_t hard_deadline = 0;
};

// Periodic work: certificate maintenance, RCU reclamation, and noticing that the reactors are done.
template <class Exit>
rt::task<void> tick(control& c, loop_state& loop, Exit exit_now) {
    for (;;) {
        bool all_done = true;
        for (auto& w : c.reactors) all_done = all_done && w->done;
        if (all_done) {
            loop.finished = true;
            co_return;
        }
        if (loop.draining && rt::reactor::clock_now() > loop.hard_deadline) {
            RINGLET_LOG(error) << "reactors did not stop in time; exiting";
            exit_now(1);
        }
        if (c.certs && !loop.draining) c.certs->sync_challenges(unix_now());
        if (c.certs && !loop.draining && unix_now() >= c.certs->next_due()) {
            if (auto table = c.certs->maintain(unix_now())) {
                RINGLET_LOG(info) << "publishing certificate generation " << table->generation();
                c.certificates.publish(std::move(table));
            }
        }
        // Old generations are freed once every reactor has passed a quiescent point.
        if (rt::rcu_domain::global().pending()) rt::rcu_domain::global().reclaim();
        co_await rt::sleep_for(loop.draining ? 50'000'000 : 250'000'000);
    }
}

template <class Exit>
rt::task<void> watch_signals(control& c, int sfd, loop_state& loop, Exit exit_now) {
    while (!loop.finished) {
        signalfd_siginfo si{};
        auto n = co_await rt::async_read(sfd, {reinterpret_cast<char*>(&si), sizeof si}, 0);
        if (!n || *n != sizeof si) {
            if (n || n.error() != std::errc::operation_canceled) co_await rt::sleep_for(50'000'000);
            continue;
        }
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGQUIT || (loop.draining && (sig == SIGTERM || sig == SIGINT))) {
            RINGLET_LOG(warn) << "signal " << ::strsignal(sig) << ": exiting now";
            exit_now(sig == SIGQUIT ? 0 : 1);
        }
        if (sig == SIGTERM || sig == SIGINT) {
            RINGLET_LOG(info) << "signal " << ::strsignal(sig) << ": draining (up to "
                              << c.opts.drain_timeout_ns / 1'000'000'000 << " s)";
            loop.draining = true;
            loop.hard_deadline = rt::reactor::clock_now() + c.opts.drain_timeout_ns + 5'000'000'000;
            if (c.certs) c.certs->stop();
            for (auto& w : c.reactors) {
                std::int64_t t = c.opts.drain_timeout_ns;
                w->reactor->post([t] { detail::drain_current_worker(t); });
            }
        } else if (sig == SIGUSR1 && !loop.draining) {
            std::string message;
            bool ok = reload(c, message);
            if (ok) {
                RINGLET_LOG(info) << "reload: " << message;
            } else {
                RINGLET_LOG(error) << "reload failed: " << message;
            }
            write_status(c, ok, message);
        } else {
            RINGLET_LOG(info) << "signal " << ::strsignal(sig) << " ignored";
        }
    }
}

} // namespace

int run_server(server_options opts) {
    if (std::string why = io_uring_unavailable_reason(); !why.empty()) {
        RINGLET_LOG(error) << why;
        return 1;
    }
    std::string error;
    std::string demo_dir;
    if (opts.demo) {
        demo_dir = materialize_demo_site(error);
        if (demo_dir.empty()) {
            RINGLET_LOG(error) << error;
            return 1;
        }
        opts.sites.clear();
        opts.sites.push_back(site_spec{{}, demo_dir, false, {}, {}});
    } else if (opts.sites.empty()) {
        std::error_code ec;
        opts.sites.push_back(
            site_spec{{}, std::filesystem::current_path(ec).string(), false, {}, {}});
    }
    struct cleanup {
        std::string dir, pidfile, status;
        ~cleanup() {
            std::error_code ec;
            if (!dir.empty()) std::filesystem::remove_all(dir, ec);
            if (!pidfile.empty()) std::filesystem::remove(pidfile, ec);
            if (!status.empty()) std::filesystem::remove(status, ec);
        }
    } cleanup_guard{demo_dir, {}, {}};

    // Every connection and open file is a descriptor: use all the hard limit allows.
    if (rlimit lim{}; ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }

    if (opts.log_level) log::set_level(*opts.log_level);
    control c;
    auto sites = site_table::build(opts.sites, error);
    if (!sites) {
        RINGLET_LOG(error) << error;
        return 1;
    }
    c.sites.publish(std::make_shared<const site_table>(std::move(*sites)));

    std::vector<int> cpus = allowed_cpus();
    c.workers =
        opts.workers ? opts.workers : static_cast<unsigned>(std::max<std::size_t>(1, cpus.size()));

    // Listening sockets first: a taken port stops us here, before serving.
    std::map<std::string, std::vector<unique_fd>> fds;
    for (const auto& [addr, secure] : wanted_listeners(opts)) {
        auto f = open_address(address_of(addr), c.workers, error);
        if (!f) {
            RINGLET_LOG(error) << error;
            return 1;
        }
        c.bound[addr] = net::endpoint::of_socket((*f)[0].get()).port();
        c.listeners[addr] = secure;
        fds.emplace(addr, std::move(*f));
    }

    // Certificates, before any reactor starts: a bad certificate file is a startup error.
    if (opts.tls) {
        std::string storage = opts.storage.empty() ? default_storage_dir() : opts.storage;
        auto m = certificate_manager::create(opts.sites, storage, c.workers, unix_now(), error,
                                             opts.strict_sni);
        if (!m) {
            RINGLET_LOG(error) << error;
            return 1;
        }
        c.certs = std::move(*m);
        c.certs->set_challenge_publisher(
            [&c](std::shared_ptr<const tls::challenge_table> t) { c.challenges.publish(t); });
        c.certificates.publish(c.certs->table());
        if (std::string root = c.certs->root_path(); !root.empty()) {
            RINGLET_LOG(info) << "internal CA root: " << root
                              << " (trust it: ringlet trust --storage " << storage << ")";
        }
    }
    c.opts = std::move(opts);

    // Signals go to the signalfd only: block them before any thread exists so all inherit it.
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGHUP}) sigaddset(&sigs, s);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    unique_fd sfd(::signalfd(-1, &sigs, SFD_CLOEXEC));

    unique_fd access_fd;
    int access_fd_raw = -1;
    if (c.opts.access_log == "stderr") {
        access_fd_raw = STDERR_FILENO;
    } else if (c.opts.access_log != "off" && !c.opts.access_log.empty()) {
        access_fd.reset(
            ::open(c.opts.access_log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
        if (!access_fd) {
            RINGLET_LOG(error) << "access log " << c.opts.access_log << ": "
                               << std::strerror(errno);
            return 1;
        }
        access_fd_raw = access_fd.get();
    }

    detail::worker_config wc;
    wc.access_log_fd = access_fd_raw;
    wc.sites = &c.sites;
    wc.certificates = &c.certificates;
    wc.challenges = &c.challenges;
    wc.limits = c.opts.limits;
    wc.https_redirect = c.opts.tls;
    wc.https_port = https_port_of(c);
    wc.pin_cpu = c.opts.pin_cpus;
    for (unsigned i = 0; i < c.workers; ++i) {
        auto w = std::make_unique<detail::worker>();
        w->index = i;
        w->cpu = cpus.empty() ? -1 : cpus[i % cpus.size()];
        for (auto& [addr, list] : fds) {
            w->initial_listeners.push_back({addr, c.listeners[addr], std::move(list[i])});
        }
        std::promise<std::string> ready;
        auto fut = ready.get_future();
        w->start(wc, std::move(ready));
        std::string err = fut.get();
        c.reactors.push_back(std::move(w));
        if (!err.empty()) {
            RINGLET_LOG(error) << err;
            for (auto& o : c.reactors) {
                if (o->reactor && !o->done)
                    o->reactor->post([] { detail::drain_current_worker(0); });
            }
            for (auto& o : c.reactors) o->thread.join();
            return 1;
        }
    }

    if (!c.opts.pidfile.empty()) {
        if (!write_pidfile(c.opts.pidfile, error)) {
            RINGLET_LOG(error) << error;
        } else {
            cleanup_guard.pidfile = c.opts.pidfile;
            c.status_path = c.opts.pidfile + ".status";
            cleanup_guard.status = c.status_path;
            write_status(c, true, "generation 1: started");
        }
    }
    for (const site& s : c.sites.current()->sites()) {
        std::string hosts;
        for (const auto& h : s.spec.hosts) hosts += (hosts.empty() ? "" : ",") + h;
        RINGLET_LOG(info) << "site " << (hosts.empty() ? "(default)" : hosts) << " -> "
                          << s.spec.root << (demo_dir.empty() ? "" : " (built-in demo site)");
    }
    for (const auto& [addr, secure] : c.listeners) {
        std::string shown = address_of(addr);
        if (auto e = net::endpoint::parse(shown)) {
            e->addr.ss_family == AF_INET6
                ? reinterpret_cast<sockaddr_in6*>(&e->addr)->sin6_port = htons(c.bound[addr])
                : reinterpret_cast<sockaddr_in*>(&e->addr)->sin_port = htons(c.bound[addr]);
            shown = e->to_string();
        }
        if (secure) {
            RINGLET_LOG(info) << "listening on https://" << shown << " with " << c.workers
                              << " reactor(s)";
        } else if (c.opts.tls) {
            RINGLET_LOG(info) << "redirecting http://" << shown << " to https";
        } else {
            RINGLET_LOG(info) << "listening on http://" << shown << " with " << c.workers
                              << " reactor(s)";
        }
    }

    // Leaves without waiting for the reactors (their threads are still running, so no
    // destructors may run), but still removes what this process created.
    auto exit_now = [&](int code) {
        std::error_code ec;
        if (!demo_dir.empty()) std::filesystem::remove_all(demo_dir, ec);
        if (!cleanup_guard.pidfile.empty()) std::filesystem::remove(cleanup_guard.pidfile, ec);
        if (!cleanup_guard.status.empty()) std::filesystem::remove(cleanup_guard.status, ec);
        std::fflush(nullptr);
        ::_exit(code);
    };
    // The control thread runs its own small reactor: signals, the periodic maintenance and the
    // ACME client (whose HTTPS requests and polling waits must not stall reloads) are coroutines
    // on it. It never serves a connection.
    rt::reactor_options ctl_options;
    ctl_options.sq_entries = 64;
    ctl_options.recv_buffers = 64;
    auto ctl = rt::reactor::create(c.workers, ctl_options);
    if (!ctl) {
        RINGLET_LOG(error) << "control thread: cannot create its io_uring: "
                           << ctl.error().message();
        exit_now(1);
    }
    loop_state loop;
    (*ctl)->spawn(watch_signals(c, sfd.get(), loop, exit_now));
    (*ctl)->spawn(tick(c, loop, exit_now));
    while (!loop.finished) (*ctl)->run_once(true);
    // The ACME client's jobs see `stopping` at their next step; give them a moment to end.
    if (c.certs) c.certs->stop();
    rt::cancel_fd_now(sfd.get());
    std::int64_t give_up = rt::reactor::clock_now() + 3'000'000'000;
    while ((*ctl)->live_tasks() > 0 && rt::reactor::clock_now() < give_up) (*ctl)->run_once(true);
    if ((*ctl)->live_tasks() > 0) {
        RINGLET_LOG(warn) << "certificate work still in flight at exit; stopping it";
        for (auto& w : c.reactors) w->thread.join();
        exit_now(0);
    }
    for (auto& w : c.reactors) w->thread.join();
    RINGLET_LOG(info) << "stopped";
    return 0;
}

} // namespace ringlet::server
