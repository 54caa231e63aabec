// Answers from a site's folder for a session (session.hpp): path normalisation and index
// files, the redirect that adds a directory's slash, precompressed siblings, conditional
// requests and single ranges, bodies streamed in bounded chunks when the cache does not hold
// them, and error pages (the site's own 404.html, or a small generated page).
#include "server/session.hpp"

#include "ringlet/base/log.hpp"
#include "ringlet/base/result.hpp"
#include "ringlet/files/conditional.hpp"
#include "ringlet/files/encoding.hpp"
#include "ringlet/files/path.hpp"
#include "ringlet/files/range.hpp"
#include "ringlet/http/date.hpp"
#include "ringlet/http/response.hpp"
#include "ringlet/net/tcp_stream.hpp"
#include "ringlet/runtime/ops.hpp"
#include "ringlet/tls/tls_stream.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace ringlet::server::detail {

namespace {

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

} // namespace

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

// Instantiations the other files use (declared in session.hpp).
template rt::task<bool> session<net::tcp_stream>::serve_path(const site&);
template rt::task<bool> session<tls::tls_stream>::serve_path(const site&);
template rt::task<bool> session<net::tcp_stream>::send_error(int, const site*);
template rt::task<bool> session<tls::tls_stream>::send_error(int, const site*);
template rt::task<bool> session<net::tcp_stream>::send_redirect(int);

} // namespace ringlet::server::detail
