// The request loop of a session (session.hpp): read and parse request heads with their
// deadlines, keep pipelined bytes, pool buffers while idle, route each request (ACME HTTP-01,
// the redirect to HTTPS, or the site's files in file_response.cpp), write responses and log them,
// and close with a lingering drain when input is left unread.
#include "server/session.hpp"

#include "ringlet/server/access_log.hpp"

#include "ringlet/http/parser.hpp"
#include "ringlet/http/response.hpp"
#include "ringlet/net/endpoint.hpp"
#include "ringlet/net/tcp_stream.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/tls/tls_stream.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace ringlet::server::detail {

namespace {

constexpr std::size_t initial_buffer = 4096;
constexpr std::size_t max_buffer = 80 * 1024; // > request line + header block limits
constexpr std::size_t small_string = 64;      // a std::string this small holds no heap block
constexpr std::string_view server_line = "Server: ringlet\r\n";

} // namespace

template <class Stream>
rt::task<void> session<Stream>::run() {
    for (;;) {
        int outcome = co_await next_request();
        if (outcome == 0) break; // peer left, idle timeout, or drain
        if (outcome != 1) {
            close_after_ = true;
            head_only_ = false;
            if (co_await send_error(outcome)) co_await lingering_close();
            break;
        }
        bool sent = co_await respond();
        ++served_;
        if (!sent) break; // the peer is gone or stalled: nothing more to say
        // Drop the answered request; pipelined bytes behind it move to the front.
        std::memmove(in_.get(), in_.get() + head_len_, len_ - head_len_);
        len_ -= head_len_;
        head_len_ = 0;
        if (close_after_) {
            // Unread input (pipelined requests, a refused body) would make close() send a
            // reset that can destroy the response in flight.
            if (len_ > 0 || linger_) co_await lingering_close();
            break;
        }
    }
    co_await stream_.async_close();
}

// 1: req_ holds a complete request head of head_len_ bytes. 0: close quietly. Otherwise the
// status to answer before closing (400, 408, 414, 431, 501, 505).
// `inline` is only a hint, for g++: run() is the one caller, and a per-request call. In one file
// with internal linkage this coroutine's ramp was inlined into run(); as a template member with
// external linkage it is inlined only with the hint. Likewise respond(), and the two answers
// only respond() gives: send_https_redirect() and send_challenge().
template <class Stream>
inline rt::task<int> session<Stream>::next_request() {
    auto& r = rt::this_reactor();
    const auto& lim = st_.limits;
    std::int64_t deadline =
        r.now() + (len_ > 0 || served_ == 0 ? lim.header_timeout_ns : lim.keepalive_timeout_ns);
    for (;;) {
        if (len_ == 0) {
            // Idle (between requests, or before the first): hold no buffers while waiting.
            if (st_.draining) co_return 0;
            release_buffers();
            entry_.idle = true;
            auto ready = co_await stream_.async_wait_readable(deadline);
            entry_.idle = false;
            if (!ready) co_return 0; // idle timeout, drain, reset: close quietly
        }
        if (!req_) {
            if (!st_.spare_requests.empty()) {
                req_ = std::move(st_.spare_requests.back());
                st_.spare_requests.pop_back();
            } else {
                req_ = std::make_unique<http::request>();
            }
        }
        if (len_ > 0) {
            auto p = http::parse_request({in_.get(), len_}, *req_);
            if (p.status == http::parse_status::complete) {
                head_len_ = p.consumed;
                started_ = r.now();
                co_return 1;
            }
            if (p.status == http::parse_status::error) co_return p.error_status;
        }
        if (cap_ == 0 && !st_.spare_inputs.empty()) {
            in_ = std::move(st_.spare_inputs.back());
            st_.spare_inputs.pop_back();
            cap_ = initial_buffer;
        }
        if (len_ == cap_) {
            if (cap_ >= max_buffer) co_return 431;
            std::size_t ncap = cap_ == 0 ? initial_buffer : std::min(cap_ * 2, max_buffer);
            auto bigger = std::make_unique_for_overwrite<char[]>(ncap);
            if (len_) std::memcpy(bigger.get(), in_.get(), len_);
            in_ = std::move(bigger);
            cap_ = ncap;
        }
        if (len_ == 0 && st_.draining) co_return 0;
        entry_.idle = len_ == 0;
        auto n = co_await stream_.async_read_some({in_.get() + len_, cap_ - len_}, deadline);
        entry_.idle = false;
        if (!n) {
            // A request cut off by its deadline hears why; an idle connection just closes.
            if (n.error() == std::errc::timed_out && len_ > 0) co_return 408;
            co_return 0;
        }
        if (*n == 0) co_return 0;
        if (len_ == 0) deadline = r.now() + lim.header_timeout_ns; // slowloris clock starts
        len_ += *n;
    }
}

