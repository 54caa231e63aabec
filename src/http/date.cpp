#include "ringlet/http/date.hpp"

#include "ringlet/base/civil.hpp"
#include "ringlet/http/syntax.hpp"

#include <algorithm>

namespace ringlet::http {

namespace {

constexpr std::string_view short_day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view long_day_names[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                "Thursday", "Friday", "Saturday"};
constexpr std::string_view month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

using civil::civil_from_days;
using civil::days_from_civil;
using civil::days_in_month;
using civil::floor_div;
using civil::seconds_per_day;
using civil_date = civil::date;

// The representable range of a four-digit year.
constexpr std::int64_t min_formattable = days_from_civil(0, 1, 1) * seconds_per_day;
constexpr std::int64_t max_formattable = days_from_civil(9999, 12, 31) * seconds_per_day + 86399;

void put2(char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
}

// Reads exactly `n` ASCII digits at s[pos..pos+n).
bool read_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

template <std::size_t N>
int find_name(const std::string_view (&names)[N], std::string_view s) {
    for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == s) return static_cast<int>(i);
    }
    return -1;
}

struct date_fields {
    std::int64_t year = 0;
    int month = 0; // 1..12
    int day = 0;
    int hour = 0, minute = 0, second = 0;
};

// "HH:MM:SS" at s[pos..pos+8).
bool read_time(std::string_view s, std::size_t pos, date_fields& f) {
    return pos + 8 <= s.size() && s[pos + 2] == ':' && s[pos + 5] == ':' &&
           read_digits(s, pos, 2, f.hour) && read_digits(s, pos + 3, 2, f.minute) &&
           read_digits(s, pos + 6, 2, f.second);
}

bool read_month(std::string_view s, std::size_t pos, date_fields& f) {
    if (pos + 3 > s.size()) return false;
    f.month = find_name(month_names, s.substr(pos, 3)) + 1;
    return f.month != 0;
}

std::optional<std::int64_t> to_unix(const date_fields& f) {
    if (f.day < 1 || f.day > days_in_month(f.year, f.month)) return std::nullopt;
    // Second 60 is the leap second the grammar allows; POSIX time has no slot for it, so it
    // simply lands on the first second of the next minute.
    if (f.hour > 23 || f.minute > 59 || f.second > 60) return std::nullopt;
    return days_from_civil(f.year, f.month, f.day) * seconds_per_day + f.hour * 3600 +
           f.minute * 60 + f.second;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::int64_t> parse_imf_fixdate(std::string_view s) {
    date_fields f;
    int year = 0;
    if (s.size() != http_date_size || find_name(short_day_names, s.substr(0, 3)) < 0 ||
        s.substr(3, 2) != ", " || !read_digits(s, 5, 2, f.day) || s[7] != ' ' ||
        !read_month(s, 8, f) || s[11] != ' ' || !read_digits(s, 12, 4, year) || s[16] != ' ' ||
        !read_time(s, 17, f) || s.substr(25) != " GMT") {
        return std::nullopt;
    }
    f.year = year;
    return to_unix(f);
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<std::int64_t> parse_rfc850(std::string_view s, std::int64_t now_year) {
    const std::size_t comma = s.find(',');
    if (comma == std::string_view::npos || find_name(long_day_names, s.substr(0, comma)) < 0) {
        return std::nullopt;
    }
    const std::string_view r = s.substr(comma); // ", 06-Nov-94 08:49:37 GMT"
    date_fields f;
    int yy = 0;
    if (r.size() != 24 || r.substr(0, 2) != ", " || !read_digits(r, 2, 2, f.day) || r[4] != '-' ||
        !read_month(r, 5, f) || r[8] != '-' || !read_digits(r, 9, 2, yy) || r[11] != ' ' ||
        !read_time(r, 12, f) || r.substr(20) != " GMT") {
        return std::nullopt;
    }
    // Pick the year ending in yy inside (now_year - 50, now_year + 50].
    std::int64_t year = floor_div(now_year, 100) * 100 + yy;
    if (year > now_year + 50) year -= 100;
    if (year <= now_year - 50) year += 100;
    f.year = year;
    return to_unix(f);
}

// "Sun Nov  6 08:49:37 1994"
std::optional<std::int64_t> parse_asctime(std::string_view s) {
    date_fields f;
    int year = 0;
    if (s.size() != 24 || find_name(short_day_names, s.substr(0, 3)) < 0 || s[3] != ' ' ||
        !read_month(s, 4, f) || s[7] != ' ') {
        return std::nullopt;
    }
    // day = 2DIGIT / ( SP DIGIT )
    const bool day_ok = s[8] == ' ' ? read_digits(s, 9, 1, f.day) : read_digits(s, 8, 2, f.day);
    if (!day_ok || s[10] != ' ' || !read_time(s, 11, f) || s[19] != ' ' ||
        !read_digits(s, 20, 4, year)) {
        return std::nullopt;
    }
    f.year = year;
    return to_unix(f);
}

std::optional<std::int64_t> parse_with_year(std::string_view s, std::int64_t now_year) {
    s = trim_ows(s);
    if (s.size() < 4) return std::nullopt;
    // The fourth character tells the forms apart: ',' after a short day name is IMF-fixdate,
    // ' ' is asctime, and only a long day name (RFC 850) continues with a letter.
    if (s[3] == ',') return parse_imf_fixdate(s);
    if (s[3] == ' ') return parse_asctime(s);
    return parse_rfc850(s, now_year);
}

} // namespace

void format_http_date(std::int64_t unix_seconds, char (&out)[http_date_size]) noexcept {
    const std::int64_t t = std::clamp(unix_seconds, min_formattable, max_formattable);
    const std::int64_t days = floor_div(t, seconds_per_day);
    const int secs = static_cast<int>(t - days * seconds_per_day);
    const civil_date d = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 4 with Sunday = 0).
    const auto weekday = static_cast<std::size_t>(((days % 7) + 7 + 4) % 7);

    const std::string_view day_name = short_day_names[weekday];
    const std::string_view month_name = month_names[d.month - 1];
    char* p = out;
    std::copy(day_name.begin(), day_name.end(), p);
    p[3] = ',';
    p[4] = ' ';
    put2(p + 5, d.day);
    p[7] = ' ';
    std::copy(month_name.begin(), month_name.end(), p + 8);
    p[11] = ' ';
    const int year = static_cast<int>(d.year);
    put2(p + 12, year / 100);
    put2(p + 14, year % 100);
    p[16] = ' ';
    put2(p + 17, secs / 3600);
    p[19] = ':';
    put2(p + 20, secs / 60 % 60);
    p[22] = ':';
    put2(p + 23, secs % 60);
    p[25] = ' ';
    p[26] = 'G';
    p[27] = 'M';
    p[28] = 'T';
}

std::optional<std::int64_t> parse_http_date(std::string_view s) noexcept {
    return parse_with_year(s, rfc850_reference_year);
}

std::optional<std::int64_t> parse_http_date(std::string_view s, std::int64_t now_unix) noexcept {
    // Clamped so that the chosen year stays far from int64 overflow in to_unix().
    const std::int64_t now = std::clamp(now_unix, min_formattable, max_formattable);
    return parse_with_year(s, civil_from_days(floor_div(now, seconds_per_day)).year);
}

} // namespace ringlet::http
