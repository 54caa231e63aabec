// access_log: one line per response, buffered per reactor.
//
//   127.0.0.1 - - [28/Nov/2026:19:52:01 +0000] "GET /index.html HTTP/1.1" 200 1024 "-"
//   "curl/7.88.1" localhost 85us
//
// (the combined log format, then the Host and the time to the last byte handed to the kernel).
// Lines collect in the reactor's buffer and go out with one write(2) when 16 KiB have gathered
// or 200 ms after the oldest unwritten line, so logging never costs a system call per request.
// The fd is shared by all reactors and opened with O_APPEND: each write lands whole.
// Reactor thread only.
#pragma once

#include "ringlet/http/request.hpp"
#include "ringlet/runtime/timer_queue.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ringlet::server {

class access_log {
public:
    explicit access_log(int fd = -1) : fd_(fd), timer_(&access_log::on_timer, this) {}
    access_log(const access_log&) = delete;
    access_log& operator=(const access_log&) = delete;
    ~access_log() { flush(); }

    bool enabled() const noexcept { return fd_ >= 0; }
    void record(std::string_view remote, const http::request& req, int status, std::uint64_t bytes,
                std::int64_t duration_ns);
    void flush();

private:
    static void on_timer(rt::timer& t);

    int fd_;
    std::string buf_;
    rt::timer timer_;
};

} // namespace ringlet::server