template <class Stream>
void session<Stream>::common_headers(http::response_writer& w) {
    w.raw(server_line).raw(st_.date_line());
    if (close_after_) {
        w.raw("Connection: close\r\n");
    } else if (req_->version_minor == 0) {
        w.raw("Connection: keep-alive\r\n");
    }
}

template <class Stream>
void session<Stream>::release_buffers() {
    constexpr std::size_t stock = 256; // per reactor: enough for bursts, bounded when idle
    if (in_ && cap_ == initial_buffer && st_.spare_inputs.size() < stock) {
        st_.spare_inputs.push_back(std::move(in_));
    }
    in_.reset();
    cap_ = 0;
    if (head_.capacity() > small_string && st_.spare_heads.size() < stock) {
        st_.spare_heads.push_back(std::move(head_));
    }
    head_ = std::string();
    if (req_ && st_.spare_requests.size() < stock) st_.spare_requests.push_back(std::move(req_));
    req_.reset();
}

// inline: see next_request().
template <class Stream>
inline rt::task<bool> session<Stream>::respond() {
    if (head_.capacity() <= small_string && !st_.spare_heads.empty()) {
        head_ = std::move(st_.spare_heads.back());
        st_.spare_heads.pop_back();
    }
    close_after_ = !req_->keep_alive || st_.draining;
    head_only_ = req_->method == http::method::head;
    // A body we will not read may follow: answer, then close (after draining it).
    if (req_->has_transfer_encoding || req_->content_length > 0) close_after_ = linger_ = true;
    // This request's generation of sites stays alive (and its root fds open) until it is done.
    struct pin {
        reactor_state& st;
        const site_table* table;
        ~pin() { st.release_sites(table); }
    } p{st_, st_.acquire_sites()};
    const site& s = p.table->select(req_->host);
    if constexpr (!secure) {
        // ACME HTTP-01 first: the CA asks over plain HTTP, before any redirect. An unknown token
        // is a 404 for TLS sites; a plain site may serve its own files there.
        const tls::challenge_table* ct = st_.challenges ? st_.challenges->read() : nullptr;
        if (ct && req_->path.starts_with(tls::acme_challenge_prefix)) {
            char buf[256];
            std::string_view token = req_->path.substr(tls::acme_challenge_prefix.size());
            const std::string* answer = ct->find_http(token, normalize_host(req_->host, buf));
            bool readable = req_->method == http::method::get || head_only_;
            if (answer && readable) co_return co_await send_challenge(*answer);
            if (!s.spec.plain) co_return co_await send_error(answer ? 405 : 404);
        }
        // On the plain listener of a TLS server every request for a TLS site, whatever its
        // method, goes to HTTPS (a 308 keeps the method and body); "tls": "off" sites are served.
        if (st_.https_redirect && !s.spec.plain) co_return co_await send_https_redirect();
    }
    if (int status = http::reject_status(*req_)) co_return co_await send_error(status);
    co_return co_await serve_path(s);
}

