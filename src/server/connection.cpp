#include "ringlet/server/connection.hpp"

#include "ringlet/server/access_log.hpp"

#include "ringlet/base/log.hpp"
#include "ringlet/files/conditional.hpp"
#include "ringlet/files/encoding.hpp"
#include "ringlet/files/path.hpp"
#include "ringlet/files/range.hpp"
#include "ringlet/http/date.hpp"
#include "ringlet/http/parser.hpp"
#include "ringlet/http/response.hpp"
#include "ringlet/net/endpoint.hpp"
#include "ringlet/net/tcp_stream.hpp"
#include "ringlet/runtime/ops.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/tls/hello_reader.hpp"
#include "ringlet/tls/tls_stream.hpp"

#include <sys/socket.h>
#include <time.h>

#include <cstring>
#include <memory>
#include <type_traits>

namespace ringlet::server {

struct connection_entry {
    connection_entry* prev = nullptr;
    connection_entry* next = nullptr;
    net::tcp_stream* stream = nullptr;
    bool idle = false; // waiting for the first byte of a request
};

const site_table* reactor_state::acquire_sites() {
    const site_table* current = sites->read();
    if (pinned_.empty() || pinned_.back().table.get() != current) {
        // A new generation: one reference for this reactor, shared by its requests.
        auto held = sites->hold();
        if (pinned_.empty() || pinned_.back().table != held)
            pinned_.push_back({std::move(held), 0});
    }
    ++pinned_.back().users;
    return pinned_.back().table.get();
}

void reactor_state::release_sites(const site_table* t) noexcept {
    for (std::size_t i = 0; i < pinned_.size(); ++i) {
        if (pinned_[i].table.get() != t) continue;
        --pinned_[i].users;
        // Older generations go once their last request is done; the newest stays pinned.
        if (pinned_[i].users == 0 && i + 1 < pinned_.size()) {
            pinned_.erase(pinned_.begin() + static_cast<std::ptrdiff_t>(i));
        }
        return;
    }
}

std::string_view reactor_state::date_line() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != date_second_) {
        date_second_ = ts.tv_sec;
        char buf[http::http_date_size];
        http::format_http_date(ts.tv_sec, buf);
        date_line_.assign("Date: ").append(buf, sizeof buf).append("\r\n");
    }
    return date_line_;
}

