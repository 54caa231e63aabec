#include "ringlet/server/server.hpp"

#include "ringlet/base/log.hpp"
#include "ringlet/net/listener.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/server/certificates.hpp"
#include "ringlet/server/demo_site.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <thread>

namespace ringlet::server {

namespace {

struct worker {
    unsigned index = 0;
    int cpu = -1;
    unique_fd http_listen, https_listen; // either may be absent
    rt::reactor* reactor = nullptr;      // valid between ready and exit
    std::thread thread;
    std::atomic<bool> done{false};
};

// Per-reactor objects that live on the worker thread's stack.
struct worker_locals {
    reactor_state state;
    net::acceptor* acceptors[2] = {nullptr, nullptr}; // http, https
    rt::timer drain_deadline;
};

rt::task<void> accept_loop(worker_locals& w, unique_fd& listen, bool secure) {
    net::acceptor acc(listen.get());
    w.acceptors[secure] = &acc;
    for (;;) {
        auto fd = co_await acc.async_accept();
        if (!fd) break; // closed for shutdown
        rt::this_reactor().spawn(secure ? serve_tls_connection(w.state, *fd)
                                        : serve_connection(w.state, *fd));
    }
    w.acceptors[secure] = nullptr;
    listen.reset(); // refuse new connections from here on
}

void on_drain_deadline(rt::timer& t) {
    auto* w = static_cast<worker_locals*>(t.context());
    if (w->state.connection_count) {
        RINGLET_LOG(warn) << "drain timeout: closing " << w->state.connection_count
                          << " connection(s) still busy";
    }
    abort_connections(w->state);
}

void start_drain(worker_locals& w, std::int64_t timeout_ns) {
    auto& r = rt::this_reactor();
    for (net::acceptor* a : w.acceptors) {
        if (a) a->close();
    }
    begin_drain(w.state);
    w.drain_deadline.set_callback(&on_drain_deadline, &w);
    r.timers().arm(w.drain_deadline, r.now() + timeout_ns);
    r.stop();
}

thread_local worker_locals* current_locals = nullptr;

void drain_current_worker(std::int64_t timeout_ns) {
    if (current_locals) start_drain(*current_locals, timeout_ns);
}

void pin_to_cpu(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void worker_main(worker& w, const site_table& sites, const server_options& opts,
                 const rt::rcu_cell<tls::cert_table>* certificates, std::uint16_t https_port,
                 std::promise<std::string> ready) {
    log::set_thread_name("reactor-" + std::to_string(w.index));
    if (opts.pin_cpus) pin_to_cpu(w.cpu);
    auto r = rt::reactor::create(w.index);
    if (!r) {
        ready.set_value("cannot create io_uring reactor: " + r.error().message());
        w.done = true;
        return;
    }
    worker_locals locals{reactor_state(sites, opts.limits), {nullptr, nullptr}, rt::timer()};
    locals.state.reactor_index = w.index;
    locals.state.certificates = certificates;
    locals.state.https_redirect = opts.tls;
    locals.state.https_port = https_port;
    current_locals = &locals;
    w.reactor = r->get();
    if (w.http_listen) (*r)->spawn(accept_loop(locals, w.http_listen, false));
    if (w.https_listen) (*r)->spawn(accept_loop(locals, w.https_listen, true));
    ready.set_value({});
    (*r)->run();
    current_locals = nullptr;
    w.done = true;
}

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
        std::string dir, pidfile;
        ~cleanup() {
            std::error_code ec;
            if (!dir.empty()) std::filesystem::remove_all(dir, ec);
            if (!pidfile.empty()) std::filesystem::remove(pidfile, ec);
        }
    } cleanup_guard{demo_dir, {}};

    auto sites = site_table::build(opts.sites, error);
    if (!sites) {
        RINGLET_LOG(error) << error;
        return 1;
    }

    std::vector<int> cpus = allowed_cpus();
    unsigned n =
        opts.workers ? opts.workers : static_cast<unsigned>(std::max<std::size_t>(1, cpus.size()));

    // One listening socket per reactor and address; a taken port stops us here, before serving.
    auto open = [&](const std::string& text) -> result<std::vector<unique_fd>> {
        auto where = net::endpoint::parse(text);
        if (!where) {
            RINGLET_LOG(error) << "invalid listen address '" << text
                               << "' (expected ADDR:PORT, e.g. 127.0.0.1:8443 or [::1]:8443)";
            return fail_errno(EINVAL);
        }
        auto fds = net::open_listeners(*where, n);
        if (!fds) {
            RINGLET_LOG(error) << "cannot listen on " << text << ": " << fds.error();
        }
        return fds;
    };
    std::vector<unique_fd> http_fds, https_fds;
    std::string http_bound, https_bound;
    std::uint16_t https_port = 443;
    if (opts.tls) {
        auto fds = open(opts.https_listen);
        if (!fds) return 1;
        https_fds = std::move(*fds);
        auto ep = net::endpoint::of_socket(https_fds[0].get());
        https_bound = ep.to_string();
        https_port = ep.port();
    }
    if (!opts.http_listen.empty()) {
        auto fds = open(opts.http_listen);
        if (!fds) return 1;
        http_fds = std::move(*fds);
        http_bound = net::endpoint::of_socket(http_fds[0].get()).to_string();
    }

