// task<T>: a lazy, move-only coroutine that produces one T (or nothing for task<void>).
//
// Contract:
//  - Lazy: creating a task runs nothing. `co_await std::move(t)` starts it and suspends the caller;
//    the task's end resumes the caller by symmetric transfer (no stack growth, given
//    -foptimize-sibling-calls on g++ 12 at -O0/-O1).
//  - Owned: the task object owns the frame; destroying it destroys a frame that has not started or
//    has finished. Destroying a task that is suspended on I/O is a bug (the kernel would complete
//    into a freed frame): stop it by cancelling its I/O and letting it return.
//  - Errors are values (return result<T>); an exception escaping a task terminates the process.
//  - Frames come from a per-thread size-class free list (frame_alloc.hpp): connection and request
//    coroutines are created and destroyed on one reactor thread at a high rate.
//
// Top-level tasks are started with reactor::spawn(), which owns them until they finish.
#pragma once

#include "ringlet/runtime/frame_alloc.hpp"

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

namespace ringlet::rt {

template <class T = void>
class task;

namespace detail {

struct promise_base {
    std::coroutine_handle<> continuation = std::noop_coroutine();

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            return h.promise().continuation;
        }
        void await_resume() const noexcept {}
    };

    std::suspend_always initial_suspend() const noexcept { return {}; }
    final_awaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() const noexcept { std::terminate(); }

    static void* operator new(std::size_t n) { return frame_alloc(n); }
    static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }
};

template <class T>
struct promise : promise_base {
    std::optional<T> value;
    task<T> get_return_object() noexcept;
    template <class U>
    void return_value(U&& v) {
        value.emplace(std::forward<U>(v));
    }
    T take() { return std::move(*value); }
};

template <>
struct promise<void> : promise_base {
    task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void take() const noexcept {}
};

} // namespace detail

template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::promise<T>;
    using handle = std::coroutine_handle<promise_type>;

    task() = default;
    explicit task(handle h) noexcept : h_(h) {}
    task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    task& operator=(task&& o) noexcept {
        if (this != &o) {
            if (h_) h_.destroy();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() {
        if (h_) h_.destroy();
    }

    bool valid() const noexcept { return static_cast<bool>(h_); }
    bool done() const noexcept { return h_ && h_.done(); }

    struct awaiter {
        handle h;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
            h.promise().continuation = caller;
            return h;
        }
        T await_resume() { return h.promise().take(); }
    };
    // REQUIRES: valid() and not yet started.
    awaiter operator co_await() && noexcept { return awaiter{h_}; }

    // For reactor::spawn and tests: start without an awaiting coroutine, and read the result
    // once done().
    void start_detached(std::coroutine_handle<> on_done) noexcept {
        h_.promise().continuation = on_done;
        h_.resume();
    }
    T take_result() { return h_.promise().take(); }

private:
    handle h_;
};

namespace detail {
template <class T>
task<T> promise<T>::get_return_object() noexcept {
    return task<T>{std::coroutine_handle<promise<T>>::from_promise(*this)};
}
inline task<void> promise<void>::get_return_object() noexcept {
    return task<void>{std::coroutine_handle<promise<void>>::from_promise(*this)};
}
} // namespace detail

} // namespace ringlet::rt
