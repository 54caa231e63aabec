#include "load/worker.hpp"

#include "ringlet/base/ascii.hpp"
#include "ringlet/net/connect.hpp"
#include "ringlet/runtime/ops.hpp"

#include <algorithm>

namespace ringlet::load {

namespace {

// After a failed connect or handshake: a refused or broken target must not turn every
// connection into a busy loop (the failures are still counted, one per attempt).
constexpr std::int64_t retry_pause_ns = 10'000'000;

bool has_header(const load_options& o, std::string_view name) {
    return std::any_of(o.headers.begin(), o.headers.end(),
                       [&](const header_field& h) { return ascii_lower(h.name) == name; });
}

std::int64_t timeout_ns(const load_options& o) {
    return static_cast<std::int64_t>(o.timeout_seconds * 1e9);
}

std::string endpoint_text(const target_plan& plan) {
    return plan.endpoints.empty() ? plan.where->host : plan.endpoints.front().to_string();
}

} // namespace

std::string build_request(const target& t, const load_options& o) {
    std::string r = "GET " + t.path + " HTTP/1.1\r\n";
    if (!has_header(o, "host")) r += "Host: " + t.authority + "\r\n";
    if (!has_header(o, "user-agent")) r += "User-Agent: ringlet-load\r\n";
    if (!has_header(o, "accept")) r += "Accept: */*\r\n";
    for (const header_field& h : o.headers) r += h.name + ": " + h.value + "\r\n";
    if (o.mode == load_mode::handshake && !has_header(o, "connection")) {
        r += "Connection: close\r\n";
    }
    return r + "\r\n";
}

unsigned run_state::claim(unsigned want) noexcept {
    if (!limit) return want;
    std::uint64_t before = claimed.fetch_add(want, std::memory_order_relaxed);
    if (before >= *limit) return 0;
    return static_cast<unsigned>(std::min<std::uint64_t>(want, *limit - before));
}

worker::worker(run_state& run, unsigned index, unsigned first, unsigned count)
    : run_(run), index_(index), first_(first), count_(count) {}

void worker::run() {
    const load_options& o = run_.options;
    auto reactor = rt::reactor::create(index_);
    if (!reactor) {
        error_ = "cannot start an io_uring reactor: " + reactor.error().message();
        run_.abandon = true;
    } else if (std::any_of(o.targets.begin(), o.targets.end(),
                           [](const target& t) { return t.https; })) {
        tls::client_options co;
        co.ca_file = o.cacert;
        co.insecure = o.insecure;
        co.alpn = {"http/1.1"};
        auto ctx = tls::make_client_context(co, error_);
        if (ctx) {
            ctx_ = std::move(*ctx);
        } else {
            run_.abandon = true;
        }
    }
    run_.start.arrive_and_wait();
    if (!reactor || run_.abandon) {
        live_.done.store(true, std::memory_order_release);
        return;
    }

    rt::reactor& rx = **reactor;
    start_ns_ = end_ns_ = rt::reactor::clock_now();
    rt::timer deadline(&worker::on_deadline, this); // dies before the reactor
    if (run_.duration_ns) rx.timers().arm(deadline, start_ns_ + *run_.duration_ns);
    live_streams_.assign(count_, nullptr);
    for (unsigned i = 0; i < count_; ++i) {
        rx.spawn(connection(i, run_.plans[(first_ + i) % run_.plans.size()]));
    }
    {
        std::lock_guard lock(reactor_mu_);
        reactor_ = &rx;
    }
    if (stop_requested_.load()) stop_now(rt::reactor::clock_now());
    rx.stop(); // run() returns once every connection has finished
    rx.run();
    rx.timers().disarm(deadline);
    {
        std::lock_guard lock(reactor_mu_);
        reactor_ = nullptr;
    }
    report_.elapsed_seconds = static_cast<double>(end_ns_ - start_ns_) / 1e9;
    publish();
    live_.done.store(true, std::memory_order_release);
}

void worker::request_stop() {
    stop_requested_.store(true);
    std::lock_guard lock(reactor_mu_);
    if (reactor_) reactor_->post([this] { stop_now(rt::reactor::clock_now()); });
}

void worker::on_deadline(rt::timer& t) {
    auto* self = static_cast<worker*>(t.context());
    self->stop_now(self->start_ns_ + *self->run_.duration_ns);
}

void worker::stop_now(std::int64_t at) {
    if (stopping_) return;
    stopping_ = true;
    end_ns_ = at;
    // abort() may resume a connection, which then clears its own slot: index, don't iterate.
    for (std::size_t i = 0; i < live_streams_.size(); ++i) {
        if (live_streams_[i]) live_streams_[i]->abort();
    }
}

void worker::fail(unsigned n, error_kind k) noexcept {
    report_.errors[static_cast<std::size_t>(k)] += n;
    failed_ += n;
}

void worker::publish() noexcept {
    live_.answered.store(answered_, std::memory_order_relaxed);
    live_.failed.store(failed_, std::memory_order_relaxed);
    live_.bytes.store(report_.bytes_received, std::memory_order_relaxed);
    live_.handshakes.store(report_.handshakes, std::memory_order_relaxed);
}

void worker::note(std::string text) {
    if (first_failure_.empty()) first_failure_ = std::move(text);
}

rt::task<std::optional<error_kind>> worker::open(std::optional<link>& io, unsigned slot,
                                                 const target_plan& plan, WOLFSSL_SESSION* resume) {
    const std::int64_t timeout = timeout_ns(run_.options);
    const std::int64_t deadline = rt::reactor::clock_now() + timeout;
    unique_fd fd;
    std::error_code first;
    for (const net::endpoint& ep : plan.endpoints) {
        auto c = co_await net::async_connect(ep, timeout);
        if (c) {
            fd = std::move(*c);
            break;
        }
        if (!first) first = c.error();
    }
    if (!fd) {
        note("connect to " + endpoint_text(plan) + ": " + first.message());
        co_return first == std::errc::timed_out ? error_kind::timeout : error_kind::connect;
    }
    io.emplace(fd.release());
    live_streams_[slot] = &io->tcp();
    ++report_.connections;
    if (!plan.where->https) co_return std::nullopt;

    tls::tls_stream& s = io->start_tls();
    auto hs = co_await s.async_connect(ctx_.get(), plan.server_name, deadline, resume);
    if (!hs) {
        if (stopping_) co_return std::nullopt; // the caller sees stopping_ first
        if (hs.error() == std::errc::timed_out) co_return error_kind::timeout;
        if (hs.error() == std::errc::connection_reset) {
            note("TLS handshake with " + endpoint_text(plan) + ": the server hung up");
            co_return error_kind::reset;
        }
        note("TLS handshake with " + plan.server_name + " at " + endpoint_text(plan) + ": " +
             (hs.error() == std::errc::protocol_error ? s.error_description()
                                                      : hs.error().message()));
        co_return error_kind::tls;
    }
    ++report_.handshakes;
    if (s.resumed()) ++report_.resumed_handshakes;
    co_return std::nullopt;
}

rt::task<void> worker::close(std::optional<link>& io, unsigned slot) {
    live_streams_[slot] = nullptr;
    co_await io->close();
    io.reset();
}

rt::task<void> worker::connection(unsigned slot, const target_plan& plan) {
    const load_options& o = run_.options;
    const std::int64_t timeout = timeout_ns(o);
    const unsigned depth = o.pipeline;
    response_reader reader(o.mode == load_mode::bulk ? 256 * 1024 : 32 * 1024);
    std::optional<link> io;
    tls::session_ptr session; // --resume: the last connection's, offered to the next
    // Send times of the requests in flight, oldest at `head` (a ring of `depth` entries).
    std::vector<std::int64_t> sent(depth);
    unsigned head = 0, in_flight = 0;
    bool spent = false; // the -n budget gave nothing: finish what is in flight, then stop

    while (!stopping_) {
        unsigned k = 0;
        if (!spent && in_flight < depth) {
            k = run_.claim(depth - in_flight);
            spent = k == 0;
        }
        if (k == 0 && in_flight == 0) break;
        if (!io) { // nothing is in flight without a connection
            auto err = co_await open(io, slot, plan, o.resume ? session.get() : nullptr);
            if (stopping_) break; // the claimed requests stay unfinished
            if (err) {
                fail(k, *err);
                finished(rt::reactor::clock_now());
                publish();
                if (io) co_await close(io, slot);
                co_await rt::sleep_for(retry_pause_ns);
                continue;
            }
            reader.reset();
        }

        // Top the window up with one send, then read the oldest response.
        if (k > 0) {
            const std::int64_t now = rt::reactor::clock_now();
            for (unsigned i = 0; i < k; ++i) sent[(head + in_flight + i) % depth] = now;
            in_flight += k;
            report_.requests_sent += k;
            auto w = co_await io->write({plan.requests.data(), k * plan.request_size}, timeout);
            if (!w) {
                if (stopping_) break;
                fail(in_flight, classify(w.error()));
                in_flight = 0;
                finished(rt::reactor::clock_now());
                publish();
                co_await close(io, slot);
                continue;
            }
        }
        const std::int64_t oldest = sent[head];
        batch_outcome b =
            co_await reader.read(*io, 1, oldest, oldest + timeout, report_, stopping_);
        if (b.aborted) break;
        if (b.answered) {
            ++answered_;
            head = (head + 1) % depth;
            --in_flight;
        }
        if (b.error) {
            fail(in_flight, *b.error);
            in_flight = 0;
        } else if (!b.reusable && in_flight > 0) {
            fail(in_flight, error_kind::reset); // the server closed with requests pipelined
            in_flight = 0;
        }
        finished(b.finished_ns);
        publish();
        if (!b.reusable || o.mode == load_mode::handshake) {
            // Under TLS 1.3 the ticket came after the handshake: the reads above took it in.
            if (o.resume && io->tls()) {
                if (auto s = io->tls()->get_session()) session = std::move(s);
            }
            co_await close(io, slot);
        }
    }
    if (io) co_await close(io, slot);
}

} // namespace ringlet::load
