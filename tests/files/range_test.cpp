#include "ringlet/files/range.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace {

using ringlet::files::byte_range;
using ringlet::files::parse_range;
using ringlet::files::range_decision;
using ringlet::files::range_kind;

constexpr std::uint64_t u64_max = UINT64_MAX;

const char* name(range_kind k) {
    switch (k) {
    case range_kind::none:
        return "none";
    case range_kind::single:
        return "single";
    case range_kind::unsatisfiable:
        return "unsatisfiable";
    case range_kind::multiple:
        return "multiple";
    }
    return "?";
}

struct row {
    std::string_view header;
    std::uint64_t size;
    range_kind kind;
    std::uint64_t first = 0, last = 0; // when kind == single
};

void check(const row& r) {
    SCOPED_TRACE(testing::Message() << '"' << r.header << "\" size=" << r.size);
    const range_decision d = parse_range(r.header, r.size);
    EXPECT_STREQ(name(d.kind), name(r.kind));
    EXPECT_EQ(d.range.first, r.first);
    EXPECT_EQ(d.range.last, r.last);
}

TEST(ParseRange, Table) {
    const row rows[] = {
        // Single ranges.
        {"bytes=0-0", 1000, range_kind::single, 0, 0},
        {"bytes=0-499", 1000, range_kind::single, 0, 499},
        {"bytes=500-999", 1000, range_kind::single, 500, 999},
        {"bytes=500-", 1000, range_kind::single, 500, 999},
        {"bytes=0-", 1000, range_kind::single, 0, 999},
        {"bytes=999-", 1000, range_kind::single, 999, 999},
        {"bytes=-500", 1000, range_kind::single, 500, 999},
        {"bytes=-1", 1000, range_kind::single, 999, 999},
        {"bytes=-1000", 1000, range_kind::single, 0, 999},
        {"bytes=-5000", 1000, range_kind::single, 0, 999},
        {"bytes=500-5000", 1000, range_kind::single, 500, 999},
        {"bytes=0-0", 1, range_kind::single, 0, 0},
        {"bytes=-1", 1, range_kind::single, 0, 0},
        {"bytes=00010-00020", 1000, range_kind::single, 10, 20},
        {"bytes=5-5", 1000, range_kind::single, 5, 5},
        // Unit and whitespace handling.
        {"BYTES=0-1", 1000, range_kind::single, 0, 1},
        {"Bytes=0-1", 1000, range_kind::single, 0, 1},
        {"  bytes=0-1\t", 1000, range_kind::single, 0, 1},
        {"bytes= 0-1", 1000, range_kind::single, 0, 1},
        {"bytes=0-1 ,", 1000, range_kind::single, 0, 1},
        {"bytes=,0-1", 1000, range_kind::single, 0, 1},
        // Unsatisfiable ones are discarded before counting.
        {"bytes=0-1, 2000-3000", 1000, range_kind::single, 0, 1},
        {"bytes=2000-, -0, 5-9", 1000, range_kind::single, 5, 9},
        // Unsatisfiable (416).
        {"bytes=1000-", 1000, range_kind::unsatisfiable},
        {"bytes=1000-2000", 1000, range_kind::unsatisfiable},
        {"bytes=-0", 1000, range_kind::unsatisfiable},
        {"bytes=-000", 1000, range_kind::unsatisfiable},
        {"bytes=1000-1000, 2000-", 1000, range_kind::unsatisfiable},
        {"bytes=0-0", 0, range_kind::unsatisfiable},
        {"bytes=0-", 0, range_kind::unsatisfiable},
        {"bytes=-1", 0, range_kind::unsatisfiable},
        {"bytes=-0", 0, range_kind::unsatisfiable},
        // Multiple satisfiable: the caller serves 200. Overlaps are not coalesced.
        {"bytes=0-1,5-6", 1000, range_kind::multiple},
        {"bytes=0-1 , 5-6", 1000, range_kind::multiple},
        {"bytes=0-1,\t5-6", 1000, range_kind::multiple},
        {"bytes=0-10,5-20", 1000, range_kind::multiple},
        {"bytes=0-0,-1", 1000, range_kind::multiple},
        {"bytes=0-1,,5-6", 1000, range_kind::multiple},
        // Ignored (none): empty, other units, invalid syntax anywhere.
        {"", 1000, range_kind::none},
        {"   ", 1000, range_kind::none},
        {"bytes", 1000, range_kind::none},
        {"bytes=", 1000, range_kind::none},
        {"bytes= ", 1000, range_kind::none},
        {"bytes=,", 1000, range_kind::none},
        {"bytes=, ,", 1000, range_kind::none},
        {"bytes=5-1", 1000, range_kind::none},
        {"bytes=abc", 1000, range_kind::none},
        {"bytes=-", 1000, range_kind::none},
        {"bytes=--1", 1000, range_kind::none},
        {"bytes=1--2", 1000, range_kind::none},
        {"bytes=1", 1000, range_kind::none},
        {"bytes=a-1", 1000, range_kind::none},
        {"bytes=1-a", 1000, range_kind::none},
        {"bytes=+1-2", 1000, range_kind::none},
        {"bytes=1-+2", 1000, range_kind::none},
        {"bytes=-+2", 1000, range_kind::none},
        {"bytes=1 -2", 1000, range_kind::none},
        {"bytes=1- 2", 1000, range_kind::none},
        {"bytes=0x10-0x20", 1000, range_kind::none},
        {"bytes=1.5-2", 1000, range_kind::none},
        {"bytes=0-1,5-1", 1000, range_kind::none},
        {"bytes=0-1,abc", 1000, range_kind::none},
        {"bytes=0-1;x", 1000, range_kind::none},
        {"bytes =0-1", 1000, range_kind::none},
        {"bytes:0-1", 1000, range_kind::none},
        {"=0-1", 1000, range_kind::none},
        {"items=0-1", 1000, range_kind::none},
        {"bytesx=0-1", 1000, range_kind::none},
        {"none", 1000, range_kind::none},
        {"bytes=5-1", 0, range_kind::none},
        {"bytes=abc", 0, range_kind::none},
        // Huge numbers: saturate without overflow; order is judged on the exact values.
        {"bytes=18446744073709551615-", 1000, range_kind::unsatisfiable},
        {"bytes=18446744073709551616-", 1000, range_kind::unsatisfiable},
        {"bytes=99999999999999999999999999-", 1000, range_kind::unsatisfiable},
        {"bytes=0-99999999999999999999999999", 1000, range_kind::single, 0, 999},
        {"bytes=-99999999999999999999999999", 1000, range_kind::single, 0, 999},
        {"bytes=99999999999999999999999999-1", 1000, range_kind::none},
        {"bytes=99999999999999999999999999-99999999999999999999999998", 1000, range_kind::none},
        {"bytes=99999999999999999999999998-99999999999999999999999999", 1000,
         range_kind::unsatisfiable},
        {"bytes=000000000000000000000000001-2", 1000, range_kind::single, 1, 2},
        {"bytes=0-", u64_max, range_kind::single, 0, u64_max - 1},
        {"bytes=-18446744073709551615", u64_max, range_kind::single, 0, u64_max - 1},
        {"bytes=18446744073709551614-18446744073709551615", u64_max, range_kind::single,
         u64_max - 1, u64_max - 1},
    };
    for (const row& r : rows) check(r);
}

TEST(ParseRange, RangeCountLimit) {
    std::string hundred = "bytes=0-0";
    for (int i = 1; i < 100; ++i) hundred += ",1000-";
    std::string hundred_and_one = hundred + ",1000-";
    std::string unsat_hundred_and_one = "bytes=1000-";
    for (int i = 1; i < 101; ++i) unsat_hundred_and_one += ",1000-";
    const row rows[] = {
        {hundred, 1000, range_kind::single, 0, 0},
        {hundred_and_one, 1000, range_kind::none},
        {unsat_hundred_and_one, 1000, range_kind::none},
    };
    for (const row& r : rows) check(r);
}

TEST(ByteRange, Length) {
    EXPECT_EQ((byte_range{0, 0}.length()), 1u);
    EXPECT_EQ((byte_range{10, 19}.length()), 10u);
}

} // namespace
