#include "ringlet/runtime/timer_queue.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

using ringlet::rt::timer;
using ringlet::rt::timer_queue;

namespace {

struct probe {
    std::vector<int>* log;
    int id;
    timer t{&probe::fire, this};
    static void fire(timer& t) {
        auto* p = static_cast<probe*>(t.context());
        p->log->push_back(p->id);
    }
};

} // namespace

TEST(timer_queue, fires_in_due_order_and_only_when_due) {
    timer_queue q;
    std::vector<int> log;
    probe a{&log, 1}, b{&log, 2}, c{&log, 3};
    q.arm(a.t, 30);
    q.arm(b.t, 10);
    q.arm(c.t, 20);
    EXPECT_EQ(q.next_due(), 10);
    EXPECT_EQ(q.expire(9), 0u);
    EXPECT_EQ(q.expire(20), 2u);
    EXPECT_EQ(log, (std::vector<int>{2, 3}));
    EXPECT_FALSE(b.t.armed());
    EXPECT_TRUE(a.t.armed());
    EXPECT_EQ(q.expire(100), 1u);
    EXPECT_EQ(log, (std::vector<int>{2, 3, 1}));
    EXPECT_EQ(q.next_due(), timer::never);
}

TEST(timer_queue, extending_a_deadline_defers_firing) {
    timer_queue q;
    std::vector<int> log;
    probe a{&log, 1};
    q.arm(a.t, 10);
    q.arm(a.t, 50); // keep-alive pushed out
    EXPECT_EQ(q.expire(10), 0u);
    EXPECT_TRUE(a.t.armed());
    EXPECT_EQ(q.next_due(), 50);
    EXPECT_EQ(q.expire(49), 0u);
    EXPECT_EQ(q.expire(50), 1u);
}

TEST(timer_queue, shortening_a_deadline_fires_earlier) {
    timer_queue q;
    std::vector<int> log;
    probe a{&log, 1}, b{&log, 2};
    q.arm(a.t, 100);
    q.arm(b.t, 50);
    q.arm(a.t, 5);
    EXPECT_EQ(q.next_due(), 5);
    EXPECT_EQ(q.expire(5), 1u);
    EXPECT_EQ(log, (std::vector<int>{1}));
}

TEST(timer_queue, disarm_and_destruction_remove_the_node) {
    timer_queue q;
    std::vector<int> log;
    probe a{&log, 1};
    {
        probe b{&log, 2};
        q.arm(b.t, 10);
        q.arm(a.t, 20);
    } // b dies armed
    EXPECT_EQ(q.size(), 1u);
    q.disarm(a.t);
    EXPECT_EQ(q.size(), 0u);
    EXPECT_EQ(q.expire(1000), 0u);
    EXPECT_TRUE(log.empty());
}

TEST(timer_queue, callback_may_rearm_itself) {
    timer_queue q;
    int fired = 0;
    struct self_rearm {
        timer_queue* q;
        int* fired;
        timer t{&self_rearm::fire, this};
        static void fire(timer& t) {
            auto* s = static_cast<self_rearm*>(t.context());
            if (++*s->fired < 3) s->q->arm(t, 1000 * *s->fired); // later than now: no loop
        }
    } s{&q, &fired};
    q.arm(s.t, 1);
    q.expire(10);
    EXPECT_EQ(fired, 1);
    q.expire(1000);
    EXPECT_EQ(fired, 2);
}

// Property: against a reference model, random arms/disarms/expiries fire exactly the same timers.
TEST(timer_queue, matches_a_reference_model) {
    std::mt19937 rng(12345);
    timer_queue q;
    constexpr int n = 200;
    std::vector<int> log;
    std::vector<std::unique_ptr<probe>> probes;
    for (int i = 0; i < n; ++i) probes.push_back(std::unique_ptr<probe>(new probe{&log, i}));
    std::map<int, std::int64_t> model; // id -> due
    std::int64_t now = 0;
    for (int step = 0; step < 20000; ++step) {
        int id = static_cast<int>(rng() % n);
        switch (rng() % 4) {
        case 0:
        case 1: {
            std::int64_t due = now + static_cast<std::int64_t>(rng() % 1000);
            q.arm(probes[id]->t, due);
            model[id] = due;
            break;
        }
        case 2:
            q.disarm(probes[id]->t);
            model.erase(id);
            break;
        case 3: {
            now += static_cast<std::int64_t>(rng() % 300);
            log.clear();
            q.expire(now);
            std::vector<int> expected;
            for (auto it = model.begin(); it != model.end();) {
                if (it->second <= now) {
                    expected.push_back(it->first);
                    it = model.erase(it);
                } else {
                    ++it;
                }
            }
            std::sort(log.begin(), log.end());
            ASSERT_EQ(log, expected) << "step " << step;
            break;
        }
        }
        ASSERT_EQ(q.size(), model.size());
    }
}
