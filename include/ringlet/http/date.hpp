// HTTP-date (RFC 9110 5.6.7): formatting for Date / Last-Modified, parsing for the conditional
// request headers.
//
// Pure functions over Unix seconds (UTC, no leap seconds): no clock reads, no locale, no tz
// database. The caller passes the time in.
//
//   char buf[http_date_size];
//   format_http_date(now, buf);                 // "Sun, 06 Nov 1994 08:49:37 GMT"
//   auto t = parse_http_date(if_modified_since);  // nullopt: ignore the header
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ringlet::http {

// Length of an IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
inline constexpr std::size_t http_date_size = 29;

// Writes `unix_seconds` as an IMF-fixdate into `out` (exactly http_date_size bytes, no NUL).
// Times outside years 0000..9999, which a four-digit year cannot express, are clamped to
// 0000-01-01 00:00:00 / 9999-12-31 23:59:59.
void format_http_date(std::int64_t unix_seconds, char (&out)[http_date_size]) noexcept;

// Parses the three HTTP-date forms a recipient must accept:
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
//   asctime      "Sun Nov  6 08:49:37 1994"   (day may also be "06")
// Returns Unix seconds, or nullopt if `s` is none of them. Names are case-sensitive as in the
// RFC grammar; leading/trailing spaces and tabs are ignored. The day-name must be a valid name
// but is not checked against the date. Fields are range-checked (day within the month, hour
// <= 23, minute <= 59, second <= 60; a leap second 60 rolls into the next minute).
//
// An RFC 850 two-digit year yy is placed in the century that puts it in the 100-year window
// (now_year - 50, now_year + 50], so a year "more than 50 years in the future" becomes the most
// recent past year with those digits (RFC 9110 5.6.7). The one-argument form uses the fixed
// reference year rfc850_reference_year (yy 76..99 -> 1976..1999, 00..75 -> 2000..2075), which
// keeps the function pure; pass `now_unix` for the exact rule.
inline constexpr int rfc850_reference_year = 2025;
std::optional<std::int64_t> parse_http_date(std::string_view s) noexcept;
std::optional<std::int64_t> parse_http_date(std::string_view s, std::int64_t now_unix) noexcept;

} // namespace ringlet::http
