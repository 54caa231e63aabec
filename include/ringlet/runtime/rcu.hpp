// rcu: read-copy-update for read-mostly tables (the certificate table), QSBR flavour.
//
// Overview
// --------
// One writer side (the control thread) publishes immutable *generations* of a T; every reactor
// reads the current generation many times per loop turn (once per TLS handshake step). Readers
// pay one load per read: no atomic read-modify-write, no lock, no fence, no blocking. The price
// is paid by the writer, which frees an old generation only after a *grace period*: every
// reactor has, since the generation was replaced, either passed a quiescent point (the end of a
// loop turn) or been offline (blocked in io_uring_enter, holding nothing).
//
//   rcu_domain         knows its readers and the generations waiting to be freed. One per process
//                      (rcu_domain::global()) is the intended use: each reactor then needs one
//                      reader, whatever the number of tables.
//   rcu_reader         one per reactor thread, registered with a domain. Announces quiescent
//                      points and offline/online transitions. Move-only.
//   rcu_cell<T>        holds the current generation of one T. read() for the hot path, hold()
//                      to keep a generation alive across loop turns, publish() for the writer.
//
// Example
// -------
//   // control thread
//   rcu_cell<cert_table> certs{rcu_domain::global(), build_table()};
//   ...
//   certs.publish(build_table());        // swap in; the old table is freed after a grace period
//   rcu_domain::global().reclaim();      // also call periodically (a timer): see "Reclamation"
//
//   // each reactor thread (the reactor does this in run_once; see runtime/reactor.hpp)
//   rcu_reader rcu{rcu_domain::global()};        // registers; starts online
//   for (;;) {
//       rcu.offline();
//       io_uring_submit_and_wait_timeout(...);   // may sleep for seconds: must not hold anything
//       rcu.online();
//       ... dispatch completions: handlers call certs.read() ...
//       rcu.quiescent();                          // end of the loop turn
//   }
//
//   // a handler
//   const cert_table* t = certs.read();          // valid until this reactor's next quiescent()
//   const cert_entry* e = t->find(sni);          // fine: same turn
//   std::shared_ptr<const cert_table> keep = certs.hold();   // a handshake that spans turns:
//   co_await ...;                                // `t` is dead here, `keep` is not
//
// Rules
// -----
// Threads:
//  * rcu_reader: quiescent(), offline(), online() and the reader's destructor run on the thread
//    that constructed it (a reader may be moved, e.g. into a member, but not to another thread;
//    an offline reader may be destroyed anywhere).
//    A thread may own several readers (of several domains); each is independent.
//  * rcu_cell::read() and hold(): only on a thread whose reader of this cell's domain is online.
//    Debug builds assert that the thread has *some* online reader.
//  * rcu_cell::publish(), current(), rcu_domain::reclaim(): any thread; they serialise on the
//    domain's mutex (which readers only take to register and unregister). In ringlet only the
//    control thread calls them. A thread that is itself an online reader may call them too (a
//    test does); they never wait for readers.
//  * rcu_domain::synchronize(): waits for readers, so never from a thread whose reader of this
//    domain is online (it would wait for itself until the timeout). Tests and shutdown only.
// Lifetimes:
//  * A pointer from read() is valid until the calling thread's reader next calls quiescent() or
//    offline() (or is destroyed). In a reactor: until the end of the current loop turn, so never
//    across a co_await that suspends. Pointers into the object (entries, strings) likewise.
//  * hold() returns a shared_ptr that keeps the *current* generation alive for as long as it is
//    held, on any thread. It is the generation current at the time of hold(), which may be newer
//    than what an earlier read() in the same turn returned: to keep exactly what you look at,
//    hold() first and read through the holder. One atomic increment per hold (a connection), not
//    per read.
//  * A generation is destroyed at max(grace period, last hold released), on the thread that
//    ends last: the writer in reclaim(), or whichever thread drops the last hold (possibly a
//    reactor). T's destructor must therefore be callable on any thread.
//  * rcu_domain outlives its readers and cells. ~rcu_cell retires the current generation to
//    the domain (freed after a grace period like any other); ~rcu_domain requires that no reader
//    is registered and frees whatever is still retired.
// Reclamation:
//  * publish() retires the old generation and calls reclaim(), which frees every retired
//    generation whose grace period has ended. It never blocks on readers: generations still
//    within their grace period stay queued. A grace period ends only when the slowest *online*
//    reader passes a quiescent point, and nothing frees the queue unless the writer calls
//    reclaim() again, so the writer calls it periodically (e.g. every 100 ms while pending() > 0).
//  * An idle reactor is offline and delays nothing. A reader that exits unregisters (its
//    destructor) and delays nothing. A reader that stays online without ever calling quiescent()
//    (a reactor stuck in a long computation) delays reclamation but never breaks safety.
//
// Why it is correct (ordering)
// ----------------------------
// The domain has a 64-bit epoch E (starts at 1, never wraps in practice, so no ABA). Each reader
// has, on its own cache line, `seen`: 0 while offline, else the epoch it last observed at a
// quiescent point.
//  * publish(g'): store cur := g' (seq_cst), then E := E+1 (release RMW) and tag the old
//    generation g with the new value e. g may be freed once every online reader's seen >= e.
//  * quiescent(): s := E (acquire); seen := s (release). Everything the reader did before is
//    sequenced before the release store, so a writer that loads seen (acquire) and finds s >= e
//    sees all those reads as happened-before its free. And since s >= e was read (acquire) from
//    the RMW chain that starts at the bump for e, whose release follows the store of g', every
//    read() after this quiescent point returns g' or newer, never g.
//  * offline(): seen := 0 (release): the reader's earlier reads happen-before any free that
//    trusts the 0.
//  * online(): seen := E (seq_cst store), then reads load cur (seq_cst load). The writer stored
//    cur (seq_cst) before it loads seen (seq_cst) to decide. This is a Dekker pair: in the single
//    total order of seq_cst operations either the writer's load sees the reader online (with a
//    seen value it then compares with e), or the reader's later loads of cur see g' or newer.
//    Without seq_cst (acquire/release only) both sides could miss each other and the writer
//    could free g while the just-woken reader loads it. On x86-64 a seq_cst load is a plain MOV
//    and on AArch64 an LDAR, the same instructions as an acquire load, so read() pays nothing
//    for this; online() pays one locked instruction per blocking wait.
//  * Address reuse (a new generation allocated where a freed one lived) is harmless: a freed
//    address can no longer be held by any reader, and nothing compares generation pointers.
//
// Measured overheads
// -------------------
// bench/runtime_rcu_bench.cpp, -O3, g++ 12, 2 vCPU AMD EPYC shared with other jobs (load ~2.7).
// Per reader thread CPU time per operation, median of 3 runs [range]; one read = load the
// pointer + touch one field, with a quiescent() every 64 reads as a reactor would.
//   plain acquire load, no reclamation at all (the floor)       0.24 ns
//   rcu_cell::read()                                            0.25 ns
//   rcu_cell::read(), writer publishing every 1 ms              0.25 ns
//   rcu_cell::read(), 2 readers + writer every 1 ms             0.25 ns
//   read() + hold() + drop the hold                             12 ns   (2 atomic RMWs)
//   read() + hold() + drop, 2 readers + writer every 1 ms       14 ns   [12-34: refcount line
//                                                                        bouncing when both
//                                                                        readers really overlap]
//   std::atomic<std::shared_ptr<T>>::load() + drop              19 ns   (not lock-free in
//   same, writer every 1 ms                                     19 ns    libstdc++ 12: every
//   same, 2 readers + writer every 1 ms                         32 ns    load locks and counts)
//                                                               [27-209]
//   rcu_reader::offline() + online() (once per blocking wait)   5.5 ns
// The 2-reader rows vary with how much the two readers really overlap on this loaded machine.
// read() compiles to one MOV. quiescent() with the epoch unchanged: three loads from the reader
// object, one of the domain's epoch line (written only by publish), two compares, no store.

