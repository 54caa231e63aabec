// civil: proleptic Gregorian calendar <-> days since 1970-01-01 (H. Hinnant's algorithms), for
// the three date formats ringlet reads and writes (HTTP dates, X.509 times, RFC 3339 in ACME).
// No time zone database, no locale, no clock: pure constexpr arithmetic, exact for any year.
//
// The year is taken to start in March: the leap day then falls at the very end of the year, so
// the day-of-year of every month start is the same linear formula (153 * month + 2) / 5 in every
// year, and 400-year eras repeat exactly (146097 days).
#pragma once

#include <cstdint>

namespace ringlet::civil {

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

inline constexpr std::int64_t days_per_era = 146097;
inline constexpr std::int64_t epoch_shift = 719468; // days from 0000-03-01 to 1970-01-01
inline constexpr std::int64_t seconds_per_day = 86400;

constexpr std::int64_t days_from_civil(std::int64_t year, int month, int day) noexcept {
    const std::int64_t y = month <= 2 ? year - 1 : year;
    const std::int64_t era = floor_div(y, 400);
    const std::int64_t year_of_era = y - era * 400;                         // 0..399
    const int march_month = month > 2 ? month - 3 : month + 9;              // Mar = 0 .. Feb = 11
    const std::int64_t day_of_year = (153 * march_month + 2) / 5 + day - 1; // 0..365
    const std::int64_t day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * days_per_era + day_of_era - epoch_shift;
}

struct date {
    std::int64_t year;
    int month; // 1..12
    int day;   // 1..31
};

constexpr date civil_from_days(std::int64_t days) noexcept {
    const std::int64_t shifted = days + epoch_shift;
    const std::int64_t era = floor_div(shifted, days_per_era);
    const std::int64_t day_of_era = shifted - era * days_per_era; // 0..146096
    // Remove the leap days accumulated so far (one per 4 years, less the centuries, plus the
    // era's last day) so that a plain division by 365 yields the year of the era.
    const std::int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const std::int64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const int march_month = static_cast<int>((5 * day_of_year + 2) / 153);
    const int day = static_cast<int>(day_of_year - (153 * march_month + 2) / 5 + 1);
    const int month = march_month < 10 ? march_month + 3 : march_month - 9;
    return {era * 400 + year_of_era + (month <= 2 ? 1 : 0), month, day};
}

// A unix time split into its UTC date and time of day.
struct date_time {
    date d;
    int hour, minute, second;
};

constexpr date_time from_unix(std::int64_t t) noexcept {
    const std::int64_t days = floor_div(t, seconds_per_day);
    const auto secs = static_cast<int>(t - days * seconds_per_day);
    return {civil_from_days(days), secs / 3600, secs / 60 % 60, secs % 60};
}

constexpr bool is_leap_year(std::int64_t y) noexcept {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr int days_in_month(std::int64_t year, int month) noexcept {
    constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(civil_from_days(11016).month == 2 && civil_from_days(11016).day == 29);
static_assert(from_unix(-1).d.year == 1969 && from_unix(-1).second == 59);

} // namespace ringlet::civil