namespace {

constexpr std::size_t initial_buffer = 4096;
constexpr std::size_t max_buffer = 80 * 1024; // > request line + header block limits
constexpr std::size_t small_string = 64;      // a std::string this small holds no heap block
constexpr std::string_view server_line = "Server: ringlet\r\n";

bool is_unreserved_path_char(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::strchr("-._~!$&'()*+,;=:@/", c) != nullptr && c != 0;
}

// "/" + rel, percent-encoding what a Location path must not carry raw. Built from the
// normalised path (never the raw target), so "//evil.example" cannot become an off-site link.
void location_for(std::string_view rel, std::string_view query, std::string& out) {
    static constexpr char hex[] = "0123456789ABCDEF";
    out.clear();
    out.push_back('/'); // not assign("/"): g++ 12 warns falsely (-Wrestrict, PR 105651)
    for (unsigned char c : rel) {
        if (is_unreserved_path_char(c)) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    out.push_back('/');
    if (!query.empty()) out.append("?").append(query);
}

// A small HTML page for a status without a site page. Built once per status code per thread.
std::string_view error_body(int status) {
    thread_local std::string bodies[600];
    std::string& b = bodies[status >= 0 && status < 600 ? status : 500];
    if (b.empty()) {
        std::string line = std::to_string(status);
        line.append(" ").append(http::reason_phrase(status));
        b.append("<!doctype html>\n<html><head><title>").append(line);
        b.append("</title></head><body><h1>").append(line).append("</h1></body></html>\n");
    }
    return b;
}

int status_for_errno(int e) {
    switch (e) {
    case ENOENT:
    case ENOTDIR:
    case EXDEV: // RESOLVE_BENEATH: the path (or a symlink in it) leaves the root
    case ELOOP:
    case ENAMETOOLONG:
        return 404;
    case EACCES:
    case EPERM:
        return 403;
    default:
        return 500;
    }
}

// Puts a connection on its reactor's list for as long as it lives (drain walks the list).
class registration {
public:
    registration(reactor_state& st, net::tcp_stream& tcp) : st_(st) {
        entry_.stream = &tcp;
        entry_.next = st_.connections;
        if (entry_.next) entry_.next->prev = &entry_;
        st_.connections = &entry_;
        ++st_.connection_count;
    }
    registration(const registration&) = delete;
    registration& operator=(const registration&) = delete;
    ~registration() {
        if (entry_.prev)
            entry_.prev->next = entry_.next;
        else
            st_.connections = entry_.next;
        if (entry_.next) entry_.next->prev = entry_.prev;
        --st_.connection_count;
    }
    connection_entry& entry() noexcept { return entry_; }

private:
    reactor_state& st_;
    connection_entry entry_;
};

// One HTTP/1.1 connection over a byte stream: net::tcp_stream, or tls::tls_stream on top of
// one. Stream and registration outlive the session.
template <class Stream>
class session {
public:
    static constexpr bool secure = !std::is_same_v<Stream, net::tcp_stream>;

    session(reactor_state& st, Stream& stream, connection_entry& entry)
        : st_(st), stream_(stream), entry_(entry) {}

    rt::task<void> run();

private:
    rt::task<int> next_request();
    rt::task<bool> respond();
    rt::task<bool> serve_path(const site& s);
    rt::task<bool> serve_file(const site& s, const files::file_info& file, int status);
    rt::task<bool> send_error(int status, const site* s = nullptr);
    rt::task<bool> send_redirect(int status);
    rt::task<bool> send(std::string_view head, std::string_view body);
    rt::task<bool> stream_file(std::string_view head, const files::file_info& f,
                               std::uint64_t first, std::uint64_t length);
    rt::task<void> lingering_close();
    void common_headers(http::response_writer& w);

    rt::task<bool> send_https_redirect();
    rt::task<bool> send_challenge(const std::string& key_authorization);
    void release_buffers();
    void log_access(std::string_view head, std::uint64_t body_bytes);

    reactor_state& st_;
    Stream& stream_;
    connection_entry& entry_;
    std::unique_ptr<char[]> in_;
    std::size_t cap_ = 0, len_ = 0, head_len_ = 0;
    std::uint64_t served_ = 0;
    bool close_after_ = false; // say "Connection: close" and close after this response
    bool linger_ = false;      // drain input before closing
    bool head_only_ = false;
    std::unique_ptr<http::request> req_; // 3 KiB of header slots: pooled while idle
    std::string head_;                   // response head, reused
    std::string rel_;                    // normalised path, reused
    std::string extra_;                  // scratch for Location / sidecar paths
    std::string peer_;                   // remote address, filled on first use by the access log
    std::int64_t started_ = 0;           // reactor time the current request's head was complete
};

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
template <class Stream>
rt::task<int> session<Stream>::next_request() {
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

template <class Stream>
rt::task<bool> session<Stream>::respond() {
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
rt::task<bool> session<Stream>::serve_path(const site& s) {
    switch (files::normalize_path(req_->path, rel_)) {
    case files::path_error::none:
        break;
    case files::path_error::too_long:
        co_return co_await send_error(414, &s);
    default:
        co_return co_await send_error(400, &s);
    }
    if (!s.spec.allow_dotfiles && files::has_dot_segment(rel_)) {
        co_return co_await send_error(404, &s);
    }
    bool wants_index = rel_.empty() || rel_.back() == '/';
    auto& cache = st_.cache;
    auto file = co_await cache.lookup(s.root_fd.get(), s.id, rel_, true);
    if (file->error == 0 && file->is_dir) {
        if (!wants_index) {
            location_for(rel_, req_->query, extra_);
            co_return co_await send_redirect(301);
        }
        rel_.append("index.html");
        file = co_await cache.lookup(s.root_fd.get(), s.id, rel_, true);
        if (file->error == 0 && file->is_dir) co_return co_await send_error(404, &s);
    }
    if (file->error) {
        int status = status_for_errno(file->error);
        if (status == 500) {
            RINGLET_LOG(error) << "cannot open " << s.spec.root << "/" << rel_ << ": "
                               << errno_code(file->error);
        }
        co_return co_await send_error(status, &s);
    }
    co_return co_await serve_file(s, *file, 200);
}

template <class Stream>
rt::task<bool> session<Stream>::serve_file(const site& s, const files::file_info& file,
                                           int status) {
    // Content negotiation over precompressed siblings (only for full 200 answers).
    std::shared_ptr<const files::file_info> sidecar;
    files::content_coding coding = files::content_coding::identity;
    if (status == 200 && file.sidecars && !req_->accept_encoding.empty()) {
        coding = files::choose_coding(req_->accept_encoding, file.sidecars);
        if (coding != files::content_coding::identity) {
            extra_.assign(rel_).append(files::sidecar_suffix(coding));
            sidecar = co_await st_.cache.lookup(s.root_fd.get(), s.id, extra_, false);
            if (sidecar->error || sidecar->is_dir) {
                sidecar.reset();
                coding = files::content_coding::identity;
            }
        }
    }
    const files::file_info& body = sidecar ? *sidecar : file;

    char last_modified[http::http_date_size];
    http::format_http_date(body.mtime, last_modified);
    std::string_view lm(last_modified, sizeof last_modified);

    std::uint64_t first = 0, length = body.size;
    int code = status;
    if (status == 200) {
        files::request_conditions rc{req_->if_match,          req_->if_none_match,
                                     req_->if_modified_since, req_->if_unmodified_since,
                                     req_->if_range,          true};
        auto cond = files::evaluate_conditions(rc, {body.etag, body.mtime});
        if (cond.outcome == files::condition_outcome::not_modified) {
            http::response_writer w(head_, 304);
            common_headers(w);
            w.header("ETag", body.etag).header("Last-Modified", lm);
            if (file.sidecars) w.raw("Vary: Accept-Encoding\r\n");
            co_return co_await send(w.finish(), {});
        }
        if (cond.outcome == files::condition_outcome::precondition_failed) {
            co_return co_await send_error(412, &s);
        }
        if (cond.honour_range && !req_->range.empty()) {
            auto rd = files::parse_range(req_->range, body.size);
            if (rd.kind == files::range_kind::unsatisfiable) {
                http::response_writer w(head_, 416);
                common_headers(w);
                extra_.assign("bytes */").append(std::to_string(body.size));
                w.header("Content-Range", extra_).header("Content-Length", std::uint64_t{0});
                co_return co_await send(w.finish(), {});
            }
            if (rd.kind == files::range_kind::single) {
                code = 206;
                first = rd.range.first;
                length = rd.range.length();
            }
        }
    }

    http::response_writer w(head_, code);
    common_headers(w);
    w.header("Content-Type", file.content_type.empty() ? body.content_type : file.content_type);
    w.header("Content-Length", length);
    if (status == 200) {
        w.header("Last-Modified", lm).header("ETag", body.etag).raw("Accept-Ranges: bytes\r\n");
        if (file.sidecars) w.raw("Vary: Accept-Encoding\r\n");
        if (coding != files::content_coding::identity) {
            w.header("Content-Encoding", files::coding_name(coding));
        }
        if (code == 206) {
            extra_.assign("bytes ")
                .append(std::to_string(first))
                .append("-")
                .append(std::to_string(first + length - 1))
                .append("/")
                .append(std::to_string(body.size));
            w.header("Content-Range", extra_);
        }
    }
    std::string_view head = w.finish();
    if (head_only_) co_return co_await send(head, {});
    if (body.in_memory)
        co_return co_await send(head, std::string_view(body.content).substr(first, length));
    co_return co_await stream_file(head, body, first, length);
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

template <class Stream>
rt::task<bool> session<Stream>::stream_file(std::string_view head, const files::file_info& f,
                                            std::uint64_t first, std::uint64_t length) {
    // Bounded per connection: one chunk buffer while the body is in flight, freed after.
    std::size_t chunk =
        static_cast<std::size_t>(std::min<std::uint64_t>(st_.limits.stream_chunk, length));
    auto buf = std::make_unique_for_overwrite<char[]>(chunk ? chunk : 1);
    std::uint64_t off = first, left = length;
    bool head_sent = false;
    while (left > 0 || !head_sent) {
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, left));
        std::size_t got = 0;
        while (got < want) {
            auto n = co_await rt::async_read(f.fd.get(), std::span(buf.get() + got, want - got),
                                             off + got);
            if (!n || *n == 0) {
                // Shrunk or failing file: the promised length cannot be kept. Before the head is
                // out we can still say 500; after it, only closing is honest.
                RINGLET_LOG(error) << "read failed while serving " << rel_ << ": "
                                   << (n ? std::string("file shrank") : n.error().message());
                if (!head_sent) {
                    close_after_ = true;
                    co_return co_await send_error(500);
                }
                co_return false;
            }
            got += static_cast<std::size_t>(*n);
        }
        iovec iov[2];
        int cnt = 0;
        if (!head_sent) iov[cnt++] = {const_cast<char*>(head.data()), head.size()};
        iov[cnt++] = {buf.get(), got};
        auto r = co_await stream_.async_write_all(std::span(iov, static_cast<std::size_t>(cnt)),
                                                  st_.limits.send_timeout_ns);
        if (!r) co_return false;
        head_sent = true;
        off += got;
        left -= got;
    }
    log_access(head, length);
    co_return true;
}

template <class Stream>
rt::task<bool> session<Stream>::send_error(int status, const site* s) {
    std::shared_ptr<const files::file_info> page;
    if (status == 404 && s) {
        // The site's own 404.html, when it has one.
        auto p = co_await st_.cache.lookup(s->root_fd.get(), s->id, "404.html", false);
        if (!p->error && !p->is_dir && p->in_memory) page = std::move(p);
    }
    http::response_writer w(head_, status);
    common_headers(w);
    if (status == 405) w.raw("Allow: GET, HEAD\r\n");
    std::string_view body;
    if (page) {
        body = page->content;
        w.header("Content-Type", page->content_type);
    } else {
        body = error_body(status);
        w.raw("Content-Type: text/html; charset=utf-8\r\n");
    }
    w.header("Content-Length", body.size());
    std::string_view head = w.finish();
    co_return co_await send(head, head_only_ ? std::string_view() : body);
}

// A redirect to extra_ (the Location), with a small HTML body.
template <class Stream>
rt::task<bool> session<Stream>::send_redirect(int status) {
    http::response_writer w(head_, status);
    common_headers(w);
    w.header("Location", extra_);
    std::string_view body = error_body(status);
    w.raw("Content-Type: text/html; charset=utf-8\r\n").header("Content-Length", body.size());
    std::string_view head = w.finish();
    co_return co_await send(head, head_only_ ? std::string_view() : body);
}

// 308 to the same host, path and query over HTTPS (RFC 9110 15.4.9 keeps the method).
template <class Stream>
rt::task<bool> session<Stream>::send_https_redirect() {
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
template <class Stream>
rt::task<bool> session<Stream>::send_challenge(const std::string& key_authorization) {
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

} // namespace

rt::task<void> serve_connection(reactor_state& st, int fd) {
    net::tcp_stream tcp(fd);
    registration reg(st, tcp);
    session<net::tcp_stream> s(st, tcp, reg.entry());
    co_await s.run();
}

namespace {

// TLS-ALPN-01 (RFC 8737): a hello offering only acme-tls/1 is a CA validating a name. It gets
// the challenge certificate for that name, or an alert: never the site's own certificate.
rt::task<void> answer_tls_alpn(reactor_state& st, const tls::client_hello_info& info,
                               std::span<const char> input, tls::tls_stream& stream,
                               std::int64_t deadline) {
    auto table = st.challenges ? st.challenges->hold() : nullptr;
    WOLFSSL_CTX* ctx = table ? table->find_alpn(info.server_name, st.reactor_index) : nullptr;
    if (!ctx) {
        co_await tls::send_alert(stream.tcp(), 112); // unrecognized_name
        co_await stream.tcp().async_close();
        co_return;
    }
    auto hs = co_await stream.async_handshake(ctx, input, tls::acme_tls_alpn, deadline);
    if (hs) {
        RINGLET_LOG(info) << "acme: answered a tls-alpn-01 validation for " << info.server_name;
        co_await stream.async_close();
    } else {
        co_await stream.tcp().async_close();
    }
}

enum class accept_outcome { failed, established, answered };

// The TLS handshake of one connection: read the ClientHello, pick the certificate by SNI, then
// let wolfSSL run the handshake on that certificate's context for this reactor.
rt::task<accept_outcome> tls_accept(reactor_state& st, const tls::cert_table* table,
                                    net::tcp_stream& tcp, tls::tls_stream& stream) {
    auto& r = rt::this_reactor();
    std::int64_t deadline = r.now() + st.limits.handshake_timeout_ns;
    auto buf = std::make_unique_for_overwrite<char[]>(tls::hello_buffer_size);
    tls::client_hello_info info;
    std::string scratch;
    auto n = co_await tls::read_client_hello(tcp, {buf.get(), tls::hello_buffer_size}, info,
                                             scratch, deadline);
    if (!n) co_return accept_outcome::failed;
    // The expensive part starts here, so this is what the cap counts: connections that never
    // send a hello cost a socket and a timer, not a handshake slot.
    if (st.handshakes >= st.limits.max_handshakes) {
        co_return accept_outcome::failed; // shed: the client retries
    }
    ++st.handshakes;
    struct slot {
        reactor_state& st;
        ~slot() { --st.handshakes; }
    } held{st};
    std::string reframed;
    if (info.alpn_count == 1 && info.alpn[0] == tls::acme_tls_alpn) {
        auto input =
            tls::handshake_input({buf.get(), tls::hello_buffer_size}, *n, scratch, reframed);
        co_await answer_tls_alpn(st, info, input, stream, deadline);
        co_return accept_outcome::answered;
    }
    const tls::cert_entry* e = table ? table->find(info.server_name) : nullptr;
    if (!e) {
        co_await tls::send_alert(tcp, 112); // unrecognized_name
        co_return accept_outcome::failed;
    }
    static constexpr std::string_view http11 = "http/1.1";
    if (info.has_alpn && !tls::offers_alpn(info, http11)) {
        co_await tls::send_alert(tcp, 120); // no_application_protocol (RFC 7301 3.2)
        co_return accept_outcome::failed;
    }
    auto input = tls::handshake_input({buf.get(), tls::hello_buffer_size}, *n, scratch, reframed);
    auto hs =
        co_await stream.async_handshake(table->context(*e, st.reactor_index), input,
                                        info.has_alpn ? http11 : std::string_view(), deadline);
    co_return hs ? accept_outcome::established : accept_outcome::failed;
}

} // namespace

rt::task<void> serve_tls_connection(reactor_state& st, int fd) {
    net::tcp_stream tcp(fd);
    registration reg(st, tcp);
    // Holds this generation of certificates (and its ticket keys) for the connection's life:
    // one reference count per connection, no locks; the table itself is never copied.
    std::shared_ptr<const tls::cert_table> table =
        st.certificates ? st.certificates->hold() : nullptr;
    tls::tls_stream stream(tcp);
    switch (co_await tls_accept(st, table.get(), tcp, stream)) {
    case accept_outcome::failed:
        co_await tcp.async_close();
        co_return;
    case accept_outcome::answered: // closed already
        co_return;
    case accept_outcome::established:
        break;
    }
    session<tls::tls_stream> s(st, stream, reg.entry());
    co_await s.run();
}

void begin_drain(reactor_state& st) {
    st.draining = true;
    for (connection_entry* e = st.connections; e;) {
        connection_entry* next = e->next; // interrupt() may end the connection and unlink it
        if (e->idle) e->stream->interrupt();
        e = next;
    }
}

void abort_connections(reactor_state& st) {
    for (connection_entry* e = st.connections; e;) {
        connection_entry* next = e->next;
        e->stream->abort();
        e = next;
    }
}

} // namespace ringlet::server
