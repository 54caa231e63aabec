// Logging: one line per event on stderr, `<UTC time> <level> [<thread>] <message>`.
//
// Thread-safe (each line is one write(2)) and cheap when the level is filtered out: the check is a
// relaxed atomic load before any formatting. Request handlers log only errors.
//
//   RINGLET_LOG(warn) << "cannot open " << path << ": " << ec;
#pragma once

#include <atomic>
#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <system_error>

namespace ringlet::log {

enum class level : int { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

// The threshold: messages below it are dropped. Default: info.
void set_level(level l) noexcept;
bool parse_level(std::string_view name, level& out) noexcept;

// Names the calling thread in log lines ("main", "reactor-0", ...).
void set_thread_name(std::string_view name);

namespace detail {
extern std::atomic<int> threshold;
}

inline bool enabled(level l) noexcept {
    return static_cast<int>(l) >= detail::threshold.load(std::memory_order_relaxed);
}

// Accumulates one line and writes it when destroyed.
class line {
public:
    explicit line(level l) : level_(l) {}
    line(const line&) = delete;
    line& operator=(const line&) = delete;
    ~line();

    line& operator<<(std::string_view s) {
        text_.append(s);
        return *this;
    }
    line& operator<<(const char* s) { return *this << std::string_view(s); }
    line& operator<<(const std::string& s) { return *this << std::string_view(s); }
    line& operator<<(char c) {
        text_.push_back(c);
        return *this;
    }
    template <std::integral I>
    requires(!std::same_as<I, char> && !std::same_as<I, bool>) line& operator<<(I v) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        text_.append(buf, r.ptr);
        return *this;
    }
    line& operator<<(bool b) { return *this << (b ? "true" : "false"); }
    line& operator<<(double v);
    line& operator<<(const std::error_code& ec) { return *this << ec.message(); }

private:
    level level_;
    std::string text_;
};

} // namespace ringlet::log

// Evaluates the stream expression only when the level is enabled.
#define RINGLET_LOG(lvl)                                                                           \
    if (!::ringlet::log::enabled(::ringlet::log::level::lvl)) {                                    \
    } else                                                                                         \
        ::ringlet::log::line(::ringlet::log::level::lvl)
