#include "ringlet/http/date.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

using ringlet::http::format_http_date;
using ringlet::http::http_date_size;
using ringlet::http::parse_http_date;

constexpr std::int64_t rfc_example = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT

std::string format(std::int64_t t) {
    char buf[http_date_size];
    format_http_date(t, buf);
    return std::string(buf, http_date_size);
}

TEST(HttpDate, Formats) {
    struct row {
        std::int64_t t;
        std::string_view want;
    };
    const row rows[] = {
        {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
        {rfc_example, "Sun, 06 Nov 1994 08:49:37 GMT"},
        {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
        {951868800, "Wed, 01 Mar 2000 00:00:00 GMT"},
        {1709164800, "Thu, 29 Feb 2024 00:00:00 GMT"},
        {2147483647, "Tue, 19 Jan 2038 03:14:07 GMT"},
        {4107542399, "Sun, 28 Feb 2100 23:59:59 GMT"}, // 2100 is not a leap year
        {4107542400, "Mon, 01 Mar 2100 00:00:00 GMT"},
        {-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
        {-86400, "Wed, 31 Dec 1969 00:00:00 GMT"},
        {-2208988800, "Mon, 01 Jan 1900 00:00:00 GMT"},
        {-62135596800, "Mon, 01 Jan 0001 00:00:00 GMT"},
        {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"},
        {253402300800, "Fri, 31 Dec 9999 23:59:59 GMT"}, // clamped
        {INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT"},    // clamped
        {INT64_MIN, "Sat, 01 Jan 0000 00:00:00 GMT"},    // clamped
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.t);
        EXPECT_EQ(format(r.t), r.want);
    }
}

TEST(HttpDate, RoundTripsEveryDayOverFourCenturies) {
    // One sample per day from 1800 to 2200 with a varying time of day, through format and parse.
    for (std::int64_t day = -62091; day < 84006; ++day) {
        const std::int64_t t = day * 86400 + (day * 7919) % 86400;
        const std::string s = format(t);
        const auto back = parse_http_date(s);
        ASSERT_TRUE(back.has_value()) << s;
        ASSERT_EQ(*back, t) << s;
    }
}

TEST(HttpDate, Parses) {
    struct row {
        std::string_view in;
        std::optional<std::int64_t> want;
    };
    const row rows[] = {
        // The three forms of the RFC 9110 5.6.7 example.
        {"Sun, 06 Nov 1994 08:49:37 GMT", rfc_example},
        {"Sunday, 06-Nov-94 08:49:37 GMT", rfc_example},
        {"Sun Nov  6 08:49:37 1994", rfc_example},
        {"Sun Nov 06 08:49:37 1994", rfc_example},
        // Surrounding whitespace is ignored.
        {"  Sun, 06 Nov 1994 08:49:37 GMT\t", rfc_example},
        {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
        {"Wed, 31 Dec 1969 23:59:59 GMT", -1},
        {"Tue, 29 Feb 2000 00:00:00 GMT", 951782400},
        {"Thu, 29 Feb 2024 00:00:00 GMT", 1709164800},
        {"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799},
        // The day-name is checked for spelling only, not against the date.
        {"Mon, 06 Nov 1994 08:49:37 GMT", rfc_example},
        // Leap second rolls into the next minute.
        {"Sun, 06 Nov 1994 08:49:60 GMT", rfc_example + 23},
        // RFC 850 two-digit years with the fixed reference year 2025.
        {"Wednesday, 01-Jan-70 00:00:00 GMT", 3155760000}, // 2070: 45 years ahead is kept
        {"Saturday, 01-Jan-00 00:00:00 GMT", 946684800},
        {"Tuesday, 31-Dec-75 23:59:59 GMT", 3345062399}, // 2075
        {"Thursday, 01-Jan-76 00:00:00 GMT", 189302400}, // 1976
        {"Friday, 31-Dec-99 23:59:59 GMT", 946684799},
        // asctime single-digit and two-digit days.
        {"Thu Jan  1 00:00:00 1970", 0},
        {"Sat Dec 31 23:59:59 2022", 1672531199},
        // Invalid.
        {"", std::nullopt},
        {"   ", std::nullopt},
        {"garbage", std::nullopt},
        {"Sun, 06 Nov 1994 08:49:37 UTC", std::nullopt},
        {"Sun, 06 Nov 1994 08:49:37 gmt", std::nullopt},
        {"sun, 06 Nov 1994 08:49:37 GMT", std::nullopt},
        {"Sun, 06 nov 1994 08:49:37 GMT", std::nullopt},
        {"Sun, 6 Nov 1994 08:49:37 GMT", std::nullopt},
        {"Sun, 06 Nov 94 08:49:37 GMT", std::nullopt},
        {"Sun, 06 Nov 1994 08:49:37", std::nullopt},
        {"Sun, 06 Nov 1994 08:49:37 GMT x", std::nullopt},
        {"Sun,  06 Nov 1994 08:49:37 GMT", std::nullopt},
        {"Sun, 06 Nov 1994 8:49:37 GMT", std::nullopt},
        {"Sun, 06 Nov 1994 08-49-37 GMT", std::nullopt},
        {"Sun, 06 Nov 1994 24:00:00 GMT", std::nullopt},
        {"Sun, 06 Nov 1994 23:60:00 GMT", std::nullopt},
        {"Sun, 06 Nov 1994 23:59:61 GMT", std::nullopt},
        {"Sun, 00 Nov 1994 08:49:37 GMT", std::nullopt},
        {"Sun, 31 Nov 1994 08:49:37 GMT", std::nullopt},
        {"Sun, 29 Feb 1900 00:00:00 GMT", std::nullopt},
        {"Sun, 29 Feb 2023 00:00:00 GMT", std::nullopt},
        {"Sun, 06 Xyz 1994 08:49:37 GMT", std::nullopt},
        {"Sun, 06 Nov 19x4 08:49:37 GMT", std::nullopt},
        {"Sun, +6 Nov 1994 08:49:37 GMT", std::nullopt},
        {"Sunday, 06-Nov-1994 08:49:37 GMT", std::nullopt},
        {"Sun, 06-Nov-94 08:49:37 GMT", std::nullopt},
        {"Sunny, 06-Nov-94 08:49:37 GMT", std::nullopt},
        {"Sunday, 06 Nov 94 08:49:37 GMT", std::nullopt},
        {"Sunday 06-Nov-94 08:49:37 GMT", std::nullopt},
        {"Sun Nov 6 08:49:37 1994", std::nullopt},
        {"Sun Nov  6 08:49:37 94", std::nullopt},
        {"Sun Nov  6 08:49:37 1994 GMT", std::nullopt},
        {"Sun Nov   6 08:49:37 1994", std::nullopt},
        {"Sun Feb 30 08:49:37 1994", std::nullopt},
        {std::string_view("Sun, 06 Nov 1994 08:49:37 GM\0", 30), std::nullopt},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(testing::Message() << '"' << r.in << '"');
        EXPECT_EQ(parse_http_date(r.in), r.want);
    }
}

TEST(HttpDate, Rfc850YearFollowsNow) {
    constexpr std::int64_t y2025 = 1735689600; // 2025-01-01
    constexpr std::int64_t y2090 = 3786912000; // 2090-01-01
    constexpr std::int64_t y1950 = -631152000; // 1950-01-01
    struct row {
        std::string_view in;
        std::int64_t now;
        std::int64_t want;
    };
    const row rows[] = {
        {"Sunday, 06-Nov-94 08:49:37 GMT", y2025, rfc_example},
        {"Tuesday, 01-Jan-75 00:00:00 GMT", y2025, 3313526400},   // 2075: 50 years ahead
        {"Thursday, 01-Jan-76 00:00:00 GMT", y2025, 189302400},   // 2076 would be 51 ahead
        {"Wednesday, 01-Jan-10 00:00:00 GMT", y2090, 4417977600}, // 2110, not 2010 (80 ago)
        {"Friday, 01-Jan-40 00:00:00 GMT", y2090, 5364662400},    // window (2040, 2140]
        {"Tuesday, 01-Jan-01 00:00:00 GMT", y1950, -2177452800},  // 1901
        {"Saturday, 01-Jan-00 00:00:00 GMT", y1950, 946684800},   // window (1900, 2000]
    };
    for (const row& r : rows) {
        SCOPED_TRACE(testing::Message() << '"' << r.in << "\" now=" << r.now);
        EXPECT_EQ(parse_http_date(r.in, r.now), std::optional<std::int64_t>(r.want));
    }
}

TEST(HttpDate, ExtremeNowStaysInRange) {
    // now is clamped to years 0000..9999, so the chosen century never overflows.
    EXPECT_TRUE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", INT64_MAX).has_value());
    EXPECT_TRUE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", INT64_MIN).has_value());
}

} // namespace