#pragma once

#include <atomic>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace ringlet::rt {

class rcu_domain;
class rcu_reader;
template <class T>
class rcu_cell;

namespace detail {

inline constexpr std::size_t rcu_cache_line = 64;

// Something a domain frees after a grace period (a cell's generation).
struct rcu_retired {
    virtual ~rcu_retired() = default;
    std::uint64_t epoch = 0; // freeable once every online reader has seen this epoch
};

// A reader's published state, alone on its cache line: the writer reads it, the reader writes
// it only when the epoch has moved or it goes offline/online.
struct alignas(rcu_cache_line) rcu_reader_state {
    std::atomic<std::uint64_t> seen{0}; // 0 = offline
};

#ifndef NDEBUG
// Online readers (of any domain) on this thread: read() and hold() assert it is not zero.
inline thread_local int rcu_online_readers = 0;
#endif

} // namespace detail

class rcu_domain {
public:
    rcu_domain() = default;
    // Requires: no reader registered. Frees every retired generation.
    ~rcu_domain();
    rcu_domain(const rcu_domain&) = delete;
    rcu_domain& operator=(const rcu_domain&) = delete;

    // The process-wide domain. Never destroyed, so reactor threads that outlive static
    // destruction still unregister safely.
    static rcu_domain& global();

