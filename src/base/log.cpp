#include "ringlet/base/log.hpp"

#include "ringlet/base/unique_fd.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace ringlet::log {

namespace detail {
std::atomic<int> threshold{static_cast<int>(level::info)};
}

namespace {
thread_local std::string thread_name = "main";

std::string_view level_name(level l) {
    switch (l) {
    case level::debug:
        return "debug";
    case level::info:
        return "info";
    case level::warn:
        return "warn";
    case level::error:
        return "error";
    case level::off:
        break;
    }
    return "?";
}
} // namespace

void set_level(level l) noexcept {
    detail::threshold.store(static_cast<int>(l));
}

bool parse_level(std::string_view name, level& out) noexcept {
    for (level l : {level::debug, level::info, level::warn, level::error, level::off}) {
        if (name == (l == level::off ? std::string_view("off") : level_name(l))) {
            out = l;
            return true;
        }
    }
    return false;
}

void set_thread_name(std::string_view name) {
    thread_name = name;
}

line& line::operator<<(double v) {
    char buf[32];
    int n = std::snprintf(buf, sizeof buf, "%.3f", v);
    text_.append(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    return *this;
}

line::~line() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    gmtime_r(&ts.tv_sec, &utc);
    char stamp[40];
    std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(stamp + n, sizeof stamp - n, ".%03ldZ", ts.tv_nsec / 1000000);

    std::string out;
    out.reserve(text_.size() + 64);
    out.append(stamp).append(" ").append(level_name(level_)).append(" [").append(thread_name);
    out.append("] ").append(text_).push_back('\n');
    // One write per line keeps lines from different threads whole.
    (void)write_all(STDERR_FILENO, out);
}

} // namespace ringlet::log
