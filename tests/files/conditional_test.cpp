#include "ringlet/files/conditional.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace {

using ringlet::files::condition_decision;
using ringlet::files::condition_outcome;
using ringlet::files::evaluate_conditions;
using ringlet::files::make_etag;
using ringlet::files::request_conditions;
using ringlet::files::validators;

constexpr std::string_view etag = "\"abc\"";
constexpr std::int64_t mtime = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT
constexpr std::string_view at_mtime = "Sun, 06 Nov 1994 08:49:37 GMT";
constexpr std::string_view before = "Sun, 06 Nov 1994 08:49:36 GMT";
constexpr std::string_view after = "Sun, 06 Nov 1994 08:49:38 GMT";

constexpr auto proceed = condition_outcome::proceed;
constexpr auto not_modified = condition_outcome::not_modified;
constexpr auto failed = condition_outcome::precondition_failed;

const char* name(condition_outcome o) {
    switch (o) {
    case condition_outcome::proceed:
        return "proceed";
    case condition_outcome::not_modified:
        return "not_modified";
    case condition_outcome::precondition_failed:
        return "precondition_failed";
    }
    return "?";
}

struct row {
    const char* what;
    request_conditions req;
    condition_outcome outcome;
    bool honour_range = true;
    std::string_view current = etag; // the representation's entity-tag
};

TEST(EvaluateConditions, Table) {
    const row rows[] = {
        {"no conditions", {}, proceed},
        // If-Match: strong comparison.
        {"if-match same", {.if_match = "\"abc\""}, proceed},
        {"if-match star", {.if_match = "*"}, proceed},
        {"if-match star with spaces", {.if_match = " * "}, proceed},
        {"if-match other", {.if_match = "\"xyz\""}, failed},
        {"if-match list hit", {.if_match = "\"x\", \"abc\""}, proceed},
        {"if-match list hit no space", {.if_match = "\"x\",\"abc\""}, proceed},
        {"if-match list empty elements", {.if_match = ", ,\"x\",,\"abc\","}, proceed},
        {"if-match list miss", {.if_match = "\"x\", \"y\""}, failed},
        {"if-match weak never", {.if_match = "W/\"abc\""}, failed},
        {"if-match ours weak", {.if_match = "\"abc\""}, failed, true, "W/\"abc\""},
        {"if-match no etag", {.if_match = "\"abc\""}, failed, true, ""},
        {"if-match star no etag", {.if_match = "*"}, proceed, true, ""},
        {"if-match unquoted", {.if_match = "abc"}, failed},
        {"if-match garbage stops list", {.if_match = "\"x\" junk, \"abc\""}, failed},
        {"if-match star in list", {.if_match = "\"x\", *"}, failed},
        {"if-match unterminated", {.if_match = "\"abc"}, failed},
        {"if-match comma inside tag", {.if_match = "\"a,b\", \"abc\""}, proceed},
        {"if-match comma tag is ours", {.if_match = "\"a,b\""}, proceed, true, "\"a,b\""},
        {"if-match case sensitive", {.if_match = "\"ABC\""}, failed},
        {"if-match lowercase w", {.if_match = "w/\"abc\""}, failed},
        {"if-match for PUT", {.if_match = "\"xyz\"", .get_or_head = false}, failed},
        // If-Unmodified-Since, evaluated only without If-Match.
        {"ius at mtime", {.if_unmodified_since = at_mtime}, proceed},
        {"ius after", {.if_unmodified_since = after}, proceed},
        {"ius before", {.if_unmodified_since = before}, failed},
        {"ius invalid ignored", {.if_unmodified_since = "yesterday"}, proceed},
        {"ius rfc850", {.if_unmodified_since = "Sunday, 06-Nov-94 08:49:36 GMT"}, failed},
        {"ius asctime", {.if_unmodified_since = "Sun Nov  6 08:49:36 1994"}, failed},
        {"ius skipped when if-match passes",
         {.if_match = "\"abc\"", .if_unmodified_since = before},
         proceed},
        {"ius for POST", {.if_unmodified_since = before, .get_or_head = false}, failed},
        // If-None-Match: weak comparison.
        {"inm same", {.if_none_match = "\"abc\""}, not_modified},
        {"inm weak theirs", {.if_none_match = "W/\"abc\""}, not_modified},
        {"inm weak ours", {.if_none_match = "\"abc\""}, not_modified, true, "W/\"abc\""},
        {"inm star", {.if_none_match = "*"}, not_modified},
        {"inm other", {.if_none_match = "\"xyz\""}, proceed},
        {"inm list hit", {.if_none_match = "\"x\" , W/\"abc\""}, not_modified},
        {"inm list miss", {.if_none_match = "\"x\", \"y\""}, proceed},
        {"inm garbage", {.if_none_match = "abc"}, proceed},
        {"inm garbage before hit", {.if_none_match = "junk, \"abc\""}, proceed},
        {"inm hit before garbage", {.if_none_match = "\"abc\", junk"}, not_modified},
        {"inm no etag", {.if_none_match = "\"abc\""}, proceed, true, ""},
        {"inm for POST", {.if_none_match = "\"abc\"", .get_or_head = false}, failed},
        {"inm star for POST", {.if_none_match = "*", .get_or_head = false}, failed},
        {"inm miss for POST", {.if_none_match = "\"x\"", .get_or_head = false}, proceed},
        // If-Modified-Since, only without If-None-Match and only for GET/HEAD.
        {"ims at mtime", {.if_modified_since = at_mtime}, not_modified},
        {"ims after", {.if_modified_since = after}, not_modified},
        {"ims before", {.if_modified_since = before}, proceed},
        {"ims invalid ignored", {.if_modified_since = "Sun, 06 Nov 1994"}, proceed},
        {"ims for POST ignored", {.if_modified_since = after, .get_or_head = false}, proceed},
        {"ims ignored with inm miss",
         {.if_none_match = "\"x\"", .if_modified_since = after},
         proceed},
        {"inm hit beats ims before",
         {.if_none_match = "\"abc\"", .if_modified_since = before},
         not_modified},
        // Order: If-Match / If-Unmodified-Since failures beat If-None-Match.
        {"if-match fail before inm", {.if_match = "\"x\"", .if_none_match = "\"abc\""}, failed},
        {"ius fail before ims",
         {.if_modified_since = after, .if_unmodified_since = before},
         failed},
        {"if-match pass then inm",
         {.if_match = "\"abc\"", .if_none_match = "\"abc\""},
         not_modified},
        // If-Range.
        {"if-range strong match", {.if_range = "\"abc\""}, proceed, true},
        {"if-range with spaces", {.if_range = " \"abc\" "}, proceed, true},
        {"if-range other tag", {.if_range = "\"xyz\""}, proceed, false},
        {"if-range weak tag", {.if_range = "W/\"abc\""}, proceed, false},
        {"if-range ours weak", {.if_range = "\"abc\""}, proceed, false, "W/\"abc\""},
        {"if-range no etag", {.if_range = "\"abc\""}, proceed, false, ""},
        {"if-range list", {.if_range = "\"abc\", \"abc\""}, proceed, false},
        {"if-range date equal", {.if_range = at_mtime}, proceed, true},
        {"if-range date wed", {.if_range = "Wed, 09 Nov 1994 08:49:37 GMT"}, proceed, false},
        {"if-range date later", {.if_range = after}, proceed, false},
        {"if-range date earlier", {.if_range = before}, proceed, false},
        {"if-range rfc850 equal", {.if_range = "Sunday, 06-Nov-94 08:49:37 GMT"}, proceed, true},
        {"if-range garbage", {.if_range = "garbage"}, proceed, false},
        {"if-range with inm hit",
         {.if_none_match = "\"abc\"", .if_range = "\"x\""},
         not_modified,
         false},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.what);
        const condition_decision d = evaluate_conditions(r.req, validators{r.current, mtime});
        EXPECT_STREQ(name(d.outcome), name(r.outcome));
        EXPECT_EQ(d.honour_range, r.honour_range);
    }
}