    // Frees the retired generations whose grace period has ended (their holds permitting); the
    // destructors run on the calling thread, outside the domain's mutex. Never waits for
    // readers. Returns how many generations are still waiting.
    std::size_t reclaim();

    // Waits until every reader that is online now has passed a quiescent point (or gone
    // offline, or unregistered), then reclaims: afterwards everything retired before the call
    // is freed (holds permitting). Returns false if `timeout` passed first. Must not be called
    // by a thread whose reader of this domain is online.
    bool synchronize(std::chrono::nanoseconds timeout = std::chrono::seconds(5));

    // Introspection (tests, metrics).
    std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_relaxed); }
    std::size_t pending() const; // retired, not yet freed
    std::size_t readers() const; // registered

private:
    friend class rcu_reader;
    template <class T>
    friend class rcu_cell;

    // Both with mu_ held. retire_locked bumps the epoch and queues `r`; it cannot fail (if the
    // queue cannot grow, `r` is leaked rather than freed early).
    void retire_locked(std::unique_ptr<detail::rcu_retired> r) noexcept;
    // Room for one more retire_locked() without allocating (may throw bad_alloc).
    void reserve_retire_locked() {
        if (retired_.size() == retired_.capacity()) retired_.reserve(2 * retired_.size() + 8);
    }
    std::uint64_t min_online_seen_locked() const noexcept;

    void add_reader(detail::rcu_reader_state* s);
    void remove_reader(detail::rcu_reader_state* s) noexcept;

    // Read by every reader at each quiescent point, written on publish: its own line.
    alignas(detail::rcu_cache_line) std::atomic<std::uint64_t> epoch_{1};
    alignas(detail::rcu_cache_line) mutable std::mutex mu_;
    std::vector<detail::rcu_reader_state*> readers_;            // guarded by mu_
    std::vector<std::unique_ptr<detail::rcu_retired>> retired_; // by mu_; ascending epoch
};

class rcu_reader {
public:
    // Not registered: every call is a no-op (a reactor built before it is attached).
    rcu_reader() noexcept = default;
    // Registers with `d` and goes online (the constructor is a quiescent point).
    explicit rcu_reader(rcu_domain& d);
    // Unregisters (implies offline): never delays reclamation afterwards.
    ~rcu_reader();
    rcu_reader(rcu_reader&& o) noexcept;
    rcu_reader& operator=(rcu_reader&& o) noexcept;
    rcu_reader(const rcu_reader&) = delete;
    rcu_reader& operator=(const rcu_reader&) = delete;

    // A quiescent point: every pointer this thread got from read() is dead from here on. One
    // acquire load; a release store to the reader's own line only when the epoch moved. Only
    // while online (offline it is a no-op: it never brings a reader online).
    void quiescent() noexcept {
        if (!state_) return;
        const std::uint64_t e = epoch_->load(std::memory_order_acquire);
        if (e != cached_) [[unlikely]]
            note_epoch(e);
    }

