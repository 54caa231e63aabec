#include "load/exchange.hpp"

#include "ringlet/http/response_parser.hpp"
#include "ringlet/runtime/reactor.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>

namespace ringlet::load {

rt::task<result<std::size_t>> link::read(std::span<char> dst, std::int64_t deadline) {
    if (tls_) co_return co_await tls_->async_read_some(dst, deadline);
    co_return co_await tcp_.async_read_some(dst, deadline);
}

rt::task<result<void>> link::write(std::string_view bytes, std::int64_t timeout_ns) {
    // The streams adjust the iovec in place on short writes; they never write through it.
    iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
    if (tls_) co_return co_await tls_->async_write_all(std::span(&iov, 1), timeout_ns);
    co_return co_await tcp_.async_write_all(std::span(&iov, 1), timeout_ns);
}

rt::task<void> link::close() {
    if (tls_) {
        co_await tls_->async_close(); // closes the TCP stream too
    } else {
        co_await tcp_.async_close();
    }
}

error_kind classify(std::error_code ec) noexcept {
    if (ec == std::errc::timed_out) return error_kind::timeout;
    if (ec == std::errc::protocol_error) return error_kind::tls;
    return error_kind::reset;
}

namespace {

enum class filled { data, eof, failed };

struct head_facts {
    int status = 0;
    bool keep_alive = false;
    http::body_framing framing = http::body_framing::none;
    std::uint64_t content_length = 0;
};

} // namespace

response_reader::response_reader(std::size_t capacity)
    : buf_(std::make_unique_for_overwrite<char[]>(std::max<std::size_t>(capacity, 32 * 1024))),
      cap_(std::max<std::size_t>(capacity, 32 * 1024)) {}

rt::task<bool> response_reader::fill(link& io, std::int64_t deadline, load_report& report,
                                     const bool& stopping, batch_outcome& out, bool eof_ends_body) {
    if (off_ == len_) {
        off_ = len_ = 0;
    } else if (off_ > 0 && cap_ - len_ < cap_ / 2) {
        std::memmove(buf_.get(), buf_.get() + off_, len_ - off_);
        len_ -= off_;
        off_ = 0;
    }
    if (len_ == cap_) { // cannot happen with a 32 KiB buffer and 16 KiB heads; be safe anyway
        out.error = error_kind::bad_response;
        co_return false;
    }
    auto n = co_await io.read({buf_.get() + len_, cap_ - len_}, deadline);
    if (!n) {
        if (stopping) {
            out.aborted = true;
        } else {
            out.error = classify(n.error());
        }
        co_return false;
    }
    if (*n == 0) {
        eof_ = true;
        // A close inside a head or a framed body: the server went away mid-response.
        if (!eof_ends_body) out.error = error_kind::reset;
        co_return false;
    }
    len_ += *n;
    report.bytes_received += *n;
    co_return true;
}

rt::task<batch_outcome> response_reader::read(link& io, unsigned count, std::int64_t sent_ns,
                                              std::int64_t deadline, load_report& report,
                                              const bool& stopping) {
    batch_outcome out;
    bool keep_alive = true;
    for (unsigned i = 0; i < count && keep_alive; ++i) {
        // The head, parsed in place. Its views die at the next fill(), so keep the facts.
        head_facts head;
        for (;;) {
            auto pr = http::parse_response({buf_.get() + off_, len_ - off_}, false, head_);
            if (pr.status == http::response_status::complete) {
                off_ += pr.consumed;
                head = {head_.status, head_.keep_alive, head_.framing, head_.content_length};
                break;
            }
            if (pr.status == http::response_status::error) {
                out.error = error_kind::bad_response;
                break;
            }
            if (!co_await fill(io, deadline, report, stopping, out, false)) break;
        }
        if (out.error || out.aborted) break;

        // The body: counted, never kept.
        bool complete = true;
        switch (head.framing) {
        case http::body_framing::none:
            break;
        case http::body_framing::content_length: {
            std::uint64_t left = head.content_length;
            for (;;) {
                std::size_t take = static_cast<std::size_t>(
                    std::min<std::uint64_t>(left, static_cast<std::uint64_t>(len_ - off_)));
                off_ += take;
                left -= take;
                if (left == 0) break;
                if (!co_await fill(io, deadline, report, stopping, out, false)) {
                    complete = false;
                    break;
                }
            }
            break;
        }
        case http::body_framing::chunked: {
            chunks_.reset();
            for (;;) {
                while (off_ < len_ && !chunks_.done() && !chunks_.failed()) {
                    off_ += chunks_.step({buf_.get() + off_, len_ - off_}).consumed;
                }
                if (chunks_.failed()) {
                    out.error = error_kind::bad_response;
                    complete = false;
                    break;
                }
                if (chunks_.done()) break;
                if (!co_await fill(io, deadline, report, stopping, out, false)) {
                    complete = false;
                    break;
                }
            }
            break;
        }
        case http::body_framing::until_close:
            head.keep_alive = false;
            for (;;) {
                off_ = len_;
                eof_ = false;
                if (!co_await fill(io, deadline, report, stopping, out, true)) {
                    complete = eof_;
                    break;
                }
            }
            break;
        }
        if (!complete) break;

        std::int64_t now = rt::reactor::clock_now();
        report.count_status(head.status);
        report.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(now - sent_ns, 0)));
        ++out.answered;
        keep_alive = head.keep_alive;
    }
    // A server that closes after a response leaves the pipelined requests behind it unanswered.
    if (!out.error && !out.aborted && out.answered < count) out.error = error_kind::reset;
    out.reusable = keep_alive && !out.error && !out.aborted;
    out.finished_ns = rt::reactor::clock_now();
    co_return out;
}

} // namespace ringlet::load
