#include "ringlet/runtime/ops.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/runtime/task.hpp"
#include "support/uring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace ringlet;

namespace {

rt::task<int> child(int v) {
    co_return v * 2;
}

rt::task<long> sum_children(int n) {
    long total = 0;
    for (int i = 0; i < n; ++i) total += co_await child(i);
    co_return total;
}

rt::task<void> sleeper(int* done) {
    co_await rt::sleep_for(1'000'000); // 1 ms, through the reactor's timers
    ++*done;
}

} // namespace

TEST(task, lazy_until_awaited) {
    bool ran = false;
    auto make = [&ran]() -> rt::task<void> {
        ran = true;
        co_return;
    };
    {
        auto t = make();
        EXPECT_FALSE(ran);
    } // destroying an unstarted task is fine
    EXPECT_FALSE(ran);
}

TEST(task, returns_values_through_a_chain) {
    RINGLET_REACTOR_OR_SKIP(r);
    EXPECT_EQ(r->run_until_done(sum_children(100)), 9900);
}

// A million synchronously completing co_awaits: symmetric transfer must not grow the stack.
TEST(task, long_synchronous_chains_do_not_overflow_the_stack) {
    RINGLET_REACTOR_OR_SKIP(r);
    EXPECT_EQ(r->run_until_done(sum_children(1'000'000)), 999'999'000'000L);
}

TEST(task, ten_thousand_spawned_tasks_complete) {
    RINGLET_REACTOR_OR_SKIP(r);
    int done = 0;
    for (int i = 0; i < 10'000; ++i) r->spawn(sleeper(&done));
    EXPECT_EQ(r->live_tasks(), 10'000u);
    r->stop();
    r->run(); // returns once every spawned task finished
    EXPECT_EQ(done, 10'000);
    EXPECT_EQ(r->live_tasks(), 0u);
}

TEST(reactor, sleep_waits_at_least_the_requested_time) {
    RINGLET_REACTOR_OR_SKIP(r);
    auto t0 = rt::reactor::clock_now();
    r->run_until_done([]() -> rt::task<void> { co_await rt::sleep_for(20'000'000); }());
    EXPECT_GE(rt::reactor::clock_now() - t0, 20'000'000);
}

TEST(reactor, post_from_another_thread_runs_on_the_reactor_thread) {
    RINGLET_REACTOR_OR_SKIP(r);
    std::thread::id ran_on;
    std::atomic<int> count{0};
    rt::reactor* rp = r.get();
    std::thread other([&] {
        for (int i = 0; i < 100; ++i) rp->post([&] { ++count; });
        rp->post([&] {
            ran_on = std::this_thread::get_id();
            rp->stop();
        });
    });
    r->run();
    other.join();
    EXPECT_EQ(count.load(), 100);
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(reactor, linked_timeout_ends_an_operation_with_timed_out) {
    RINGLET_REACTOR_OR_SKIP(r);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    char buf[8];
    auto t0 = rt::reactor::clock_now();
    auto res = r->run_until_done([](int fd, char* b) -> rt::task<result<int>> {
        // A pipe with no writer activity: the read can only end by its 30 ms deadline.
        auto op =
            rt::uring_op([=](io_uring_sqe* s) { io_uring_prep_read(s, fd, b, 8, 0); }, 30'000'000);
        co_return co_await op;
    }(fds[0], buf));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), std::errc::timed_out);
    EXPECT_GE(rt::reactor::clock_now() - t0, 30'000'000);
    ::close(fds[0]);
    ::close(fds[1]);
}
