// tcp_stream: a connected socket owned by one connection coroutine.
//
// Reading uses a multishot recv into the reactor's provided-buffer ring: the kernel keeps
// delivering data while the coroutine is busy elsewhere, and the stream queues it (bounded: past
// 64 KiB or 16 chunks queued it cancels the multishot and re-arms when the reader drains). When
// the ring runs dry (ENOBUFS) a read falls back to a one-shot recv straight into the caller's
// buffer, so an exhausted ring slows a reactor down but never stalls or spins it.
//
// Deadlines are absolute reactor times (rt::reactor::now() based), kept on the reactor's timer
// queue: a read that passes its deadline ends with timed_out; interrupt() ends a waiting read
// with operation_canceled (graceful shutdown wakes idle keep-alive connections that way).
//
// A byte-stream layered on top (TLS) can also consume the queue in place: async_wait_readable()
// waits without a destination buffer and read_buffered() copies what is queued, so an idle
// connection owns no input buffer. When the ring is dry during such a wait, the one-shot recv
// goes into a small buffer owned by the stream only until its bytes are read.
//
// Writes are one-shot sendmsg with MSG_WAITALL. Their deadline is a second timer on the
// reactor's queue (re-arming it per send is O(1)), not a linked timeout: that would cost a
// kernel timer and an extra CQE on every response.
//
// This is the byte-stream contract the HTTP layer is written against (a TLS stream provides the
// same three calls): async_read_some, async_write_all, async_close.
//
// Lifetime: call and await async_close() before destroying the stream; it waits until the kernel
// has returned every buffer and completion that refers to the stream.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/runtime/completion.hpp"
#include "ringlet/runtime/task.hpp"
#include "ringlet/runtime/timer_queue.hpp"

#include <sys/uio.h>

#include <coroutine>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace ringlet::net {

class tcp_stream : rt::completion {
public:
    explicit tcp_stream(int fd); // takes ownership
    tcp_stream(const tcp_stream&) = delete;
    tcp_stream& operator=(const tcp_stream&) = delete;
    ~tcp_stream();

    int fd() const noexcept { return fd_; }

    class read_awaiter {
    public:
        read_awaiter(tcp_stream& s, std::span<char> dst, std::int64_t deadline) noexcept
            : s_(s), dst_(dst), deadline_(deadline) {}
        bool await_ready() noexcept { return s_.try_read(dst_); }
        void await_suspend(std::coroutine_handle<> h) { s_.wait_read(h, dst_, deadline_); }
        result<std::size_t> await_resume() noexcept { return s_.read_result(); }

    private:
        tcp_stream& s_;
        std::span<char> dst_;
        std::int64_t deadline_;
    };
    // Up to dst.size() bytes; 0 means the peer closed its side. `deadline` = rt::timer::never
    // for none. One reader at a time.
    read_awaiter async_read_some(std::span<char> dst, std::int64_t deadline) noexcept {
        return read_awaiter(*this, dst, deadline);
    }

    class wait_awaiter {
    public:
        wait_awaiter(tcp_stream& s, std::int64_t deadline) noexcept : s_(s), deadline_(deadline) {}
        bool await_ready() noexcept { return s_.try_read({}); }
        void await_suspend(std::coroutine_handle<> h) { s_.wait_read(h, {}, deadline_); }
        result<std::size_t> await_resume() noexcept { return s_.read_result(); }

    private:
        tcp_stream& s_;
        std::int64_t deadline_;
    };
    // Waits until bytes are queued (> 0: how many), the peer closed (0) or an error, like
    // async_read_some but consuming nothing: read them with read_buffered(). One reader at a time.
    wait_awaiter async_wait_readable(std::int64_t deadline) noexcept {
        return wait_awaiter(*this, deadline);
    }
    // Copies up to dst.size() queued bytes, without waiting; 0 when nothing is queued.
    std::size_t read_buffered(std::span<char> dst) noexcept { return copy_out(dst); }
    // The peer closed its side, or the connection failed: nothing more will be queued.
    bool input_ended() const noexcept { return eof_ || error_ != 0; }

    // One non-blocking send(2) on the calling thread, for callers that would otherwise copy the
    // bytes into a buffer of their own or wait a ring round trip: returns how many bytes the
    // socket took (maybe fewer than asked, or 0 when its buffer is full; the caller sends the
    // rest with async_write_all). Fails after abort() or on a socket error. Only while no
    // async_write_all is in flight.
    result<std::size_t> try_send(std::span<const char> bytes) noexcept;

    // Sends every byte of `iov` (adjusting it in place on short writes). `timeout_ns` bounds each
    // sendmsg: a peer that does not take the bytes within it ends the write with timed_out.
    rt::task<result<void>> async_write_all(std::span<iovec> iov, std::int64_t timeout_ns);

    // Ends a waiting read with operation_canceled, or, when no read is waiting, the next read
    // that would wait (buffered data is still delivered first); reads after that are unaffected.
    void interrupt();
    // Ends the connection's I/O for good: a waiting read and any send in flight end with
    // operation_canceled, and every later read or write fails at once. For shutdown deadlines.
    void abort();
    bool read_waiting() const noexcept { return static_cast<bool>(waiter_); }
    // Bytes received and not yet read.
    std::size_t buffered() const noexcept { return queued_bytes_; }

    // Half-closes: no more bytes from us (FIN); reading continues.
    rt::task<void> async_shutdown_write();
    rt::task<void> async_close();

private:
    enum class recv_mode : std::uint8_t { idle, multishot, oneshot };
    struct chunk {
        std::uint16_t id;
        std::uint16_t off;
        std::uint32_t len;
    };
    static constexpr std::size_t max_queued_bytes = 64 * 1024;
    static constexpr std::size_t max_queued_chunks = 16;
    static constexpr std::uint16_t spill_id = 0xffff; // chunk id of spill_ (never a ring id)
    static constexpr std::size_t spill_size = 4096;

    bool try_read(std::span<char> dst) noexcept;
    void wait_read(std::coroutine_handle<> h, std::span<char> dst, std::int64_t deadline);
    result<std::size_t> read_result() noexcept;
    std::size_t copy_out(std::span<char> dst) noexcept;
    int take_for(std::span<char> dst) noexcept; // a read's result: bytes copied, or queued
    void drop_queued() noexcept; // gives every queued chunk back (ring buffers, spill_)
    void start_recv();
    void finish_read(int res);
    void abort_wait(int err);
    static void on_complete(rt::completion* c, int res, std::uint32_t flags, unsigned tag);
    static void on_deadline(rt::timer& t);
    static void on_write_deadline(rt::timer& t);

    int fd_;
    recv_mode mode_ = recv_mode::idle;
    bool eof_ = false, paused_ = false, closing_ = false, ring_dry_ = false, aborted_ = false,
         interrupted_ = false;
    int error_ = 0;        // sticky socket error (positive errno)
    int abort_reason_ = 0; // why a pending one-shot recv is being cancelled
    int result_ = 0;       // outcome for read_result: >= 0 bytes, < 0 errno
    std::vector<chunk> queue_;
    std::size_t head_ = 0, queued_bytes_ = 0;
    std::coroutine_handle<> waiter_, close_waiter_;
    std::span<char> dst_;
    std::unique_ptr<char[]> spill_; // a dry ring's one-shot recv when the waiter has no buffer
    rt::timer deadline_;
    rt::timer write_deadline_;
    std::uint64_t write_op_ = 0; // user_data of the send in flight, 0 if none
    bool write_timed_out_ = false;
    bool spill_recv_ = false; // the one-shot recv in flight reads into spill_
};

} // namespace ringlet::net
