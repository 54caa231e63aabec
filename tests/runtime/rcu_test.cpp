#include "ringlet/runtime/rcu.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using ringlet::rt::rcu_cell;
using ringlet::rt::rcu_domain;
using ringlet::rt::rcu_reader;

namespace {

constexpr std::uint64_t alive_magic = 0x600d'600d'600d'600dULL;
constexpr std::uint64_t poison_magic = 0xdead'dead'dead'deadULL;

std::uint64_t mix(std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

// A generation that counts its constructions and destructions and can tell whether it is still
// alive: the destructor poisons `magic` (a volatile store, so the compiler cannot drop it as a
// dead store to a dying object, and TSan sees it race with a reader's late check()).
struct counted {
    static inline std::atomic<long> constructed{0};
    static inline std::atomic<long> destroyed{0};
    static void reset_counts() {
        constructed = 0;
        destroyed = 0;
    }

    explicit counted(std::uint64_t v) : value(v), checksum(mix(v)) {
        for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = mix(v + i + 1);
        constructed.fetch_add(1, std::memory_order_relaxed);
    }
    ~counted() {
        const_cast<volatile std::uint64_t&>(magic) = poison_magic;
        destroyed.fetch_add(1, std::memory_order_relaxed);
    }
    counted(const counted&) = delete;
    counted& operator=(const counted&) = delete;

    // Empty string when consistent, else what is wrong.
    std::string check() const {
        if (const_cast<const volatile std::uint64_t&>(magic) != alive_magic) {
            return "magic (use after free)";
        }
        if (checksum != mix(value)) return "checksum";
        for (std::size_t i = 0; i < payload.size(); ++i) {
            if (payload[i] != mix(value + i + 1)) return "payload";
        }
        return {};
    }

    std::uint64_t magic = alive_magic;
    std::uint64_t value;
    std::uint64_t checksum;
    std::array<std::uint64_t, 6> payload{};
};

// Freed blocks wait here (the last `depth` of them) before going back to the heap, so a reader
// that touches a freed generation finds the poison instead of a new generation allocated in the
// same place. ASan/TSan builds catch such a reader anyway; this makes release builds catch it.
class quarantine {
public:
    static quarantine& instance() {
        static quarantine q;
        return q;
    }
    ~quarantine() { flush(); }
    void push(void* p, std::size_t n, void (*release)(void*, std::size_t)) {
        std::lock_guard lock(mu_);
        blocks_.push_back({p, n, release});
        if (blocks_.size() > depth) {
            block b = blocks_.front();
            blocks_.pop_front();
            b.release(b.p, b.n);
        }
    }
    void flush() {
        std::lock_guard lock(mu_);
        for (block& b : blocks_) b.release(b.p, b.n);
        blocks_.clear();
    }

private:
    static constexpr std::size_t depth = 4096;
    struct block {
        void* p;
        std::size_t n;
        void (*release)(void*, std::size_t);
    };
    std::mutex mu_;
    std::deque<block> blocks_;
};

template <class U>
struct quarantine_alloc {
    using value_type = U;
    quarantine_alloc() = default;
    template <class V>
    quarantine_alloc(const quarantine_alloc<V>&) noexcept {}
    U* allocate(std::size_t n) { return std::allocator<U>().allocate(n); }
    void deallocate(U* p, std::size_t n) noexcept {
        quarantine::instance().push(p, n, [](void* q, std::size_t m) {
            std::allocator<U>().deallocate(static_cast<U*>(q), m);
        });
    }
    template <class V>
    bool operator==(const quarantine_alloc<V>&) const noexcept {
        return true;
    }
};

class rcu : public ::testing::Test {
protected:
    void SetUp() override { counted::reset_counts(); }
    static long live() { return counted::constructed - counted::destroyed; }
};

} // namespace

TEST_F(rcu, empty_cell_reads_null) {
    rcu_domain d;
    rcu_reader r(d);
    rcu_cell<counted> cell(d);
    EXPECT_EQ(cell.read(), nullptr);
    EXPECT_EQ(cell.hold(), nullptr);
    EXPECT_EQ(cell.current(), nullptr);
}

TEST_F(rcu, read_sees_latest_after_publish) {
    rcu_domain d;
    rcu_reader r(d);
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    ASSERT_NE(cell.read(), nullptr);
    EXPECT_EQ(cell.read()->value, 1u);
    cell.publish(std::make_unique<counted>(2)); // unique_ptr converts
    EXPECT_EQ(cell.read()->value, 2u);
    EXPECT_EQ(cell.current()->value, 2u);
    r.quiescent();
    cell.publish(std::make_shared<counted>(3));
    EXPECT_EQ(cell.read()->value, 3u);
    EXPECT_EQ(cell.read()->check(), "");
}

TEST_F(rcu, old_generation_freed_only_after_every_reader_passed_a_quiescent_point) {
    rcu_domain d;
    rcu_reader r1(d);
    rcu_reader r2(d);
    EXPECT_EQ(d.readers(), 2u);
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    const counted* old = cell.read();

    cell.publish(std::make_shared<counted>(2));
    EXPECT_EQ(live(), 2);
    EXPECT_EQ(d.pending(), 1u);
    EXPECT_EQ(old->check(), ""); // still readable in this turn

    EXPECT_EQ(d.reclaim(), 1u);
    r1.quiescent();
    EXPECT_EQ(d.reclaim(), 1u); // r2 may still be using it
    EXPECT_EQ(live(), 2);
    r1.quiescent(); // more quiescent points of the same reader do not help
    EXPECT_EQ(d.reclaim(), 1u);

    r2.quiescent();
    EXPECT_EQ(live(), 2); // nothing frees without the writer
    EXPECT_EQ(d.reclaim(), 0u);
    EXPECT_EQ(live(), 1);
    EXPECT_EQ(counted::destroyed, 1);
    EXPECT_EQ(cell.read()->value, 2u);
}

TEST_F(rcu, generations_are_freed_in_order_as_grace_periods_end) {
    rcu_domain d;
    rcu_reader r1(d);
    rcu_reader r2(d);
    rcu_cell<counted> cell(d, std::make_shared<counted>(0));
    cell.publish(std::make_shared<counted>(1)); // retires 0
    r1.quiescent();
    r2.quiescent();
    cell.publish(std::make_shared<counted>(2)); // retires 1; publish reclaims 0
    EXPECT_EQ(counted::destroyed, 1);
    EXPECT_EQ(d.pending(), 1u);
    r1.quiescent();
    cell.publish(std::make_shared<counted>(3)); // retires 2; r2 still owes a quiescent point
    EXPECT_EQ(d.pending(), 2u);
    r2.quiescent(); // passes 1 and 2's grace periods; 3 not yet (r1 saw an older epoch)
    EXPECT_EQ(d.reclaim(), 1u);
    EXPECT_EQ(counted::destroyed, 2);
    r1.quiescent();
    EXPECT_EQ(d.reclaim(), 0u);
    EXPECT_EQ(counted::destroyed, 3);
}

TEST_F(rcu, offline_reader_does_not_block_reclamation) {
    rcu_domain d;
    rcu_reader active(d);
    rcu_reader idle(d);
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    idle.offline();
    EXPECT_FALSE(idle.is_online());
    idle.quiescent(); // no-op while offline: does not bring it back online
    EXPECT_FALSE(idle.is_online());

    cell.publish(std::make_shared<counted>(2));
    EXPECT_EQ(live(), 2);
    active.quiescent();
    EXPECT_EQ(d.reclaim(), 0u);
    EXPECT_EQ(live(), 1);

    // Back online: it now holds up the next generation until its own quiescent point.
    idle.online();
    EXPECT_TRUE(idle.is_online());
    EXPECT_EQ(cell.read()->value, 2u);
    cell.publish(std::make_shared<counted>(3));
    active.quiescent();
    EXPECT_EQ(d.reclaim(), 1u);
    idle.quiescent();
    EXPECT_EQ(d.reclaim(), 0u);
    EXPECT_EQ(live(), 1);
}

TEST_F(rcu, online_counts_as_a_quiescent_point) {
    rcu_domain d;
    rcu_reader r(d);
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    cell.publish(std::make_shared<counted>(2));
    EXPECT_EQ(d.pending(), 1u);
    r.offline();
    r.online();
    EXPECT_EQ(d.reclaim(), 0u);
    EXPECT_EQ(live(), 1);
}

TEST_F(rcu, no_readers_frees_at_once) {
    rcu_domain d;
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    cell.publish(std::make_shared<counted>(2));
    EXPECT_EQ(live(), 1);
    EXPECT_EQ(d.pending(), 0u);
}

TEST_F(rcu, unregistered_reader_does_not_block_reclamation) {
    rcu_domain d;
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    {
        rcu_reader r(d);
        cell.publish(std::make_shared<counted>(2));
        EXPECT_EQ(d.pending(), 1u);
    } // the thread "exits"
    EXPECT_EQ(d.readers(), 0u);
    EXPECT_EQ(d.reclaim(), 0u);
    EXPECT_EQ(live(), 1);
}

TEST_F(rcu, hold_keeps_a_generation_alive_past_its_grace_period) {
    rcu_domain d;
    rcu_reader r(d);
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    std::shared_ptr<const counted> held = cell.hold();
    ASSERT_NE(held, nullptr);
    EXPECT_EQ(held.get(), cell.read());

    cell.publish(std::make_shared<counted>(2));
    r.quiescent();
    EXPECT_EQ(d.reclaim(), 0u); // the grace period is over: the domain let go
    EXPECT_EQ(live(), 2);       // but the hold has not
    r.offline();
    r.online();
    r.quiescent();
    EXPECT_EQ(held->check(), "");
    EXPECT_EQ(held->value, 1u);

    held.reset(); // the last hold destroys it
    EXPECT_EQ(live(), 1);
    EXPECT_EQ(counted::destroyed, 1);
}

TEST_F(rcu, grace_period_outlasts_a_released_hold) {
    rcu_domain d;
    rcu_reader r(d);
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    cell.hold().reset(); // a hold released within the turn
    cell.publish(std::make_shared<counted>(2));
    EXPECT_EQ(live(), 2); // the reader has not passed a quiescent point yet
    r.quiescent();
    d.reclaim();
    EXPECT_EQ(live(), 1);
}

TEST_F(rcu, cell_destructor_retires_the_current_generation) {
    rcu_domain d;
    rcu_reader r(d);
    {
        rcu_cell<counted> cell(d, std::make_shared<counted>(1));
        cell.publish(std::make_shared<counted>(2));
    }
    EXPECT_EQ(live(), 2);
    EXPECT_EQ(d.pending(), 2u);
    r.quiescent();
    EXPECT_EQ(d.reclaim(), 0u);
    EXPECT_EQ(live(), 0);
}

TEST_F(rcu, domain_destructor_frees_what_is_left) {
    {
        rcu_domain d;
        {
            rcu_reader r(d);
            rcu_cell<counted> cell(d, std::make_shared<counted>(1));
            cell.publish(std::make_shared<counted>(2));
            EXPECT_EQ(live(), 2);
        }
        // the reader unregistered after the cell retired its generation: nothing freed yet
        EXPECT_EQ(live(), 2);
    }
    EXPECT_EQ(live(), 0);
}

TEST_F(rcu, moved_reader_keeps_its_registration) {
    rcu_domain d;
    rcu_reader a(d);
    rcu_reader b(std::move(a));
    EXPECT_FALSE(a.registered()); // NOLINT(bugprone-use-after-move): moved-from state is defined
    EXPECT_TRUE(b.registered());
    EXPECT_EQ(d.readers(), 1u);
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    cell.publish(std::make_shared<counted>(2));
    a.quiescent(); // no-op
    EXPECT_EQ(d.reclaim(), 1u);
    b.quiescent();
    EXPECT_EQ(d.reclaim(), 0u);

    rcu_reader c;
    EXPECT_FALSE(c.registered());
    c.quiescent(); // an unattached reader ignores everything
    c.offline();
    c.online();
    c = std::move(b);
    EXPECT_EQ(d.readers(), 1u);
    c = rcu_reader(d); // replaces: the old registration goes away
    EXPECT_EQ(d.readers(), 1u);
}

TEST_F(rcu, synchronize_without_online_readers_returns_at_once) {
    rcu_domain d;
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    rcu_reader r(d);
    cell.publish(std::make_shared<counted>(2));
    r.offline();
    EXPECT_TRUE(d.synchronize(std::chrono::seconds(5)));
    EXPECT_EQ(live(), 1);
}

TEST_F(rcu, synchronize_gives_up_after_its_timeout) {
    rcu_domain d;
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    std::promise<void> registered, finish;
    std::thread t([&] {
        rcu_reader r(d); // online, never quiescent: a stuck reactor
        registered.set_value();
        finish.get_future().wait();
    });
    registered.get_future().wait();
    cell.publish(std::make_shared<counted>(2));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(d.synchronize(std::chrono::milliseconds(20)));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(20));
    EXPECT_EQ(live(), 2);
    finish.set_value();
    t.join();
    EXPECT_TRUE(d.synchronize(std::chrono::seconds(5)));
    EXPECT_EQ(live(), 1);
}

