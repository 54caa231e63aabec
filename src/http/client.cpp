#include "ringlet/http/client.hpp"

#include "ringlet/http/response_parser.hpp"
#include "ringlet/http/syntax.hpp"
#include "ringlet/net/connect.hpp"
#include "ringlet/net/tcp_stream.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/tls/tls_stream.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <memory>

namespace ringlet::http {

namespace {

bool same_name(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

// "30 s", "1.5 s" or "250 ms".
std::string duration_text(std::int64_t ns) {
    if (ns >= 1'000'000'000) {
        std::int64_t tenths = ns / 100'000'000;
        std::string out = std::to_string(tenths / 10);
        if (tenths % 10) out.append(".").append(std::to_string(tenths % 10));
        return out + " s";
    }
    return std::to_string(ns / 1'000'000) + " ms";
}

// "https://host:port" (always with the port: it is what was dialled).
std::string origin_of(const url& u) {
    std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    return u.scheme + "://" + host + ":" + std::to_string(u.port);
}

bool clean_field(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t') || u == 0x7f;
    });
}

std::string build_request(const client_request& req) {
    bool has_ua = false, has_accept = false;
    for (const auto& [name, value] : req.headers) {
        has_ua = has_ua || same_name(name, "user-agent");
        has_accept = has_accept || same_name(name, "accept");
    }
    std::string out;
    out.reserve(256 + req.body.size());
    out.append(req.method).append(" ").append(req.target.target).append(" HTTP/1.1\r\n");
    out.append("Host: ").append(req.target.authority()).append("\r\n");
    if (!has_ua) out.append("User-Agent: ").append(client_user_agent).append("\r\n");
    if (!has_accept) out.append("Accept: */*\r\n");
    for (const auto& [name, value] : req.headers) {
        if (same_name(name, "host") || same_name(name, "content-length") ||
            same_name(name, "connection")) {
            continue;
        }
        out.append(name).append(": ").append(value).append("\r\n");
    }
    bool body_method = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (!req.body.empty() || body_method) {
        out.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
    }
    out.append("Connection: close\r\n\r\n");
    out.append(req.body);
    return out;
}

// The connection's byte stream: TLS when `tls` is set, else the TCP stream.
struct stream {
    net::tcp_stream& tcp;
    tls::tls_stream* tls = nullptr;

    rt::task<result<std::size_t>> read(std::span<char> dst, std::int64_t deadline) {
        if (tls) co_return co_await tls->async_read_some(dst, deadline);
        co_return co_await tcp.async_read_some(dst, deadline);
    }
    rt::task<result<void>> write(std::string& data, std::int64_t timeout_ns) {
        iovec iov{data.data(), data.size()};
        if (tls) co_return co_await tls->async_write_all(std::span(&iov, 1), timeout_ns);
        co_return co_await tcp.async_write_all(std::span(&iov, 1), timeout_ns);
    }
};

struct exchange_state {
    const client_request& req;
    const client_limits& limits;
    std::int64_t deadline;
    std::string origin;
    std::string& error;

    std::int64_t left() const {
        std::int64_t l = deadline - rt::reactor::clock_now();
        return l > 0 ? l : 1;
    }
    template <class T>
    result<T> fail(std::error_code ec, std::string msg) {
        error = std::move(msg);
        return unexpected{ec};
    }
    template <class T>
    result<T> read_failed(std::error_code ec) {
        if (ec == std::errc::timed_out) {
            return fail<T>(ec, "timed out after " + duration_text(limits.request_timeout_ns) +
                                   " reading the response from " + origin);
        }
        return fail<T>(ec, "reading the response from " + origin + ": " + ec.message());
    }
    template <class T>
    result<T> malformed(std::string_view why) {
        return fail<T>(errno_code(EPROTO),
                       "malformed response from " + origin + ": " + std::string(why));
    }
    template <class T>
    result<T> too_large() {
        return fail<T>(errno_code(EFBIG),
                       "response body larger than " + std::to_string(limits.max_body) + " bytes");
    }
};

// Sends the request and reads the whole response over an established stream.
rt::task<result<client_response>> exchange(stream s, exchange_state& st) {
    using R = client_response;
    std::string wire = build_request(st.req);
    auto sent = co_await s.write(wire, st.left());
    if (!sent) {
        if (sent.error() == std::errc::timed_out) {
            co_return st.fail<R>(sent.error(), "timed out after " +
                                                   duration_text(st.limits.request_timeout_ns) +
                                                   " sending the request to " + st.origin);
        }
        co_return st.fail<R>(sent.error(),
                             "sending the request to " + st.origin + ": " + sent.error().message());
    }

    // The head, plus whatever body bytes came with it.
    std::size_t cap = std::max<std::size_t>(st.limits.max_head + 1, 16 * 1024);
    auto buf = std::make_unique_for_overwrite<char[]>(cap);
    std::size_t len = 0;
    auto head = std::make_unique<response_head>();
    response_limits rl;
    rl.head = st.limits.max_head;
    bool is_head = st.req.method == "HEAD";
    std::size_t consumed = 0;
    for (;;) {
        auto pr = parse_response({buf.get(), len}, is_head, *head, rl);
        if (pr.status == response_status::complete) {
            consumed = pr.consumed;
            break;
        }
        if (pr.status == response_status::error) co_return st.malformed<R>(pr.error);
        auto n = co_await s.read({buf.get() + len, cap - len}, st.deadline);
        if (!n) co_return st.read_failed<R>(n.error());
        if (*n == 0) {
            co_return st.malformed<R>(len == 0 ? "connection closed without a response"
                                               : "connection closed inside the response head");
        }
        len += *n;
    }

    client_response out;
    out.status = head->status;
    out.reason = head->reason;
    out.headers.reserve(head->field_count);
    for (const header_field& f : head->headers()) out.headers.emplace_back(f.name, f.value);
    body_framing framing = head->framing;
    std::uint64_t length = head->content_length;
    if (framing == body_framing::content_length && length > st.limits.max_body) {
        co_return st.too_large<R>();
    }

    chunked_decoder::limits cl;
    cl.chunk_size = st.limits.max_body + 1;
    chunked_decoder chunks(cl);
    std::string_view pending(buf.get() + consumed, len - consumed);
    for (;;) {
        // Take what arrived.
        if (framing == body_framing::chunked) {
            while (!pending.empty() && !chunks.done() && !chunks.failed()) {
                auto step = chunks.step(pending);
                out.body.append(step.data);
                pending.remove_prefix(step.consumed);
                if (out.body.size() > st.limits.max_body) co_return st.too_large<R>();
            }
            if (chunks.failed()) co_return st.malformed<R>(chunks.error());
            if (chunks.done()) break;
        } else if (framing == body_framing::content_length) {
            std::size_t want = static_cast<std::size_t>(length) - out.body.size();
            out.body.append(pending.substr(0, want));
            if (out.body.size() == length) break;
        } else if (framing == body_framing::until_close) {
            out.body.append(pending);
            if (out.body.size() > st.limits.max_body) co_return st.too_large<R>();
        } else {
            break;
        }
        auto n = co_await s.read({buf.get(), cap}, st.deadline);
        if (!n) co_return st.read_failed<R>(n.error());
        if (*n == 0) {
            if (framing == body_framing::until_close) break;
            co_return st.malformed<R>(framing == body_framing::chunked
                                          ? std::string("connection closed inside the chunked body")
                                          : "connection closed after " +
                                                std::to_string(out.body.size()) + " of " +
                                                std::to_string(length) + " body bytes");
        }
        pending = {buf.get(), *n};
    }
    co_return out;
}

} // namespace

