#include "load/driver.hpp"

#include "ringlet/net/connect.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/tls/client_context.hpp"

#include <netinet/in.h>

#include <algorithm>

namespace ringlet::load {

namespace {

bool loopback_address(const net::endpoint& ep) {
    if (ep.addr.ss_family == AF_INET) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(ep.addr);
        return (ntohl(a.sin_addr.s_addr) >> 24) == 127;
    }
    if (ep.addr.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(ep.addr).sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
        return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
    }
    return false;
}

} // namespace

driver::driver(const load_options& o) : options_(o) {}

driver::~driver() {
    if (threads_.empty()) return;
    stop();
    for (std::thread& t : threads_) {
        if (t.joinable()) t.join();
    }
}

result<std::unique_ptr<driver>> driver::create(const load_options& o, std::string& error) {
    std::unique_ptr<driver> d(new driver(o)); // private constructor: no make_unique
    d->run_ = std::make_unique<run_state>(o, o.threads);
    run_state& run = *d->run_;
    run.limit = o.requests;
    if (auto s = effective_duration(o)) run.duration_ns = static_cast<std::int64_t>(*s * 1e9);

    bool any_https = false;
    for (const target& t : o.targets) {
        target_plan plan;
        plan.where = &t;
        auto eps = net::resolve(t.host, t.port, error);
        if (!eps) return unexpected{eps.error()};
        for (const net::endpoint& ep : *eps) {
            if (!o.allow_remote && !loopback_address(ep)) {
                error = "URL " + quoted(t.url) + ": " + t.host + " resolves to " + ep.to_string() +
                        ", which is not a loopback address (--allow-remote)";
                return fail_errno(EPERM);
            }
        }
        plan.endpoints = std::move(*eps);
        std::string one = build_request(t, o);
        plan.request_size = one.size();
        plan.requests.reserve(one.size() * o.pipeline);
        for (unsigned i = 0; i < o.pipeline; ++i) plan.requests += one;
        plan.server_name = o.sni.empty() ? t.host : o.sni;
        any_https = any_https || t.https;
        run.plans.push_back(std::move(plan));
    }
    if (any_https) {
        // The workers make their own contexts; this one only proves the CA file loads.
        tls::client_options co;
        co.ca_file = o.cacert;
        co.insecure = o.insecure;
        auto ctx = tls::make_client_context(co, error);
        if (!ctx) return unexpected{ctx.error()};
    }
    return d;
}

bool driver::start(std::string& error) {
    const unsigned threads = options_.threads;
    const unsigned per = options_.connections / threads, extra = options_.connections % threads;
    unsigned first = 0;
    for (unsigned i = 0; i < threads; ++i) {
        unsigned count = per + (i < extra ? 1 : 0);
        workers_.push_back(std::make_unique<worker>(*run_, i, first, count));
        first += count;
    }
    for (auto& w : workers_) threads_.emplace_back([p = w.get()] { p->run(); });
    run_->start.arrive_and_wait();
    start_ns_ = rt::reactor::clock_now();
    if (!run_->abandon) return true;
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    for (auto& w : workers_) {
        if (!w->error().empty()) {
            error = w->error();
            break;
        }
    }
    return false;
}

progress_sample driver::sample() const {
    progress_sample s;
    s.elapsed_seconds = static_cast<double>(rt::reactor::clock_now() - start_ns_) / 1e9;
    for (const auto& w : workers_) {
        const live_counters& c = w->live();
        s.answered += c.answered.load(std::memory_order_relaxed);
        s.failed += c.failed.load(std::memory_order_relaxed);
        s.bytes_received += c.bytes.load(std::memory_order_relaxed);
        s.handshakes += c.handshakes.load(std::memory_order_relaxed);
    }
    return s;
}

bool driver::finished() const {
    return std::all_of(workers_.begin(), workers_.end(), [](const auto& w) {
        return w->live().done.load(std::memory_order_acquire);
    });
}

void driver::stop() {
    for (auto& w : workers_) w->request_stop();
}

load_report driver::join() {
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    load_report total;
    for (const auto& w : workers_) total.merge(w->report());
    return total;
}

std::string driver::first_failure() const {
    for (const auto& w : workers_) {
        if (!w->first_failure().empty()) return w->first_failure();
    }
    return {};
}

} // namespace ringlet::load