    // Certificates, before any reactor starts: a bad certificate file is a startup error.
    std::unique_ptr<certificate_manager> certs;
    // Reactors read the current table from here; the control loop below publishes new ones.
    std::optional<rt::rcu_cell<tls::cert_table>> cert_cell;
    if (opts.tls) {
        std::string storage = opts.storage.empty() ? default_storage_dir() : opts.storage;
        auto m = certificate_manager::create(opts.sites, storage, n, ::time(nullptr), error,
                                             opts.strict_sni);
        if (!m) {
            RINGLET_LOG(error) << error;
            return 1;
        }
        certs = std::move(*m);
        cert_cell.emplace(rt::rcu_domain::global(), certs->table());
        if (std::string root = certs->root_path(); !root.empty()) {
            RINGLET_LOG(info) << "internal CA root: " << root
                              << " (trust it: ringlet trust --storage " << storage << ")";
        }
    }

    // Signals go to the signalfd only: block them before any thread exists so all inherit it.
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGHUP}) sigaddset(&sigs, s);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    unique_fd sfd(::signalfd(-1, &sigs, SFD_CLOEXEC));

    std::vector<std::unique_ptr<worker>> workers;
    for (unsigned i = 0; i < n; ++i) {
        auto w = std::make_unique<worker>();
        w->index = i;
        w->cpu = cpus.empty() ? -1 : cpus[i % cpus.size()];
        if (!http_fds.empty()) w->http_listen = std::move(http_fds[i]);
        if (!https_fds.empty()) w->https_listen = std::move(https_fds[i]);
        std::promise<std::string> ready;
        auto fut = ready.get_future();
        w->thread = std::thread(worker_main, std::ref(*w), std::cref(*sites), std::cref(opts),
                                cert_cell ? &*cert_cell : nullptr, https_port, std::move(ready));
        std::string err = fut.get();
        workers.push_back(std::move(w));
        if (!err.empty()) {
            RINGLET_LOG(error) << err;
            for (auto& o : workers) {
                if (o->reactor && !o->done) o->reactor->post([] { drain_current_worker(0); });
            }
            for (auto& o : workers) o->thread.join();
            return 1;
        }
    }

    if (!opts.pidfile.empty()) {
        if (!write_pidfile(opts.pidfile, error)) {
            RINGLET_LOG(error) << error;
        } else {
            cleanup_guard.pidfile = opts.pidfile;
        }
    }
    for (const site& s : sites->sites()) {
        std::string hosts;
        for (const auto& h : s.spec.hosts) hosts += (hosts.empty() ? "" : ",") + h;
        RINGLET_LOG(info) << "site " << (hosts.empty() ? "(default)" : hosts) << " -> "
                          << s.spec.root << (demo_dir.empty() ? "" : " (built-in demo site)");
    }
    if (opts.tls) {
        RINGLET_LOG(info) << "listening on https://" << https_bound << " with " << n
                          << " reactor(s)";
        if (!http_bound.empty()) {
            RINGLET_LOG(info) << "redirecting http://" << http_bound << " to https";
        }
    } else {
        RINGLET_LOG(info) << "listening on http://" << http_bound << " with " << n << " reactor(s)";
    }

    // Wait for the signal that ends it all; then drain with a bound.
    // Leaves without waiting for the reactors (their threads are still running, so no
    // destructors may run), but still removes what this process created.
    auto exit_now = [&](int code) {
        std::error_code ec;
        if (!demo_dir.empty()) std::filesystem::remove_all(demo_dir, ec);
        if (!cleanup_guard.pidfile.empty()) std::filesystem::remove(cleanup_guard.pidfile, ec);
        std::fflush(nullptr);
        ::_exit(code);
    };
    bool draining = false;
    std::int64_t hard_deadline = 0;
    for (;;) {
        bool all_done = true;
        for (auto& w : workers) all_done = all_done && w->done;
        if (all_done) break;
        if (draining && rt::reactor::clock_now() > hard_deadline) {
            RINGLET_LOG(error) << "reactors did not stop in time; exiting";
            exit_now(1);
        }
        if (certs && !draining && ::time(nullptr) >= certs->next_due()) {
            if (auto table = certs->maintain(::time(nullptr))) {
                RINGLET_LOG(info) << "publishing certificate generation " << table->generation();
                cert_cell->publish(std::move(table));
            }
        }
        // Old generations are freed once every reactor has passed a quiescent point.
        if (rt::rcu_domain::global().pending()) rt::rcu_domain::global().reclaim();
        pollfd p{sfd.get(), POLLIN, 0};
        if (::poll(&p, 1, draining ? 50 : 1000) <= 0) continue;
        signalfd_siginfo si{};
        if (::read(sfd.get(), &si, sizeof si) != sizeof si) continue;
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGQUIT || (draining && (sig == SIGTERM || sig == SIGINT))) {
            RINGLET_LOG(warn) << "signal " << ::strsignal(sig) << ": exiting now";
            exit_now(sig == SIGQUIT ? 0 : 1);
        }
        if (sig == SIGTERM || sig == SIGINT) {
            RINGLET_LOG(info) << "signal " << ::strsignal(sig) << ": draining (up to "
                              << opts.drain_timeout_ns / 1'000'000'000 << " s)";
            draining = true;
            hard_deadline = rt::reactor::clock_now() + opts.drain_timeout_ns + 5'000'000'000;
            for (auto& w : workers) {
                std::int64_t t = opts.drain_timeout_ns;
                // The locals live on the worker's stack; reach them from its own thread.
                w->reactor->post([t] { drain_current_worker(t); });
            }
        } else {
            RINGLET_LOG(info) << "signal " << ::strsignal(sig)
                              << " ignored (reload arrives with the config issue)";
        }
    }
    for (auto& w : workers) w->thread.join();
    RINGLET_LOG(info) << "stopped";
    return 0;
}

} // namespace ringlet::server
