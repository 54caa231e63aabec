#include "ringlet/tls/hello_reader.hpp"

#include <sys/uio.h>

namespace ringlet::tls {

rt::task<result<hello_bytes>> read_client_hello(net::tcp_stream& tcp, std::span<char> buf,
                                                client_hello_info& info, std::string& scratch,
                                                std::int64_t deadline) {
    std::size_t len = 0;
    scratch.clear(); // non-empty afterwards only for a fragmented hello
    for (;;) {
        if (len == buf.size()) {
            co_await send_alert(tcp, 50); // decode_error: larger than any hello we accept
            co_return fail_errno(EPROTO);
        }
        auto n = co_await tcp.async_read_some(buf.subspan(len), deadline);
        if (!n) co_return unexpected{n.error()};
        if (*n == 0) co_return fail_errno(ECONNRESET);
        len += *n;
        auto r = parse_client_hello({reinterpret_cast<const std::uint8_t*>(buf.data()), len}, info,
                                    scratch);
        switch (r.status) {
        case hello_status::complete:
            co_return hello_bytes{len, r.consumed};
        case hello_status::incomplete:
            continue;
        default:
            if (r.alert) co_await send_alert(tcp, r.alert);
            co_return fail_errno(EPROTO);
        }
    }
}

std::span<const char> handshake_input(std::span<const char> buf, hello_bytes got,
                                      const std::string& scratch, std::string& out) {
    constexpr std::size_t max_record = 16384;
    if (scratch.empty() || scratch.size() > max_record || got.consumed > got.read) {
        return buf.first(got.read);
    }
    out.clear();
    out.reserve(5 + scratch.size() + (got.read - got.consumed));
    out.push_back(22); // handshake
    out.push_back(buf[1]);
    out.push_back(buf[2]); // the client's record version
    out.push_back(static_cast<char>(scratch.size() >> 8));
    out.push_back(static_cast<char>(scratch.size() & 0xff));
    out.append(scratch);
    out.append(buf.data() + got.consumed, got.read - got.consumed);
    return out;
}

rt::task<void> send_alert(net::tcp_stream& tcp, std::uint8_t description) {
    char record[7] = {21, 3, 3, 0, 2, 2 /* fatal */, static_cast<char>(description)};
    iovec iov{record, sizeof record};
    (void)co_await tcp.async_write_all(std::span(&iov, 1), 1'000'000'000);
}

} // namespace ringlet::tls