std::optional<std::string_view> client_response::header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
        if (same_name(n, name)) return std::string_view(v);
    }
    return std::nullopt;
}

std::vector<std::string_view> client_response::headers_named(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [n, v] : headers) {
        if (same_name(n, name)) out.emplace_back(v);
    }
    return out;
}

rt::task<result<client_response>> fetch(const client_request& req, WOLFSSL_CTX* tls_ctx,
                                        const client_limits& limits, std::string& error) {
    using R = client_response;
    const std::int64_t deadline = rt::reactor::clock_now() + limits.request_timeout_ns;
    const url& u = req.target;
    exchange_state st{req, limits, deadline, origin_of(u), error};

    bool method_ok = !req.method.empty() && std::all_of(req.method.begin(), req.method.end(),
                                                        [](char c) { return is_tchar(c); });
    if (!method_ok) co_return st.fail<R>(errno_code(EINVAL), "invalid request method");
    for (const auto& [name, value] : req.headers) {
        bool ok = !name.empty() && std::all_of(name.begin(), name.end(), is_tchar);
        if (!ok || !clean_field(value)) {
            co_return st.fail<R>(errno_code(EINVAL), "invalid request header field " + name);
        }
    }
    if (u.https() && !tls_ctx) {
        co_return st.fail<R>(errno_code(EINVAL), st.origin + " needs a TLS client context");
    }

    auto eps = co_await net::async_resolve(
        u.host, u.port, error, std::max<std::int64_t>(1, deadline - rt::reactor::clock_now()));
    if (!eps) co_return unexpected{eps.error()};

    unique_fd fd;
    std::error_code first_ec;
    std::string first_error;
    for (const net::endpoint& ep : *eps) {
        std::int64_t left = deadline - rt::reactor::clock_now();
        if (left <= 0) break;
        std::int64_t budget = std::min(limits.connect_timeout_ns, left);
        auto c = co_await net::async_connect(ep, budget);
        if (c) {
            fd = std::move(*c);
            break;
        }
        if (!first_ec) {
            first_ec = c.error();
            first_error =
                "connect to " + ep.to_string() + ": " +
                (c.error() == std::errc::timed_out ? "timed out after " + duration_text(budget)
                                                   : c.error().message());
        }
    }
    if (!fd) {
        if (!first_ec) {
            co_return st.fail<R>(errno_code(ETIMEDOUT),
                                 "timed out after " + duration_text(limits.request_timeout_ns) +
                                     " connecting to " + st.origin);
        }
        co_return st.fail<R>(first_ec, first_error);
    }

    net::tcp_stream tcp(fd.release());
    std::optional<tls::tls_stream> tls;
    result<client_response> out = fail_errno(EPROTO);
    bool connected = true;
    if (u.https()) {
        tls.emplace(tcp);
        auto hs = co_await tls->async_connect(tls_ctx, u.host, deadline);
        if (!hs) {
            std::string why = hs.error() == std::errc::protocol_error ? tls->error_description()
                              : hs.error() == std::errc::timed_out
                                  ? "timed out after " + duration_text(limits.request_timeout_ns)
                                  : hs.error().message();
            out = st.fail<R>(hs.error(), "TLS handshake with " + u.host + ": " + why);
            connected = false;
        }
    }
    if (connected) {
        out = co_await exchange(stream{tcp, tls ? &*tls : nullptr}, st);
    }
    if (tls) {
        co_await tls->async_close();
    } else {
        co_await tcp.async_close();
    }
    co_return out;
}

} // namespace ringlet::http