TEST_F(rcu, synchronize_waits_for_a_busy_reader_and_ignores_a_blocked_one) {
    rcu_domain d;
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    std::atomic<bool> stop{false};
    std::promise<void> busy_ready, idle_ready, idle_wake;
    std::thread busy([&] {
        rcu_reader r(d);
        busy_ready.set_value();
        while (!stop.load(std::memory_order_relaxed)) {
            const counted* p = cell.read();
            EXPECT_EQ(p->check(), "");
            r.quiescent();
        }
    });
    std::thread idle([&] {
        rcu_reader r(d);
        EXPECT_EQ(cell.read()->check(), "");
        r.offline(); // blocked waiting for I/O, for longer than the test
        idle_ready.set_value();
        idle_wake.get_future().wait();
        r.online();
        EXPECT_EQ(cell.read()->value, 2u);
    });
    busy_ready.get_future().wait();
    idle_ready.get_future().wait();
    cell.publish(std::make_shared<counted>(2));
    EXPECT_TRUE(d.synchronize(std::chrono::seconds(10)));
    EXPECT_EQ(live(), 1);
    idle_wake.set_value();
    stop = true;
    busy.join();
    idle.join();
}

#ifndef NDEBUG
TEST_F(rcu, debug_build_catches_a_read_without_an_online_reader) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    rcu_domain d;
    rcu_cell<counted> cell(d, std::make_shared<counted>(1));
    EXPECT_DEATH(cell.read(), "online rcu_reader");
    rcu_reader r(d);
    r.offline();
    EXPECT_DEATH(cell.hold(), "online rcu_reader");
    r.online();
    EXPECT_EQ(cell.read()->value, 1u);
}
#endif

