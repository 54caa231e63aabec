#include "ringlet/runtime/timer_queue.hpp"

#include <utility>

namespace ringlet::rt {

timer::~timer() {
    if (queue_) queue_->disarm(*this);
}

timer_queue::~timer_queue() {
    for (timer* t : heap_) t->queue_ = nullptr;
}

void timer_queue::arm(timer& t, std::int64_t due) {
    if (t.queue_ == this) {
        t.due_ = due;
        if (due < t.key_) {
            t.key_ = due;
            sift_up(t.index_);
        }
        // Later: keep the old key; expire() re-keys when it surfaces.
        return;
    }
    t.queue_ = this;
    t.key_ = t.due_ = due;
    heap_.push_back(&t);
    t.index_ = heap_.size() - 1;
    sift_up(t.index_);
}

void timer_queue::disarm(timer& t) noexcept {
    if (t.queue_ != this) return;
    remove_at(t.index_);
    t.queue_ = nullptr;
    t.key_ = t.due_ = timer::never;
}

std::int64_t timer_queue::next_due() const noexcept {
    return heap_.empty() ? timer::never : heap_.front()->key_;
}

std::size_t timer_queue::expire(std::int64_t now) {
    std::size_t fired = 0;
    while (!heap_.empty() && heap_.front()->key_ <= now) {
        timer* t = heap_.front();
        if (t->due_ != t->key_) {
            // Lazily extended: move it to its real place first, so timers fire in due order.
            t->key_ = t->due_;
            sift_down(0);
            continue;
        }
        remove_at(0);
        t->queue_ = nullptr;
        t->key_ = t->due_ = timer::never;
        ++fired;
        if (t->on_fire_) t->on_fire_(*t);
    }
    return fired;
}

void timer_queue::sift_up(std::size_t i) noexcept {
    timer* t = heap_[i];
    while (i > 0) {
        std::size_t parent = (i - 1) / 2;
        if (heap_[parent]->key_ <= t->key_) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, t);
}

void timer_queue::sift_down(std::size_t i) noexcept {
    timer* t = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && heap_[child + 1]->key_ < heap_[child]->key_) ++child;
        if (t->key_ <= heap_[child]->key_) break;
        place(i, heap_[child]);
        i = child;
    }
    place(i, t);
}

void timer_queue::remove_at(std::size_t i) noexcept {
    timer* last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    place(i, last);
    sift_down(i);
    sift_up(last->index_);
}

} // namespace ringlet::rt
