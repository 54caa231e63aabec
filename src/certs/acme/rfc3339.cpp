// RFC 3339 date-times (section 5.6) as ACME writes them: order and authorization expiry, ARI
// windows. Declared in messages.hpp.
#include "ringlet/base/civil.hpp"
#include "ringlet/certs/acme/messages.hpp"

#include <cstdio>
#include <string>

namespace ringlet::certs::acme {

namespace {

// Reads exactly `n` digits at `at` into `out`.
bool digits(std::string_view s, std::size_t at, std::size_t n, unsigned& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return true;
}

bool time_error(std::string& error, std::string message) {
    error = std::move(message);
    return false;
}

// date-time = full-date "T" partial-time time-offset (RFC 3339 section 5.6).
bool rfc3339(std::string_view s, std::int64_t& out, std::string& error) {
    unsigned year, month, day, hour, minute, second;
    if (!digits(s, 0, 4, year) || s.size() < 5 || s[4] != '-' || !digits(s, 5, 2, month) ||
        s.size() < 8 || s[7] != '-' || !digits(s, 8, 2, day)) {
        return time_error(error, "expected a date as YYYY-MM-DD");
    }
    if (month < 1 || month > 12) {
        return time_error(error, "month " + std::to_string(month) + " does not exist");
    }
    if (day < 1 ||
        day > static_cast<unsigned>(civil::days_in_month(year, static_cast<int>(month)))) {
        return time_error(error, "day " + std::to_string(day) + " does not exist in " +
                                     std::string(s.substr(0, 7)));
    }
    if (s.size() < 11 || (s[10] != 'T' && s[10] != 't')) {
        return time_error(error, "expected 'T' between the date and the time");
    }
    if (!digits(s, 11, 2, hour) || s.size() < 14 || s[13] != ':' || !digits(s, 14, 2, minute) ||
        s.size() < 17 || s[16] != ':' || !digits(s, 17, 2, second)) {
        return time_error(error, "expected a time as hh:mm:ss");
    }
    if (hour > 23 || minute > 59 || second > 60) {
        return time_error(error, "the time " + std::string(s.substr(11, 8)) + " does not exist");
    }
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        std::size_t start = ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == start) return time_error(error, "expected digits after '.'");
    }
    std::int64_t offset = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        unsigned oh, om;
        if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
            !digits(s, i + 4, 2, om) || oh > 23 || om > 59) {
            return time_error(error, "expected an offset as +hh:mm or -hh:mm");
        }
        offset = (s[i] == '-' ? -1 : 1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
        i += 6;
    } else {
        return time_error(error, "expected 'Z' or an offset like +02:00 after the time");
    }
    if (i != s.size()) return time_error(error, "unexpected text after the time zone");
    out = civil::days_from_civil(year, static_cast<int>(month), static_cast<int>(day)) * 86400 +
          hour * 3600 + minute * 60 + second - offset;
    return true;
}

} // namespace

result<std::int64_t> parse_rfc3339(std::string_view text, std::string& error) {
    std::int64_t t = 0;
    if (!rfc3339(text, t, error)) return fail_errno(EBADMSG);
    return t;
}

std::string format_rfc3339(std::int64_t t) {
    civil::date_time c = civil::from_unix(t);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
                  static_cast<long long>(c.d.year), c.d.month, c.d.day, c.hour, c.minute, c.second);
    return buf;
}

} // namespace ringlet::certs::acme