// Readers loop over read/check/quiescent, go offline now and then, and keep holds across turns
// while the writer publishes 10,000 generations.
TEST_F(rcu, stress_readers_against_ten_thousand_publications) {
    constexpr int publications = 10'000;
    constexpr int reader_threads = 3;
    constexpr int reads_per_turn = 64;

    rcu_domain d;
    auto make = [](std::uint64_t v) {
        return std::allocate_shared<counted>(quarantine_alloc<counted>(), v);
    };
    rcu_cell<counted> cell(d, make(0));
    std::atomic<bool> writer_done{false};
    std::atomic<int> ready{0};
    std::atomic<long> total_reads{0}, total_holds{0}, total_offline{0};
    std::atomic<long> turns{0}; // all readers' loop turns, to pace the writer

    auto reader_main = [&](unsigned seed) {
        std::mt19937 rng(seed);
        rcu_reader r(d);
        ready.fetch_add(1);
        std::uint64_t last = 0;
        struct kept {
            std::shared_ptr<const counted> gen;
            int turns_left;
        };
        std::deque<kept> holds;
        long reads = 0, nholds = 0, noffline = 0;
        bool failed = false;
        auto turn = [&] {
            for (int i = 0; i < reads_per_turn && !failed; ++i) {
                const counted* p = cell.read();
                ++reads;
                if (p == nullptr) {
                    ADD_FAILURE() << "null generation";
                    failed = true;
                    break;
                }
                if (std::string why = p->check(); !why.empty()) {
                    ADD_FAILURE() << "read generation " << p->value << " broken: " << why;
                    failed = true;
                    break;
                }
                if (p->value < last) {
                    ADD_FAILURE() << "went back from " << last << " to " << p->value;
                    failed = true;
                }
                last = p->value;
                if (rng() % 512 == 0) {
                    holds.push_back({cell.hold(), int(rng() % 200)});
                    ++nholds;
                    if (holds.back().gen->value < p->value) {
                        ADD_FAILURE() << "hold older than an earlier read";
                        failed = true;
                    }
                }
            }
            for (auto& h : holds) {
                if (std::string why = h.gen->check(); !why.empty()) {
                    ADD_FAILURE() << "held generation " << h.gen->value << " broken: " << why;
                    failed = true;
                }
                --h.turns_left;
            }
            while (!holds.empty() && holds.front().turns_left <= 0) holds.pop_front();
            r.quiescent();
            turns.fetch_add(1, std::memory_order_relaxed);
        };
        while (!writer_done.load(std::memory_order_acquire) && !failed) {
            turn();
            switch (rng() % 64) {
            case 0: // blocked on I/O for a while
                r.offline();
                ++noffline;
                std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
                r.online();
                break;
            case 1: // an empty wait
                r.offline();
                ++noffline;
                std::this_thread::yield();
                r.online();
                break;
            default:
                break;
            }
        }
        turn(); // one more after the last publication
        EXPECT_EQ(last, std::uint64_t(publications));
        total_reads += reads;
        total_holds += nholds;
        total_offline += noffline;
        // Holds die with the thread, some after the reader unregistered.
        r = rcu_reader();
    };

    std::vector<std::thread> readers;
    for (int i = 0; i < reader_threads; ++i) readers.emplace_back(reader_main, 1234u + i);
    while (ready.load() < reader_threads) std::this_thread::yield();

    std::size_t max_pending = 0;
    for (int i = 1; i <= publications; ++i) {
        cell.publish(make(i));
        max_pending = std::max(max_pending, d.reclaim());
        // Interleave: let some reader finish a turn (it may be asleep offline: bounded wait).
        const long seen_turns = turns.load(std::memory_order_relaxed);
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
        while (turns.load(std::memory_order_relaxed) == seen_turns &&
               std::chrono::steady_clock::now() < give_up) {
            std::this_thread::yield();
        }
    }
    const long freed_while_reading = counted::destroyed.load();
    writer_done.store(true, std::memory_order_release);
    for (auto& t : readers) t.join();

    EXPECT_TRUE(d.synchronize(std::chrono::seconds(5)));
    EXPECT_EQ(d.pending(), 0u);
    EXPECT_EQ(d.readers(), 0u);
    EXPECT_EQ(counted::constructed.load(), publications + 1);
    EXPECT_EQ(counted::constructed.load(), counted::destroyed.load() + 1);
    EXPECT_EQ(cell.current()->value, std::uint64_t(publications));
    EXPECT_GT(freed_while_reading, 0); // reclamation made progress with readers online
    EXPECT_GT(total_reads.load(), 0);
    RecordProperty("reads", std::to_string(total_reads.load()));
    RecordProperty("holds", std::to_string(total_holds.load()));
    RecordProperty("offline_waits", std::to_string(total_offline.load()));
    RecordProperty("max_pending", std::to_string(max_pending));
}