    // Before blocking (io_uring_enter with a wait): holds nothing until online(); pointers from
    // read() are dead. One release store.
    void offline() noexcept;
    // After blocking: back online; also a quiescent point. One seq_cst store (locked XCHG).
    void online() noexcept;

    bool registered() const noexcept { return state_ != nullptr; }
    bool is_online() const noexcept { return cached_ != 0; }

private:
    void note_epoch(std::uint64_t e) noexcept;
    void reset() noexcept;

    rcu_domain* domain_ = nullptr;
    const std::atomic<std::uint64_t>* epoch_ = nullptr; // &domain_->epoch_
    std::unique_ptr<detail::rcu_reader_state> state_;
    std::uint64_t cached_ = 0; // what state_->seen holds (this thread wrote it); 0 = offline
#ifndef NDEBUG
    std::thread::id owner_;
#endif
};

template <class T>
class alignas(detail::rcu_cache_line) rcu_cell {
public:
    explicit rcu_cell(rcu_domain& d, std::shared_ptr<const T> initial = nullptr) : domain_(&d) {
        if (initial) publish(std::move(initial));
    }
    // Retires the current generation (freed after a grace period). No reader may read the cell
    // once destruction starts.
    ~rcu_cell() {
        {
            std::lock_guard lock(domain_->mu_);
            if (owned_) domain_->retire_locked(std::move(owned_));
        }
        try {
            domain_->reclaim();
        } catch (...) { // out of memory: what is left is reclaimed by a later call
        }
    }
    rcu_cell(const rcu_cell&) = delete;
    rcu_cell& operator=(const rcu_cell&) = delete;

    // Reader: the current generation (nullptr before the first publish). Valid until this
    // thread's reader next calls quiescent() or offline(). Wait-free: one load.
    const T* read() const noexcept {
#ifndef NDEBUG
        assert(detail::rcu_online_readers > 0 && "rcu_cell::read() needs an online rcu_reader");
#endif
        // seq_cst, not acquire: pairs with the writer's decision after rcu_reader::online()
        // (see "Why it is correct"); the same instruction as acquire on x86-64 and AArch64.
        return current_.load(std::memory_order_seq_cst);
    }

    // Reader: keeps the current generation alive until the returned pointer is released (any
    // thread). One atomic increment; empty before the first publish.
    std::shared_ptr<const T> hold() const noexcept {
#ifndef NDEBUG
        assert(detail::rcu_online_readers > 0 && "rcu_cell::hold() needs an online rcu_reader");
#endif
        const generation* g = current_gen_.load(std::memory_order_seq_cst);
        return g ? g->value : nullptr;
    }

    // Writer: makes `next` the current generation, retires the previous one, and reclaims
    // (never waits for readers). Accepts std::unique_ptr<T> too. Publications serialise on the
    // domain's mutex.
    void publish(std::shared_ptr<const T> next) {
        auto gen = std::make_unique<generation>(std::move(next));
        {
            std::lock_guard lock(domain_->mu_);
            domain_->reserve_retire_locked(); // may throw: nothing has changed yet
            current_gen_.store(gen.get(), std::memory_order_seq_cst);
            current_.store(gen->value.get(), std::memory_order_seq_cst);
            std::swap(owned_, gen);
            if (gen) domain_->retire_locked(std::move(gen));
        }
        domain_->reclaim();
    }

    // Writer side (no reader needed): the current generation.
    std::shared_ptr<const T> current() const {
        std::lock_guard lock(domain_->mu_);
        return owned_ ? owned_->value : nullptr;
    }

    rcu_domain& domain() const noexcept {
        return *domain_;
    }

private:
    struct generation final : detail::rcu_retired {
        explicit generation(std::shared_ptr<const T> v) noexcept : value(std::move(v)) {}
        std::shared_ptr<const T> value; // the domain's reference; holds are copies of it
    };

    // What readers load: written only by publish, so the line stays shared in every core.
    std::atomic<const T*> current_{nullptr};
    std::atomic<const generation*> current_gen_{nullptr};
    rcu_domain* domain_;
    std::unique_ptr<generation> owned_; // the current generation; guarded by domain_->mu_
};

} // namespace ringlet::rt
