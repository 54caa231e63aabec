#include "server/worker.hpp"

#include "ringlet/base/log.hpp"
#include "ringlet/net/listener.hpp"
#include "ringlet/server/access_log.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>

namespace ringlet::server::detail {

namespace {

struct listener_slot {
    listener_fd listener;
    net::acceptor* acceptor = nullptr;           // while its accept loop runs
    std::shared_ptr<std::atomic<int>> on_closed; // counted down once the fd is closed
};

// Per-reactor objects that live on the worker thread's stack.
struct worker_locals {
    reactor_state state;
    access_log access;
    std::vector<std::unique_ptr<listener_slot>> listeners;
    rt::timer drain_deadline;
};

thread_local worker_locals* current_locals = nullptr;

rt::task<void> accept_loop(worker_locals& w, listener_slot& slot) {
    net::acceptor acc(slot.listener.fd.get());
    slot.acceptor = &acc;
    const bool secure = slot.listener.secure;
    for (;;) {
        auto fd = co_await acc.async_accept();
        if (!fd) break; // closed: shutdown or a reload removed this listener
        rt::this_reactor().spawn(secure ? serve_tls_connection(w.state, *fd)
                                        : serve_connection(w.state, *fd));
    }
    slot.acceptor = nullptr;
    auto closed = std::move(slot.on_closed);
    // Last: the slot (and its fd, refusing new connections from here on) goes away.
    std::erase_if(w.listeners, [&](const auto& s) { return s.get() == &slot; });
    if (closed) closed->fetch_sub(1, std::memory_order_release);
}

void start_listener(worker_locals& w, listener_fd l) {
    auto slot = std::make_unique<listener_slot>();
    slot->listener = std::move(l);
    listener_slot& ref = *slot;
    w.listeners.push_back(std::move(slot));
    rt::this_reactor().spawn(accept_loop(w, ref));
}

void on_drain_deadline(rt::timer& t) {
    auto* w = static_cast<worker_locals*>(t.context());
    if (w->state.connection_count) {
        RINGLET_LOG(warn) << "drain timeout: closing " << w->state.connection_count
                          << " connection(s) still busy";
    }
    abort_connections(w->state);
}

void pin_to_cpu(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void worker_main(worker& w, worker_config config, std::promise<std::string> ready) {
    log::set_thread_name("reactor-" + std::to_string(w.index));
    if (config.pin_cpu) pin_to_cpu(w.cpu);
    auto r = rt::reactor::create(w.index);
    if (!r) {
        ready.set_value("cannot create io_uring reactor: " + r.error().message());
        w.done = true;
        return;
    }
    worker_locals locals{reactor_state(*config.sites, config.limits),
                         access_log(config.access_log_fd),
                         {},
                         rt::timer()};
    locals.state.access = &locals.access;
    locals.state.reactor_index = w.index;
    locals.state.certificates = config.certificates;
    locals.state.challenges = config.challenges;
    locals.state.https_redirect = config.https_redirect;
    locals.state.https_port = config.https_port;
    current_locals = &locals;
    w.reactor = r->get();
    for (listener_fd& l : w.initial_listeners) start_listener(locals, std::move(l));
    w.initial_listeners.clear();
    ready.set_value({});
    (*r)->run();
    current_locals = nullptr;
    w.done = true;
}

} // namespace

void worker::start(const worker_config& config, std::promise<std::string> ready) {
    thread = std::thread(worker_main, std::ref(*this), config, std::move(ready));
}

void drain_current_worker(std::int64_t timeout_ns) {
    worker_locals* w = current_locals;
    if (!w) return;
    auto& r = rt::this_reactor();
    for (auto& slot : w->listeners) {
        if (slot->acceptor) slot->acceptor->close();
    }
    w->access.flush();
    begin_drain(w->state);
    w->drain_deadline.set_callback(&on_drain_deadline, w);
    r.timers().arm(w->drain_deadline, r.now() + timeout_ns);
    r.stop();
}

void add_listener_current(std::shared_ptr<listener_fd> l) {
    if (current_locals && !rt::this_reactor().stopping())
        start_listener(*current_locals, std::move(*l));
}

void remove_listener_current(std::string address, std::shared_ptr<std::atomic<int>> closed) {
    if (current_locals) {
        for (auto& slot : current_locals->listeners) {
            if (slot->listener.address == address && slot->acceptor) {
                slot->on_closed = closed;
                slot->acceptor->close();
                return; // counted down by its accept loop once the fd is closed
            }
        }
    }
    closed->fetch_sub(1, std::memory_order_release); // nothing to close here
}

void set_redirect_current(bool https_redirect, std::uint16_t https_port) {
    if (!current_locals) return;
    current_locals->state.https_redirect = https_redirect;
    current_locals->state.https_port = https_port;
}

void set_limits_current(const connection_limits& limits) {
    if (current_locals) current_locals->state.limits = limits;
}

} // namespace ringlet::server::detail
