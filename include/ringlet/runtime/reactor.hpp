// reactor: one thread, one io_uring, one timer queue; runs coroutines to completion.
//
// Shared-nothing: a reactor is created on the thread that runs it (DEFER_TASKRUN rings may only
// be entered by their creator) and everything it owns is touched only from that thread. The one
// exception is post(), the cross-thread message channel (an eventfd doorbell the ring listens to):
// the control thread uses it for shutdown and, later, to announce new certificate generations.
//
// Loop turn: submit queued SQEs and wait (one io_uring_enter) until a CQE arrives or the next
// timer is due; copy the CQEs out and advance the CQ; dispatch them (each resumes its coroutine
// directly); refresh now(); fire due timers; run posted messages; pass an RCU quiescent point
// (rcu.hpp), so pointers read from an rcu_cell are valid for the rest of a turn, not across one.
// Coroutines queue SQEs while they run; nothing is submitted mid-turn unless the SQ fills.
//
// Setup: SINGLE_ISSUER | DEFER_TASKRUN | TASKRUN_FLAG | SUBMIT_ALL with a 4x CQ, falling back to
// COOP_TASKRUN on kernels without DEFER_TASKRUN. io_uring may be forbidden (seccomp, as in
// Docker's default profile, or kernel.io_uring_disabled): create() reports that as an error value.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/runtime/buffer_ring.hpp"
#include "ringlet/runtime/completion.hpp"
#include "ringlet/runtime/rcu.hpp"
#include "ringlet/runtime/task.hpp"
#include "ringlet/runtime/timer_queue.hpp"

#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ringlet::rt {

struct spawn_access;

struct reactor_options {
    unsigned sq_entries = 1024;
    unsigned cq_multiplier = 4;
    unsigned recv_buffers = 512;       // provided buffers for multishot recv (power of two)
    unsigned recv_buffer_size = 16384; // bytes each
};

class reactor {
public:
    // Creates a reactor owned by the calling thread and makes it this thread's current reactor.
    static result<std::unique_ptr<reactor>> create(unsigned index, const reactor_options& = {});
    ~reactor();
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;

    // The calling thread's reactor, or nullptr.
    static reactor* current() noexcept;

    unsigned index() const noexcept { return index_; }
    io_uring& ring() noexcept { return ring_; }
    buffer_ring& recv_buffers() noexcept { return buffers_; }
    timer_queue& timers() noexcept { return timers_; }
    // Monotonic nanoseconds, refreshed once per loop turn (cheap to read, never goes back).
    std::int64_t now() const noexcept { return now_; }
    static std::int64_t clock_now() noexcept;

    // An SQE to fill; never null (flushes the SQ to the kernel when it is full). `n` > 1 reserves
    // room for a linked chain so it is not split across two submissions.
    io_uring_sqe* get_sqe(unsigned n = 1);

    // Starts `t` now; the reactor owns it until it returns. Reactor thread only.
    void spawn(task<void> t);
    // Top-level tasks not yet finished.
    std::size_t live_tasks() const noexcept { return live_; }

    // Runs until stop() has been called and every spawned task has finished.
    void run();
    // Runs the loop until `t` finishes and returns its value (tests, startup steps).
    template <class T>
    T run_until_done(task<T> t);
    // Asks run() to return once all spawned tasks are done. Reactor thread only (use post()).
    void stop() noexcept { stopping_ = true; }
    bool stopping() const noexcept { return stopping_; }

    // Thread-safe: runs `fn` on the reactor thread during a later loop turn.
    void post(std::function<void()> fn);

    // One loop turn; `block` = wait for at least one event. Exposed for run_until_done.
    void run_once(bool block);

private:
    friend struct spawn_access;
    explicit reactor(unsigned index) : index_(index) {}
    result<void> init(const reactor_options& o);
    void arm_doorbell();
    void run_posted();
    static void on_doorbell(completion* c, int res, std::uint32_t flags, unsigned tag);
    static void on_spawned_done(reactor& r);

    unsigned index_;
    io_uring ring_{};
    bool ring_ok_ = false;
    buffer_ring buffers_;
    timer_queue timers_;
    std::int64_t now_ = 0;
    std::size_t live_ = 0;
    bool stopping_ = false;
    std::vector<io_uring_cqe> batch_;
    // RCU: quiescent at the end of every turn, offline while blocked in the kernel (an idle
    // reactor never delays the reclamation of an old certificate table).
    rcu_reader rcu_;

    // Cross-thread channel.
    completion doorbell_{};
    int event_fd_ = -1;
    std::uint64_t doorbell_value_ = 0;
    std::mutex posted_mu_;
    std::vector<std::function<void()>> posted_, running_;
};

inline reactor& this_reactor() noexcept {
    return *reactor::current();
}

namespace detail {
// Completes when `t` completes; used by run_until_done.
struct done_flag {
    bool done = false;
};
template <class T>
task<void> run_and_flag(task<T>& t, std::optional<T>& out, done_flag& f) {
    out.emplace(co_await std::move(t));
    f.done = true;
}
inline task<void> run_and_flag_void(task<void>& t, done_flag& f) {
    co_await std::move(t);
    f.done = true;
}
} // namespace detail

template <class T>
T reactor::run_until_done(task<T> t) {
    detail::done_flag flag;
    if constexpr (std::is_void_v<T>) {
        spawn(detail::run_and_flag_void(t, flag));
        while (!flag.done) run_once(true);
    } else {
        std::optional<T> out;
        spawn(detail::run_and_flag(t, out, flag));
        while (!flag.done) run_once(true);
        return std::move(*out);
    }
}

} // namespace ringlet::rt
