// Per-read cost of the certificate-table cell (rt::rcu_cell) as a reactor uses it: a read and a
// touch of one field per iteration, quiescent() every 64 reads (a loop turn), optionally with a
// writer thread publishing a new generation every 1 ms. Baseline in the same binary:
// std::atomic<std::shared_ptr<T>>::load(), which is not lock-free in libstdc++ 12.
//
// `ns_per_read` is each reader thread's own CPU time per read (CLOCK_THREAD_CPUTIME_ID, so other
// jobs on a shared machine do not inflate it, but cache-line traffic between the readers does),
// averaged over the reader threads. With Threads(2) the "Time" column is wall time divided by
// both threads' reads, i.e. about half of the per-thread cost.
#include "ringlet/runtime/rcu.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include <time.h>

namespace {

using ringlet::rt::rcu_cell;
using ringlet::rt::rcu_domain;
using ringlet::rt::rcu_reader;

// Stand-in for the certificate table: a few lines of immutable data.
struct table {
    explicit table(std::uint64_t v) : version(v) { slots.fill(v); }
    std::uint64_t version;
    std::array<std::uint64_t, 15> slots{};
};

rcu_domain domain;
rcu_cell<table> cell{domain, std::make_shared<const table>(0)};
std::atomic<std::shared_ptr<const table>> atomic_table{std::make_shared<const table>(0)};

// A control thread publishing every 1 ms while it lives; started and stopped by reader thread 0.
class background_writer {
public:
    explicit background_writer(bool rcu) : thread_([this, rcu] { run(rcu); }) {}
    ~background_writer() {
        stop_.store(true, std::memory_order_relaxed);
        thread_.join();
    }
    background_writer(const background_writer&) = delete;
    background_writer& operator=(const background_writer&) = delete;

private:
    void run(bool rcu) {
        std::uint64_t v = 1;
        while (!stop_.load(std::memory_order_relaxed)) {
            if (rcu) {
                cell.publish(std::make_shared<const table>(v++)); // publish reclaims too
            } else {
                atomic_table.store(std::make_shared<const table>(v++));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (rcu) domain.reclaim();
    }
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

enum class writer { none, every_1ms };

double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// Runs `read_one` once per iteration, quiescent() every 64, and reports ns/read.
template <class Fn>
void run_reader(benchmark::State& state, writer w, bool rcu, Fn read_one) {
    rcu_reader reader(domain);
    std::unique_ptr<background_writer> bg;
    if (w == writer::every_1ms && state.thread_index() == 0) {
        bg = std::make_unique<background_writer>(rcu);
    }
    std::uint32_t n = 0;
    const double t0 = thread_cpu_ns();
    for (auto _ : state) {
        read_one();
        if ((++n & 63) == 0) reader.quiescent();
    }
    const double spent = thread_cpu_ns() - t0;
    bg.reset();
    state.counters["ns_per_read"] =
        benchmark::Counter(spent / double(state.iterations()), benchmark::Counter::kAvgThreads);
}

void rcu_read(benchmark::State& state, writer w) {
    run_reader(state, w, true, [] {
        const table* t = cell.read();
        benchmark::DoNotOptimize(t->version);
    });
}

// A connection starting a handshake: look at the table, keep it across loop turns, let go.
void rcu_read_hold(benchmark::State& state, writer w) {
    run_reader(state, w, true, [] {
        const table* t = cell.read();
        benchmark::DoNotOptimize(t->version);
        std::shared_ptr<const table> keep = cell.hold();
        benchmark::DoNotOptimize(keep.get());
    });
}

void atomic_shared_ptr_load(benchmark::State& state, writer w) {
    run_reader(state, w, false, [] {
        std::shared_ptr<const table> t = atomic_table.load();
        benchmark::DoNotOptimize(t->version);
    });
}

// Floor: the read without any reclamation scheme (what read() compiles to, minus quiescent()).
std::atomic<const table*> plain_table{nullptr};
void plain_acquire_load(benchmark::State& state) {
    static const table t0(0);
    plain_table.store(&t0);
    for (auto _ : state) {
        const table* t = plain_table.load(std::memory_order_acquire);
        benchmark::DoNotOptimize(t->version);
    }
}

// What a reactor pays around each blocking wait.
void rcu_offline_online(benchmark::State& state) {
    rcu_reader reader(domain);
    for (auto _ : state) {
        reader.offline();
        reader.online();
    }
}

} // namespace

BENCHMARK(plain_acquire_load);
BENCHMARK_CAPTURE(rcu_read, no_writer, writer::none);
BENCHMARK_CAPTURE(rcu_read, writer_1ms, writer::every_1ms)->Threads(1)->Threads(2);
BENCHMARK_CAPTURE(rcu_read_hold, no_writer, writer::none);
BENCHMARK_CAPTURE(rcu_read_hold, writer_1ms, writer::every_1ms)->Threads(1)->Threads(2);
BENCHMARK_CAPTURE(atomic_shared_ptr_load, no_writer, writer::none);
BENCHMARK_CAPTURE(atomic_shared_ptr_load, writer_1ms, writer::every_1ms)->Threads(1)->Threads(2);
BENCHMARK(rcu_offline_online);
