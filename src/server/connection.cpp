// Where connections start and what the connections of one reactor share: the pinned site
// generations and the Date line (reactor_state), the list of live connections that drain and
// abort walk, and the two entry points: serve_connection (plain HTTP) and serve_tls_connection
// (ClientHello, SNI certificate choice or a TLS-ALPN-01 answer, handshake), both of which then
// run a session (session.hpp).
#include "ringlet/server/connection.hpp"

#include "server/session.hpp"

#include "ringlet/base/log.hpp"
#include "ringlet/http/date.hpp"
#include "ringlet/net/tcp_stream.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "ringlet/tls/hello_reader.hpp"
#include "ringlet/tls/tls_stream.hpp"

#include <time.h>

#include <memory>
#include <string>

namespace ringlet::server {

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

} // namespace

rt::task<void> serve_connection(reactor_state& st, int fd) {
    net::tcp_stream tcp(fd);
    registration reg(st, tcp);
    detail::session<net::tcp_stream> s(st, tcp, reg.entry());
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
    detail::session<tls::tls_stream> s(st, stream, reg.entry());
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
