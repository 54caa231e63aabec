#include "ringlet/files/path.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

using ringlet::files::has_dot_segment;
using ringlet::files::max_path_length;
using ringlet::files::normalize_path;
using ringlet::files::path_error;

const char* name(path_error e) {
    switch (e) {
    case path_error::none:
        return "none";
    case path_error::bad_encoding:
        return "bad_encoding";
    case path_error::nul:
        return "nul";
    case path_error::encoded_separator:
        return "encoded_separator";
    case path_error::backslash:
        return "backslash";
    case path_error::escapes_root:
        return "escapes_root";
    case path_error::not_absolute:
        return "not_absolute";
    case path_error::too_long:
        return "too_long";
    }
    return "?";
}

struct row {
    std::string_view raw;
    path_error error;
    std::string_view out; // when error == none
    bool dot = false;     // has_dot_segment(out)
};

void check(const row& r) {
    SCOPED_TRACE(testing::Message() << '"' << r.raw << '"');
    std::string out = "junk from a previous request";
    const path_error e = normalize_path(r.raw, out);
    EXPECT_STREQ(name(e), name(r.error));
    if (r.error == path_error::none) {
        EXPECT_EQ(out, r.out);
        EXPECT_EQ(has_dot_segment(out), r.dot);
    } else {
        EXPECT_TRUE(out.empty());
    }
}

TEST(NormalizePath, Traversal) {
    const row rows[] = {
        {"/../etc/passwd", path_error::escapes_root, ""},
        {"/..", path_error::escapes_root, ""},
        {"/../", path_error::escapes_root, ""},
        {"/a/../..", path_error::escapes_root, ""},
        {"/a/../../b", path_error::escapes_root, ""},
        {"/./../x", path_error::escapes_root, ""},
        {"//..//x", path_error::escapes_root, ""},
        {"/%2e%2e/x", path_error::escapes_root, ""},
        {"/%2E%2E/x", path_error::escapes_root, ""},
        {"/.%2e/x", path_error::escapes_root, ""},
        {"/%2e./x", path_error::escapes_root, ""},
        {"/a/%2e%2e/%2e%2e/x", path_error::escapes_root, ""},
        {"/a/b/%2e%2e/%2e%2e/%2e%2e/etc/passwd", path_error::escapes_root, ""},
        {"/a/..%2fb", path_error::encoded_separator, ""},
        {"/a/..%2Fb", path_error::encoded_separator, ""},
        {"/..%2f..%2fetc/passwd", path_error::encoded_separator, ""},
        {"/%2F", path_error::encoded_separator, ""},
        {"/%2f", path_error::encoded_separator, ""},
        {"/%5c", path_error::encoded_separator, ""},
        {"/%5C..%5C..", path_error::encoded_separator, ""},
        {"/a\\b", path_error::backslash, ""},
        {"/..\\..\\windows", path_error::backslash, ""},
        {"/%00", path_error::nul, ""},
        {"/index.html%00.txt", path_error::nul, ""},
        {std::string_view("/a\0b", 4), path_error::nul, ""},
        {"/%zz", path_error::bad_encoding, ""},
        {"/%", path_error::bad_encoding, ""},
        {"/%4", path_error::bad_encoding, ""},
        {"/a%4/b", path_error::bad_encoding, ""},
        {"/%g0", path_error::bad_encoding, ""},
        {"/%%30", path_error::bad_encoding, ""},
        {"/%-1", path_error::bad_encoding, ""},
        // Decoded once only: these are literal file names, not dot-segments or separators.
        {"/%252e%252e/x", path_error::none, "%2e%2e/x"},
        {"/%252f", path_error::none, "%2f"},
        {"/%2500", path_error::none, "%00"},
        {"/...", path_error::none, "...", true},
        {"/a/.../b", path_error::none, "a/.../b", true},
        {"/..a", path_error::none, "..a", true},
        {"/a..", path_error::none, "a.."},
        // The first error from the left wins.
        {"/%zz/%00", path_error::bad_encoding, ""},
        {"/%00/%zz", path_error::nul, ""},
        {"/../%zz", path_error::escapes_root, ""},
        {"/a\\%2f", path_error::backslash, ""},
    };
    for (const row& r : rows) check(r);
}