template <class Stream>
rt::task<bool> session<Stream>::send(std::string_view head, std::string_view body) {
    // A small body rides in the head's buffer: one contiguous send is cheaper in the kernel
    // than a two-part sendmsg, and copying a few KiB costs less than that difference.
    const std::uint64_t body_bytes = body.size();
    if (!body.empty() && body.size() <= 4096 && head.data() == head_.data()) {
        head_.append(body);
        head = head_;
        body = {};
    }
    iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
    auto r = co_await stream_.async_write_all(std::span(iov, body.empty() ? 1 : 2),
                                              st_.limits.send_timeout_ns);
    log_access(head, body_bytes);
    co_return r.has_value();
}

template <class Stream>
void session<Stream>::log_access(std::string_view head, std::uint64_t body_bytes) {
    if (!st_.access || !st_.access->enabled() || head.size() < 12) return;
    if (peer_.empty()) {
        // Once per connection, and only when logging: the peer's address.
        sockaddr_storage a{};
        socklen_t len = sizeof a;
        if (::getpeername(entry_.stream->fd(), reinterpret_cast<sockaddr*>(&a), &len) == 0) {
            net::endpoint e;
            e.addr = a;
            e.len = len;
            peer_ = e.to_string();
            peer_.erase(peer_.rfind(':')); // the address without the port
        }
    }
    int status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
    st_.access->record(peer_, *req_, status, body_bytes, rt::this_reactor().now() - started_);
}

// 308 to the same host, path and query over HTTPS (RFC 9110 15.4.9 keeps the method).
// inline: see next_request().
template <class Stream>
inline rt::task<bool> session<Stream>::send_https_redirect() {
    char buf[256];
    std::string_view host = normalize_host(req_->host, buf);
    if (host.empty()) host = "localhost";
    extra_.assign("https://").append(host);
    if (st_.https_port != 443) extra_.append(":").append(std::to_string(st_.https_port));
    extra_.append(req_->path);
    if (!req_->query.empty()) extra_.append("?").append(req_->query);
    co_return co_await send_redirect(308);
}

// The key authorization of an HTTP-01 challenge (RFC 8555 8.3): text/plain, never cached.
// inline: see next_request().
template <class Stream>
inline rt::task<bool> session<Stream>::send_challenge(const std::string& key_authorization) {
    http::response_writer w(head_, 200);
    common_headers(w);
    w.raw("Content-Type: text/plain\r\nCache-Control: no-store\r\n")
        .header("Content-Length", key_authorization.size());
    std::string_view head = w.finish();
    co_return co_await send(head, head_only_ ? std::string_view() : key_authorization);
}

// Half-close and read what the client still sends (bounded in bytes and time), so that closing
// does not turn into a TCP reset that destroys the response we just sent.
template <class Stream>
rt::task<void> session<Stream>::lingering_close() {
    co_await stream_.async_shutdown_write();
    std::int64_t deadline = rt::this_reactor().now() + 2'000'000'000;
    char sink[4096];
    std::size_t drained = 0;
    while (drained < 256 * 1024) {
        auto n = co_await stream_.async_read_some(sink, deadline);
        if (!n || *n == 0) break;
        drained += *n;
    }
}

// Instantiations the other files use (declared in session.hpp).
template rt::task<void> session<net::tcp_stream>::run();
template rt::task<void> session<tls::tls_stream>::run();
template rt::task<bool> session<net::tcp_stream>::send(std::string_view, std::string_view);
template rt::task<bool> session<tls::tls_stream>::send(std::string_view, std::string_view);
template void session<net::tcp_stream>::common_headers(http::response_writer&);
template void session<tls::tls_stream>::common_headers(http::response_writer&);
template void session<net::tcp_stream>::log_access(std::string_view, std::uint64_t);
template void session<tls::tls_stream>::log_access(std::string_view, std::uint64_t);

} // namespace ringlet::server::detail
