#include "ringlet/runtime/reactor.hpp"

#include "ringlet/base/log.hpp"

#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

namespace ringlet::rt {

namespace {

thread_local reactor* current_reactor = nullptr;

// The frame that owns a spawned task; destroys itself when the task returns.
struct detached {
    struct promise_type {
        detached get_return_object() const noexcept { return {}; }
        std::suspend_never initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }
        static void* operator new(std::size_t n) { return frame_alloc(n); }
        static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }
    };
};

} // namespace

struct spawn_access {
    static detached run(reactor& r, task<void> t) {
        co_await std::move(t);
        reactor_done(r);
    }
    static void reactor_done(reactor& r);
};

reactor* reactor::current() noexcept {
    return current_reactor;
}

std::int64_t reactor::clock_now() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

result<std::unique_ptr<reactor>> reactor::create(unsigned index, const reactor_options& o) {
    std::unique_ptr<reactor> r(new reactor(index)); // private constructor: make_unique can't
    if (auto ok = r->init(o); !ok) return unexpected{ok.error()};
    current_reactor = r.get();
    return r;
}

result<void> reactor::init(const reactor_options& o) {
    io_uring_params p{};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
              IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
    p.cq_entries = o.sq_entries * o.cq_multiplier;
    int rc = io_uring_queue_init_params(o.sq_entries, &ring_, &p);
    if (rc == -EINVAL) {
        // Kernels before 6.1 lack DEFER_TASKRUN.
        p = {};
        p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_CQSIZE;
        p.cq_entries = o.sq_entries * o.cq_multiplier;
        rc = io_uring_queue_init_params(o.sq_entries, &ring_, &p);
    }
    if (rc < 0) return fail_errno(-rc);
    ring_ok_ = true;
    io_uring_register_ring_fd(&ring_); // an optimisation only; failure is harmless
    batch_.resize(p.cq_entries);

    if (auto ok = buffers_.init(ring_, o.recv_buffers, o.recv_buffer_size, 0); !ok) return ok;

    event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (event_fd_ < 0) return fail_errno(errno);
    doorbell_.on_cqe = &reactor::on_doorbell;
    arm_doorbell();
    now_ = clock_now();
    rcu_ = rcu_reader(rcu_domain::global());
    return {};
}

reactor::~reactor() {
    if (ring_ok_) io_uring_queue_exit(&ring_);
    if (event_fd_ >= 0) ::close(event_fd_);
    if (current_reactor == this) current_reactor = nullptr;
}

io_uring_sqe* reactor::get_sqe(unsigned n) {
    if (io_uring_sq_space_left(&ring_) < n) io_uring_submit(&ring_);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (!sqe) {
        io_uring_submit(&ring_);
        sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
}

void reactor::spawn(task<void> t) {
    ++live_;
    spawn_access::run(*this, std::move(t));
}

void spawn_access::reactor_done(reactor& r) {
    reactor::on_spawned_done(r);
}
void reactor::on_spawned_done(reactor& r) {
    --r.live_;
}

void reactor::arm_doorbell() {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_read(sqe, event_fd_, &doorbell_value_, sizeof doorbell_value_, 0);
    io_uring_sqe_set_data64(sqe, encode(&doorbell_));
}

void reactor::on_doorbell(completion* c, int res, std::uint32_t, unsigned) {
    // doorbell_ is the first completion member; recover the reactor from it.
    reactor* self = current_reactor;
    (void)c;
    if (res < 0 && res != -EAGAIN && res != -EINTR) {
        RINGLET_LOG(error) << "reactor doorbell read failed: " << errno_code(-res);
    }
    self->arm_doorbell();
    self->run_posted();
}

void reactor::post(std::function<void()> fn) {
    {
        std::lock_guard lock(posted_mu_);
        posted_.push_back(std::move(fn));
    }
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(event_fd_, &one, sizeof one);
}

void reactor::run_posted() {
    {
        std::lock_guard lock(posted_mu_);
        running_.swap(posted_);
    }
    for (auto& fn : running_) fn();
    running_.clear();
}

void reactor::run_once(bool block) {
    unsigned wait = block && io_uring_cq_ready(&ring_) == 0 ? 1 : 0;
    int rc;
    if (wait) {
        __kernel_timespec ts{};
        __kernel_timespec* tsp = nullptr;
        if (std::int64_t due = timers_.next_due(); due != timer::never) {
            std::int64_t delta = due - clock_now();
            if (delta < 0) delta = 0;
            ts.tv_sec = delta / 1'000'000'000;
            ts.tv_nsec = delta % 1'000'000'000;
            tsp = &ts;
        }
        io_uring_cqe* cqe = nullptr;
        rcu_.offline();
        rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, tsp, nullptr);
        rcu_.online();
    } else {
        rc = io_uring_submit_and_get_events(&ring_);
    }
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
        RINGLET_LOG(error) << "io_uring_enter failed: " << errno_code(-rc);
    }

    // Copy the CQEs out and advance before resuming anything: resumed coroutines submit and may
    // enter the kernel, which must not see a CQ we are still reading.
    unsigned n = 0;
    unsigned head;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
        batch_[n++] = *cqe;
        if (n == batch_.size()) break;
    }
    io_uring_cq_advance(&ring_, n);
    // The wait may have been long: what the completions start (deadlines, say) must not be
    // measured from the time before it.
    now_ = clock_now();
    for (unsigned i = 0; i < n; ++i) {
        const io_uring_cqe& e = batch_[i];
        if (e.user_data == ignored_user_data) continue;
        auto* c = reinterpret_cast<completion*>(e.user_data & ~completion_tag_mask);
        c->on_cqe(c, e.res, e.flags, static_cast<unsigned>(e.user_data & completion_tag_mask));
    }
    now_ = clock_now();
    timers_.expire(now_);
    rcu_.quiescent();
}

void reactor::run() {
    while (!(stopping_ && live_ == 0)) run_once(true);
}

} // namespace ringlet::rt
