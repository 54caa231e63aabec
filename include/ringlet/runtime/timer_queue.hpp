// timer_queue: the deadlines of one reactor (header, idle, keep-alive, handshake, sleeps).
//
// An indexed binary min-heap of intrusive `timer` nodes. Time is whatever monotonic nanosecond
// count the owner passes in: the queue never reads a clock, so tests drive it by hand.
//
// Moving a deadline later is the common case (every keep-alive request pushes the idle deadline
// out) and costs O(1): the node keeps its heap position under the old key and is re-keyed lazily
// when the old key reaches the top. Earlier deadlines sift up at once. Not thread-safe: one
// reactor owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace ringlet::rt {

class timer_queue;

class timer {
public:
    using callback = void (*)(timer&);
    static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

    // `context` is for the callback: typically the object that owns this timer.
    explicit timer(callback on_fire = nullptr, void* context = nullptr) noexcept
        : on_fire_(on_fire), context_(context) {}
    timer(const timer&) = delete;
    timer& operator=(const timer&) = delete;
    // Disarms: a node may die while armed.
    ~timer();

    void set_callback(callback cb, void* context) noexcept {
        on_fire_ = cb;
        context_ = context;
    }
    void* context() const noexcept { return context_; }
    bool armed() const noexcept { return queue_ != nullptr; }
    std::int64_t due() const noexcept { return due_; }

private:
    friend class timer_queue;
    callback on_fire_;
    void* context_;
    timer_queue* queue_ = nullptr;
    std::size_t index_ = 0;
    std::int64_t key_ = never; // position in the heap; <= due_
    std::int64_t due_ = never;
};

class timer_queue {
public:
    timer_queue() = default;
    timer_queue(const timer_queue&) = delete;
    timer_queue& operator=(const timer_queue&) = delete;
    ~timer_queue();

    // Arms (or re-arms) `t` to fire once at `due`. A node belongs to at most one queue.
    void arm(timer& t, std::int64_t due);
    void disarm(timer& t) noexcept;

    // The earliest due time, or timer::never. May be earlier than the real next firing (a lazily
    // extended node); the caller then wakes, calls expire(), and nothing fires.
    std::int64_t next_due() const noexcept;

    // Fires, in due order, every timer with due <= now; returns how many fired. A callback may
    // arm or disarm any timer, including the one firing (re-arming for a later time is fine).
    std::size_t expire(std::int64_t now);

    std::size_t size() const noexcept { return heap_.size(); }

private:
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;
    void remove_at(std::size_t i) noexcept;
    void place(std::size_t i, timer* t) noexcept {
        heap_[i] = t;
        t->index_ = i;
    }

    std::vector<timer*> heap_;
};

} // namespace ringlet::rt
