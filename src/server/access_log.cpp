#include "ringlet/server/access_log.hpp"

#include "ringlet/base/unique_fd.hpp"
#include "ringlet/http/syntax.hpp"
#include "ringlet/runtime/reactor.hpp"

#include <unistd.h>

#include <ctime>

namespace ringlet::server {

namespace {

constexpr std::size_t flush_bytes = 16 * 1024;
constexpr std::int64_t flush_delay_ns = 200'000'000;

// Quotes a header value for the log: no raw quotes or control bytes reach the line.
void append_quoted(std::string& out, std::string_view v) {
    out.push_back('"');
    if (v.empty()) out.push_back('-');
    for (unsigned char c : v) {
        if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out.append("\\x").push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    out.push_back('"');
}

std::string_view header(const http::request& r, std::string_view lower_name) {
    for (std::size_t i = 0; i < r.header_count; ++i) {
        if (http::iequals(r.headers[i].name, lower_name)) return r.headers[i].value;
    }
    return {};
}

} // namespace

void access_log::record(std::string_view remote, const http::request& req, int status,
                        std::uint64_t bytes, std::int64_t duration_ns) {
    if (fd_ < 0) return;
    timespec ts{};
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    tm utc{};
    gmtime_r(&ts.tv_sec, &utc);
    char when[40];
    std::size_t n = std::strftime(when, sizeof when, "[%d/%b/%Y:%H:%M:%S +0000]", &utc);

    buf_.append(remote.empty() ? std::string_view("-") : remote).append(" - - ");
    buf_.append(when, n).push_back(' ');
    std::string request_line;
    request_line.append(req.method_name).push_back(' ');
    request_line.append(req.target).append(req.version_minor == 0 ? " HTTP/1.0" : " HTTP/1.1");
    append_quoted(buf_, request_line);
    buf_.append(" ").append(std::to_string(status)).append(" ").append(std::to_string(bytes));
    buf_.push_back(' ');
    append_quoted(buf_, header(req, "referer"));
    buf_.push_back(' ');
    append_quoted(buf_, header(req, "user-agent"));
    buf_.push_back(' ');
    buf_.append(req.host.empty() ? std::string_view("-") : req.host);
    buf_.append(" ").append(std::to_string(duration_ns / 1000)).append("us\n");

    if (buf_.size() >= flush_bytes) {
        flush();
    } else if (!timer_.armed()) {
        auto& r = rt::this_reactor();
        r.timers().arm(timer_, r.now() + flush_delay_ns);
    }
}

void access_log::flush() {
    // A full disk must not stop serving: lines that cannot be written are dropped.
    (void)write_all(fd_, buf_);
    buf_.clear();
}

void access_log::on_timer(rt::timer& t) {
    static_cast<access_log*>(t.context())->flush();
}

} // namespace ringlet::server