TEST(NormalizePath, Normalises) {
    const row rows[] = {
        {"/", path_error::none, ""},
        {"//", path_error::none, ""},
        {"///", path_error::none, ""},
        {"/.", path_error::none, ""},
        {"/./", path_error::none, ""},
        {"/a/..", path_error::none, ""},
        {"/a/../", path_error::none, ""},
        {"/index.html", path_error::none, "index.html"},
        {"/a/b/c", path_error::none, "a/b/c"},
        {"/a/", path_error::none, "a/"},
        {"/a/b/", path_error::none, "a/b/"},
        {"//a///b", path_error::none, "a/b"},
        {"//a///b//", path_error::none, "a/b/"},
        {"/./a/./b/", path_error::none, "a/b/"},
        {"/./a/./b", path_error::none, "a/b"},
        {"/a/b/../c", path_error::none, "a/c"},
        {"/a/b/..", path_error::none, "a/"},
        {"/a/b/.", path_error::none, "a/b/"},
        {"/a/b/./", path_error::none, "a/b/"},
        {"/a/b/../../c/", path_error::none, "c/"},
        {"/a//..", path_error::none, ""},
        {"/a/./../b", path_error::none, "b"},
        {"/%2e", path_error::none, ""},
        {"/a/%2E", path_error::none, "a/"},
        {"/a/b/%2e%2e", path_error::none, "a/"},
        {"/a/b/%2e%2E/c", path_error::none, "a/c"},
        {"/hello%20world.txt", path_error::none, "hello world.txt"},
        {"/%41%62%63", path_error::none, "Abc"},
        {"/caf%C3%A9", path_error::none, "caf\xc3\xa9"},
        {"/q?x=1", path_error::none, "q?x=1"},
        {"/a;b=c", path_error::none, "a;b=c"},
        {"/.git/config", path_error::none, ".git/config", true},
        {"/a/.env", path_error::none, "a/.env", true},
        {"/%2egit/HEAD", path_error::none, ".git/HEAD", true},
        {"/.well-known/", path_error::none, ".well-known/", true},
        {"/a/b.c/d", path_error::none, "a/b.c/d"},
        // Not absolute.
        {"", path_error::not_absolute, ""},
        {"a/b", path_error::not_absolute, ""},
        {"%2fa", path_error::not_absolute, ""},
        {"*", path_error::not_absolute, ""},
        {"http://example.com/a", path_error::not_absolute, ""},
        {"\\a", path_error::not_absolute, ""},
    };
    for (const row& r : rows) check(r);
}

TEST(NormalizePath, Length) {
    const std::string max_ok = "/" + std::string(max_path_length - 1, 'a');
    const std::string one_over = "/" + std::string(max_path_length, 'a');
    // Encoded bytes count once decoded: 4095 x "%61" decodes to exactly 4096 bytes.
    std::string encoded_ok = "/";
    for (std::size_t i = 0; i < max_path_length - 1; ++i) encoded_ok += "%61";
    const std::string encoded_over = encoded_ok + "a";
    const std::string slashes_over(max_path_length + 1, '/');
    const std::string dots_over = "/a" + std::string(max_path_length, '/') + "..";
    struct length_row {
        std::string_view raw;
        path_error error;
    };
    const length_row rows[] = {
        {max_ok, path_error::none},           {one_over, path_error::too_long},
        {encoded_ok, path_error::none},       {encoded_over, path_error::too_long},
        {slashes_over, path_error::too_long}, {dots_over, path_error::too_long},
    };
    for (const length_row& r : rows) {
        SCOPED_TRACE(r.raw.size());
        std::string out;
        EXPECT_STREQ(name(normalize_path(r.raw, out)), name(r.error));
    }
    std::string out;
    ASSERT_EQ(normalize_path(encoded_ok, out), path_error::none);
    EXPECT_EQ(out, std::string(max_path_length - 1, 'a'));
}

TEST(HasDotSegment, Table) {
    struct dot_row {
        std::string_view path;
        bool want;
    };
    const dot_row rows[] = {
        {"", false},     {"a", false},          {"a/b", false},   {"a.b/c.d", false},
        {"a./b", false}, {".git/config", true}, {"a/.env", true}, {"a/b/.hidden/", true},
        {".", true},     {"a/...", true},       {"a/b/", false},  {"x/.well-known/y", true},
    };
    for (const dot_row& r : rows) {
        SCOPED_TRACE(r.path);
        EXPECT_EQ(has_dot_segment(r.path), r.want);
    }
}

TEST(NormalizePath, ReusesOutput) {
    std::string out;
    out.reserve(64);
    const char* before = out.data();
    ASSERT_EQ(normalize_path("/a/b/../c", out), path_error::none);
    EXPECT_EQ(out, "a/c");
    EXPECT_EQ(out.data(), before);
}

} // namespace