TEST(EvaluateConditions, IfRangeDateMatchesOtherMtime) {
    request_conditions req;
    req.if_range = "Wed, 09 Nov 1994 08:49:37 GMT";
    EXPECT_TRUE(evaluate_conditions(req, {etag, mtime + 3 * 86400}).honour_range);
}

TEST(MakeEtag, Table) {
    struct etag_row {
        std::uint64_t inode;
        std::int64_t mtime_ns;
        std::uint64_t size;
        std::string_view suffix;
        std::string_view want;
    };
    const etag_row rows[] = {
        {0, 0, 0, "", "\"0-0-0\""},
        {0x1a2b, 0x17f0000000000000, 4096, "", "\"1a2b-17f0000000000000-1000\""},
        {1, 2, 3, "-br", "\"1-2-3-br\""},
        {1, 2, 3, "-gzip", "\"1-2-3-gzip\""},
        {UINT64_MAX, INT64_MAX, UINT64_MAX, "-zstd",
         "\"ffffffffffffffff-7fffffffffffffff-ffffffffffffffff-zstd\""},
        {15, -1, 16, "", "\"f-ffffffffffffffff-10\""},
        {255, INT64_MIN, 256, "", "\"ff-8000000000000000-100\""},
    };
    for (const etag_row& r : rows) {
        SCOPED_TRACE(r.want);
        std::string out = "previous content that must be replaced";
        make_etag(r.inode, r.mtime_ns, r.size, r.suffix, out);
        EXPECT_EQ(out, r.want);
    }
}

TEST(MakeEtag, RoundTripsThroughConditions) {
    std::string tag;
    make_etag(42, 1700000000123456789, 1234, "-br", tag);
    request_conditions req;
    req.if_none_match = tag;
    req.if_range = tag;
    const condition_decision d = evaluate_conditions(req, {tag, 1700000000});
    EXPECT_EQ(d.outcome, condition_outcome::not_modified);
    EXPECT_TRUE(d.honour_range);
}

TEST(MakeEtag, ReusesBuffer) {
    std::string out;
    out.reserve(128);
    const char* before_data = out.data();
    make_etag(1, 2, 3, "-br", out);
    EXPECT_EQ(out.data(), before_data);
}

} // namespace
