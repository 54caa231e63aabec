#include "ringlet/runtime/rcu.hpp"

#include <algorithm>
#include <limits>

namespace ringlet::rt {

// ---------------------------------------------------------------------------------------------
// rcu_domain

rcu_domain::~rcu_domain() {
    assert(readers_.empty() && "rcu_domain destroyed with registered readers");
    retired_.clear();
}

rcu_domain& rcu_domain::global() {
    // Deliberately leaked: reactor threads may unregister after static destruction began.
    static rcu_domain& d = *std::make_unique<rcu_domain>().release();
    return d;
}

void rcu_domain::retire_locked(std::unique_ptr<detail::rcu_retired> r) noexcept {
    // The new epoch: a reader whose seen reaches it passed a quiescent point after the swap.
    r->epoch = epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
    try {
        retired_.push_back(std::move(r)); // publish() reserved room: never throws from there
    } catch (...) {
        // Only ~rcu_cell gets here, out of memory: readers may still use the generation, so
        // leaking it is the one safe option.
        static_cast<void>(r.release());
    }
}

std::uint64_t rcu_domain::min_online_seen_locked() const noexcept {
    std::uint64_t m = std::numeric_limits<std::uint64_t>::max();
    for (const detail::rcu_reader_state* s : readers_) {
        // seq_cst: the writer's half of the Dekker pair with rcu_reader::online().
        const std::uint64_t v = s->seen.load(std::memory_order_seq_cst);
        if (v != 0 && v < m) m = v;
    }
    return m;
}

std::size_t rcu_domain::reclaim() {
    std::vector<std::unique_ptr<detail::rcu_retired>> dead;
    std::size_t left = 0;
    {
        std::lock_guard lock(mu_);
        if (retired_.empty()) return 0;
        const std::uint64_t safe = min_online_seen_locked();
        auto end = std::partition_point(retired_.begin(), retired_.end(),
                                        [safe](const auto& r) { return r->epoch <= safe; });
        dead.assign(std::make_move_iterator(retired_.begin()), std::make_move_iterator(end));
        retired_.erase(retired_.begin(), end);
        left = retired_.size();
    }
    // Destructors (wolfSSL_CTX_free, ...) run outside the mutex: they may take a while, and may
    // even publish to another cell of this domain.
    dead.clear();
    return left;
}

bool rcu_domain::synchronize(std::chrono::nanoseconds timeout) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + timeout;
    // Readers online now may be in the middle of a turn whatever they have seen so far: wait for
    // one more quiescent point from each.
    const std::uint64_t target = epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
    auto pause = std::chrono::microseconds(1);
    for (unsigned round = 0;; ++round) {
        {
            std::lock_guard lock(mu_);
            if (min_online_seen_locked() >= target) break;
        }
        if (clock::now() >= deadline) return false;
        if (round < 16) {
            std::this_thread::yield();
        } else {
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::microseconds(1000));
        }
    }
    reclaim();
    return true;
}

std::size_t rcu_domain::pending() const {
    std::lock_guard lock(mu_);
    return retired_.size();
}

std::size_t rcu_domain::readers() const {
    std::lock_guard lock(mu_);
    return readers_.size();
}

void rcu_domain::add_reader(detail::rcu_reader_state* s) {
    std::lock_guard lock(mu_);
    readers_.push_back(s);
}

void rcu_domain::remove_reader(detail::rcu_reader_state* s) noexcept {
    std::lock_guard lock(mu_);
    auto it = std::find(readers_.begin(), readers_.end(), s);
    assert(it != readers_.end());
    *it = readers_.back();
    readers_.pop_back();
}

// ---------------------------------------------------------------------------------------------
// rcu_reader

rcu_reader::rcu_reader(rcu_domain& d)
    : domain_(&d), epoch_(&d.epoch_), state_(std::make_unique<detail::rcu_reader_state>()) {
#ifndef NDEBUG
    owner_ = std::this_thread::get_id();
#endif
    // Registered offline (seen == 0), then online like after any blocking wait.
    d.add_reader(state_.get());
    online();
}

rcu_reader::~rcu_reader() {
    reset();
}

rcu_reader::rcu_reader(rcu_reader&& o) noexcept
    : domain_(std::exchange(o.domain_, nullptr)), epoch_(std::exchange(o.epoch_, nullptr)),
      state_(std::move(o.state_)), cached_(std::exchange(o.cached_, 0)) {
#ifndef NDEBUG
    owner_ = o.owner_;
#endif
}

rcu_reader& rcu_reader::operator=(rcu_reader&& o) noexcept {
    if (this != &o) {
        reset();
        domain_ = std::exchange(o.domain_, nullptr);
        epoch_ = std::exchange(o.epoch_, nullptr);
        state_ = std::move(o.state_);
        cached_ = std::exchange(o.cached_, 0);
#ifndef NDEBUG
        owner_ = o.owner_;
#endif
    }
    return *this;
}

void rcu_reader::reset() noexcept {
    if (!state_) return;
    offline();
    // After the release store of 0 and under the domain's mutex: the writer never looks at this
    // state again, and everything this reader did happens-before the writer's next scan.
    domain_->remove_reader(state_.get());
    state_.reset();
    domain_ = nullptr;
    epoch_ = nullptr;
}

void rcu_reader::note_epoch(std::uint64_t e) noexcept {
    assert(owner_ == std::this_thread::get_id() && "rcu_reader used off its thread");
    if (cached_ == 0) return; // offline: quiescent() must not bring a reader online
    state_->seen.store(e, std::memory_order_release);
    cached_ = e;
}

void rcu_reader::offline() noexcept {
    if (cached_ == 0) return;
    assert(owner_ == std::this_thread::get_id() && "rcu_reader used off its thread");
    state_->seen.store(0, std::memory_order_release);
    cached_ = 0;
#ifndef NDEBUG
    --detail::rcu_online_readers;
#endif
}

void rcu_reader::online() noexcept {
    if (!state_ || cached_ != 0) return;
    assert(owner_ == std::this_thread::get_id() && "rcu_reader used off its thread");
    const std::uint64_t e = epoch_->load(std::memory_order_acquire);
    // seq_cst: the reader's half of the Dekker pair (store seen, then load the cells).
    state_->seen.store(e, std::memory_order_seq_cst);
    cached_ = e;
#ifndef NDEBUG
    ++detail::rcu_online_readers;
#endif
}

} // namespace ringlet::rt
