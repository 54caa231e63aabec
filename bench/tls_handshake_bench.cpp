// Complete TLS 1.3 handshakes in memory (client and server WOLFSSL in this process, bytes passed
// through queues, no sockets) with the project's wolfSSL build, an ECDSA P-256 certificate from
// the internal CA and ringlet's server context policy (make_server_context, session tickets on).
// The client verifies the chain and the name, as a browser would.
//
// Variants: a full handshake with an X25519 key share (what browsers and curl send first), the
// same with a P-256 share, and a resumption with a session ticket (PSK with X25519 DHE).
// "Time" covers both peers; `server_us` is the thread CPU time spent in the server's
// wolfSSL_accept calls only, per handshake, i.e. what a reactor pays per connection for TLS
// (seen here with wolfSSL 5.7.2 asm+SP on a busy 2-core VM: ~67 us full X25519, ~52 us resumed;
// the reference notes measured ~174 us with 5.5.4 built the same way).
#include "tls_bench_support.hpp"

#include <benchmark/benchmark.h>

#include <memory>

namespace {

using namespace ringlet;
using bench::memory_pair;
using bench::tls_fixture;

struct session_deleter {
    void operator()(WOLFSSL_SESSION* s) const noexcept { wolfSSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<WOLFSSL_SESSION, session_deleter>;

void report(benchmark::State& state, double server_ns) {
    state.counters["handshakes/s"] =
        benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["server_us"] = server_ns / 1e3 / double(state.iterations());
}

void full_handshake(benchmark::State& state, int group) {
    const tls_fixture* f = tls_fixture::get();
    if (!f) {
        state.SkipWithError("no TLS fixture");
        return;
    }
    tls::ctx_ptr client = f->client({group}, nullptr);
    if (!client) {
        state.SkipWithError("client context");
        return;
    }
    double server_ns = 0;
    for (auto _ : state) {
        memory_pair p(f->server_tickets.get(), client.get());
        if (std::string err = p.handshake(&server_ns); !err.empty()) {
            state.SkipWithError(err.c_str());
            return;
        }
        if (wolfSSL_session_reused(p.server())) {
            state.SkipWithError("resumed, expected a full handshake");
            return;
        }
    }
    report(state, server_ns);
}

void BM_full_x25519(benchmark::State& state) {
    full_handshake(state, WOLFSSL_ECC_X25519);
}
void BM_full_p256(benchmark::State& state) {
    full_handshake(state, WOLFSSL_ECC_SECP256R1);
}

// One full handshake obtains a ticket; every iteration then resumes with it (the client offers
// the same ticket each time, as a client with one cached session does for parallel connections).
void BM_resumed_ticket(benchmark::State& state) {
    const tls_fixture* f = tls_fixture::get();
    if (!f) {
        state.SkipWithError("no TLS fixture");
        return;
    }
    tls::ctx_ptr client = f->client({WOLFSSL_ECC_X25519}, nullptr);
    session_ptr session;
    {
        memory_pair first(f->server_tickets.get(), client.get());
        if (!first.handshake(nullptr).empty() || !first.client_drain()) {
            state.SkipWithError("first handshake");
            return;
        }
        session.reset(wolfSSL_get1_session(first.client()));
    }
    if (!session) {
        state.SkipWithError("no session ticket");
        return;
    }
    double server_ns = 0;
    for (auto _ : state) {
        memory_pair p(f->server_tickets.get(), client.get());
        if (wolfSSL_set_session(p.client(), session.get()) != WOLFSSL_SUCCESS) {
            state.SkipWithError("wolfSSL_set_session");
            return;
        }
        if (std::string err = p.handshake(&server_ns); !err.empty()) {
            state.SkipWithError(err.c_str());
            return;
        }
        if (!wolfSSL_session_reused(p.server())) {
            state.SkipWithError("ticket not accepted: full handshake");
            return;
        }
    }
    report(state, server_ns);
}

BENCHMARK(BM_full_x25519)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_full_p256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_resumed_ticket)->Unit(benchmark::kMicrosecond);

} // namespace
