// The HTTP/1.1 session of one connection, shared by the files that implement it:
// connection.cpp starts one per accepted (and, for TLS, handshaken) connection, session.cpp runs
// the request loop and routes each request, file_response.cpp answers from the site's folder and
// writes error pages and redirects. Private to the server.
#pragma once

#include "ringlet/files/file_cache.hpp"
#include "ringlet/http/request.hpp"
#include "ringlet/http/response.hpp"
#include "ringlet/net/tcp_stream.hpp"
#include "ringlet/runtime/task.hpp"
#include "ringlet/server/connection.hpp"
#include "ringlet/server/site.hpp"
#include "ringlet/tls/tls_stream.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace ringlet::server {

// A connection on its reactor's list (reactor_state::connections), which drain walks.
struct connection_entry {
    connection_entry* prev = nullptr;
    connection_entry* next = nullptr;
    net::tcp_stream* stream = nullptr;
    bool idle = false; // waiting for the first byte of a request
};

namespace detail {

// One HTTP/1.1 connection over a byte stream: net::tcp_stream, or tls::tls_stream on top of
// one. Stream and registration (the connection_entry) outlive the session.
template <class Stream>
class session {
public:
    static constexpr bool secure = !std::is_same_v<Stream, net::tcp_stream>;

    session(reactor_state& st, Stream& stream, connection_entry& entry)
        : st_(st), stream_(stream), entry_(entry) {}

    rt::task<void> run();

private:
    // session.cpp: reading requests, routing them, writing responses.
    rt::task<int> next_request();
    rt::task<bool> respond();
    rt::task<bool> send_https_redirect();
    rt::task<bool> send_challenge(const std::string& key_authorization);
    rt::task<bool> send(std::string_view head, std::string_view body);
    rt::task<void> lingering_close();
    void common_headers(http::response_writer& w);
    void release_buffers();
    void log_access(std::string_view head, std::uint64_t body_bytes);

    // file_response.cpp: answers from the site's folder, error pages, redirects.
    rt::task<bool> serve_path(const site& s);
    rt::task<bool> serve_file(const site& s, const files::file_info& file, int status);
    rt::task<bool> stream_file(std::string_view head, const files::file_info& f,
                               std::uint64_t first, std::uint64_t length);
    rt::task<bool> send_error(int status, const site* s = nullptr);
    rt::task<bool> send_redirect(int status);

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

// The members one file calls and another defines, for the stream types in use: each is
// instantiated once, at the end of the file that defines it. Members called only where they are
// defined are left to implicit instantiation, so the compiler inlines them as it sees fit.
// session.cpp:
extern template rt::task<void> session<net::tcp_stream>::run();
extern template rt::task<void> session<tls::tls_stream>::run();
extern template rt::task<bool> session<net::tcp_stream>::send(std::string_view, std::string_view);
extern template rt::task<bool> session<tls::tls_stream>::send(std::string_view, std::string_view);
extern template void session<net::tcp_stream>::common_headers(http::response_writer&);
extern template void session<tls::tls_stream>::common_headers(http::response_writer&);
extern template void session<net::tcp_stream>::log_access(std::string_view, std::uint64_t);
extern template void session<tls::tls_stream>::log_access(std::string_view, std::uint64_t);
// file_response.cpp (send_redirect: only the plain listener's HTTPS redirect calls it from
// session.cpp):
extern template rt::task<bool> session<net::tcp_stream>::serve_path(const site&);
extern template rt::task<bool> session<tls::tls_stream>::serve_path(const site&);
extern template rt::task<bool> session<net::tcp_stream>::send_error(int, const site*);
extern template rt::task<bool> session<tls::tls_stream>::send_error(int, const site*);
extern template rt::task<bool> session<net::tcp_stream>::send_redirect(int);

} // namespace detail
} // namespace ringlet::server
