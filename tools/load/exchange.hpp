// exchange: one ringlet-load connection's byte stream and the reading of its HTTP/1.1 responses.
//
// Why it is shaped this way: a load generator must not be the bottleneck it measures, so a
// response is never copied or kept. Bytes arrive into one buffer per connection, the head is
// parsed in place (http::parse_response), and the body is only counted: Content-Length bodies
// are skipped, chunked bodies are walked by http::chunked_decoder without copying, bodies
// delimited by the close are read to the end. Whatever follows a response in the buffer (the
// next pipelined response) stays there for the next one.
//
// Every request in a batch ends exactly one way: answered (a complete response, counted by
// status with its latency), failed (one error_kind for it and every later request of the
// batch), or, when the run stopped under it, neither (it was sent but the run ended first).
// That is what lets `-n N` finish exactly N requests.
#pragma once

#include "load/report.hpp"
#include "ringlet/base/result.hpp"
#include "ringlet/http/response_parser.hpp"
#include "ringlet/net/tcp_stream.hpp"
#include "ringlet/runtime/task.hpp"
#include "ringlet/tls/tls_stream.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

namespace ringlet::load {

// The connection: TCP, plus TLS for https:// targets. Neither stream can move, so a link is
// built in place (std::optional<link>::emplace) and lives in the connection coroutine's frame.
// Call and await close() before destroying it.
class link {
public:
    explicit link(int fd) : tcp_(fd) {}
    link(const link&) = delete;
    link& operator=(const link&) = delete;

    net::tcp_stream& tcp() noexcept { return tcp_; }
    tls::tls_stream* tls() noexcept { return tls_ ? &*tls_ : nullptr; }
    tls::tls_stream& start_tls() { return tls_.emplace(tcp_); }

    rt::task<result<std::size_t>> read(std::span<char> dst, std::int64_t deadline);
    rt::task<result<void>> write(std::string_view bytes, std::int64_t timeout_ns);
    // close_notify (TLS, bounded) and close.
    rt::task<void> close();

private:
    net::tcp_stream tcp_;
    std::optional<tls::tls_stream> tls_;
};

// The error kind an I/O failure counts as: timed_out -> timeout, protocol_error (a TLS record
// wolfSSL refused) -> tls, anything else (reset, broken pipe, ...) -> reset.
error_kind classify(std::error_code ec) noexcept;

// How reading a batch of responses ended.
struct batch_outcome {
    unsigned answered = 0;           // complete responses, the first `answered` of the batch
    std::optional<error_kind> error; // the rest failed this way
    bool aborted = false;            // the run stopped under the batch: the rest are unfinished
    bool reusable = false;           // the connection may carry another request
    std::int64_t finished_ns = 0;    // clock time when the batch ended
};

class response_reader {
public:
    // `capacity` bytes of buffer: at least 32 KiB (a head may be 16 KiB, as in parse_response).
    explicit response_reader(std::size_t capacity);

    // Forgets buffered bytes: call for every new connection.
    void reset() noexcept { off_ = len_ = 0; }

    // Reads `count` responses to GETs sent at `sent_ns` (clock_now time) on `io`, recording each
    // into `report` (status, latency, bytes received). Reads past `deadline` (reactor time) end
    // the batch with a timeout. `stopping` is checked when a read is cancelled: then the batch
    // ends as aborted instead of failed.
    rt::task<batch_outcome> read(link& io, unsigned count, std::int64_t sent_ns,
                                 std::int64_t deadline, load_report& report, const bool& stopping);

private:
    // Makes room and reads more bytes after len_; false with `out` filled when it failed.
    rt::task<bool> fill(link& io, std::int64_t deadline, load_report& report, const bool& stopping,
                        batch_outcome& out, bool eof_ends_body);

    http::response_head head_; // ~3 KB: parsed into in place, never constructed per response
    http::chunked_decoder chunks_;
    std::unique_ptr<char[]> buf_;
    std::size_t cap_;
    std::size_t off_ = 0, len_ = 0; // unread bytes are buf_[off_, len_)
    bool eof_ = false;              // the last fill() saw the end of the stream
};

} // namespace ringlet::load
