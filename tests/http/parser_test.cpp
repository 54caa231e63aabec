#include "ringlet/http/parser.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::http {
namespace {

using namespace std::literals;

constexpr std::string_view chrome_get =
    "GET /assets/app.js?v=42 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Accept: */*\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Dest: script\r\n"
    "Referer: https://www.example.com/\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "If-None-Match: \"5f3a-1b2c\"\r\n"
    "\r\n";

// ---- good requests ----------------------------------------------------------------------------

struct good_case {
    const char* name;
    std::string_view raw;
    method m = method::get;
    std::string_view target = "/";
    std::string_view path = "/";
    std::string_view query = "";
    std::string_view host = "h";
    int version_minor = 1;
    bool keep_alive = true;
    std::size_t consumed = 0; // 0: the whole buffer
    std::size_t header_count = 1;
};

const good_case good_cases[] = {
    {.name = "simple", .raw = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
    {.name = "head",
     .raw = "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n",
     .m = method::head,
     .target = "/x",
     .path = "/x"},
    {.name = "query",
     .raw = "GET /a/b?c=d&e=?f HTTP/1.1\r\nHost: h\r\n\r\n",
     .target = "/a/b?c=d&e=?f",
     .path = "/a/b",
     .query = "c=d&e=?f"},
    {.name = "empty_query",
     .raw = "GET /a? HTTP/1.1\r\nHost: h\r\n\r\n",
     .target = "/a?",
     .path = "/a"},
    {.name = "absolute_form_wins_over_host",
     .raw = "GET http://example.com:8080/p/q?x=1 HTTP/1.1\r\nHost: other\r\n\r\n",
     .target = "http://example.com:8080/p/q?x=1",
     .path = "/p/q",
     .query = "x=1",
     .host = "example.com:8080"},
    {.name = "absolute_form_empty_path",
     .raw = "GET HTTPS://Example.com HTTP/1.1\r\nHost: Example.com\r\n\r\n",
     .target = "HTTPS://Example.com",
     .path = "/",
     .host = "Example.com"},
    {.name = "absolute_form_query_no_path",
     .raw = "GET http://[::1]:80?q HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
     .target = "http://[::1]:80?q",
     .path = "/",
     .query = "q",
     .host = "[::1]:80"},
    {.name = "options_asterisk",
     .raw = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
     .m = method::options,
     .target = "*",
     .path = ""},
    {.name = "http10_no_host",
     .raw = "GET / HTTP/1.0\r\n\r\n",
     .host = "",
     .version_minor = 0,
     .keep_alive = false,
     .header_count = 0},
    {.name = "http10_keep_alive",
     .raw = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
     .host = "",
     .version_minor = 0,
     .keep_alive = true},
    {.name = "http10_keep_alive_mixed_case_list",
     .raw = "GET / HTTP/1.0\r\nHost: h\r\nConnection: foo ,\tKeep-Alive , bar\r\n\r\n",
     .version_minor = 0,
     .keep_alive = true,
     .header_count = 2},
    {.name = "http10_keep_alive_and_close",
     .raw = "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
     .host = "",
     .version_minor = 0,
     .keep_alive = false},
    {.name = "http10_other_token",
     .raw = "GET / HTTP/1.0\r\nConnection: keep-alivex\r\n\r\n",
     .host = "",
     .version_minor = 0,
     .keep_alive = false},
    {.name = "http11_close",
     .raw = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
     .keep_alive = false,
     .header_count = 2},
    {.name = "http11_close_in_list",
     .raw = "GET / HTTP/1.1\r\nHost: h\r\nconnection: Upgrade, CLOSE\r\n\r\n",
     .keep_alive = false,
     .header_count = 2},
    {.name = "http11_close_in_second_header",
     .raw = "GET / HTTP/1.1\r\nConnection: keep-alive\r\nHost: h\r\nConnection: close\r\n\r\n",
     .keep_alive = false,
     .header_count = 3},
    {.name = "http11_keep_alive",
     .raw = "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n",
     .header_count = 2},
    {.name = "http11_closed_prefix_token",
     .raw = "GET / HTTP/1.1\r\nHost: h\r\nConnection: closed, ,\r\n\r\n",
     .header_count = 2},
    {.name = "http19_is_11", .raw = "GET / HTTP/1.9\r\nHost: h\r\n\r\n"},
    {.name = "lf_only", .raw = "GET / HTTP/1.1\nHost: h\n\n"},
    {.name = "mixed_line_ends", .raw = "GET / HTTP/1.1\nHost: h\r\nA: b\n\r\n", .header_count = 2},
    {.name = "leading_crlf", .raw = "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"},
    {.name = "leading_lf_and_crlf", .raw = "\n\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"},
    {.name = "pipelined",
     .raw = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
     .target = "/1",
     .path = "/1",
     .consumed = 28},
    {.name = "ows_trimmed", .raw = "GET / HTTP/1.1\r\nHost: \t h \t \r\n\r\n"},
    {.name = "no_ows", .raw = "GET / HTTP/1.1\r\nHost:h\r\n\r\n"},
    {.name = "host_name_case", .raw = "GET / HTTP/1.1\r\nhOsT: h\r\n\r\n"},
    {.name = "empty_host", .raw = "GET / HTTP/1.1\r\nHost:\r\n\r\n", .host = ""},
    {.name = "obs_text_and_tab_in_value",
     .raw = "GET / HTTP/1.1\r\nHost: h\r\nX-T: a\tb \xC3\xA9\xFF\r\n\r\n",
     .header_count = 2},
    {.name = "empty_value",
     .raw = "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\n\r\n",
     .header_count = 2},
    {.name = "utf8_target",
     .raw = "GET /caf\xC3\xA9 HTTP/1.1\r\nHost: h\r\n\r\n",
     .target = "/caf\xC3\xA9",
     .path = "/caf\xC3\xA9"},
    {.name = "post_parses",
     .raw = "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
     .m = method::post,
     .target = "/f",
     .path = "/f",
     .consumed = 48,
     .header_count = 2},
    {.name = "identical_content_lengths",
     .raw = "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
     .header_count = 3},
    {.name = "chrome",
     .raw = chrome_get,
     .target = "/assets/app.js?v=42",
     .path = "/assets/app.js",
     .query = "v=42",
     .host = "www.example.com",
     .header_count = 14},
};

class good_request : public ::testing::TestWithParam<good_case> {};

TEST_P(good_request, parses) {
    const good_case& c = GetParam();
    request r;
    const parse_result res = parse_request(c.raw, r);
    ASSERT_EQ(res.status, parse_status::complete) << "error " << res.error_status;
    EXPECT_EQ(res.consumed, c.consumed ? c.consumed : c.raw.size());
    EXPECT_EQ(res.error_status, 0);
    EXPECT_EQ(r.method, c.m);
    EXPECT_EQ(r.method_name, method_name(c.m));
    EXPECT_EQ(r.target, c.target);
    EXPECT_EQ(r.path, c.path);
    EXPECT_EQ(r.query, c.query);
    EXPECT_EQ(r.host, c.host);
    EXPECT_EQ(r.version_minor, c.version_minor);
    EXPECT_EQ(r.keep_alive, c.keep_alive);
    EXPECT_EQ(r.header_count, c.header_count);
}

// Every strict prefix of the head is incomplete; the head itself and anything longer completes
// with the same length.
TEST_P(good_request, incremental) {
    const good_case& c = GetParam();
    const std::size_t head = c.consumed ? c.consumed : c.raw.size();
    request r;
    for (std::size_t n = 0; n < head; ++n) {
        const parse_result res = parse_request(c.raw.substr(0, n), r);
        ASSERT_EQ(res.status, parse_status::incomplete)
            << "prefix " << n << " error " << res.error_status;
    }
    for (std::size_t n = head; n <= c.raw.size(); ++n) {
        const parse_result res = parse_request(c.raw.substr(0, n), r);
        ASSERT_EQ(res.status, parse_status::complete) << "prefix " << n;
        ASSERT_EQ(res.consumed, head);
    }
}

INSTANTIATE_TEST_SUITE_P(table, good_request, ::testing::ValuesIn(good_cases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(parser, pipelined_second_request) {
    const std::string_view buf =
        "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2?x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    request r;
    const parse_result first = parse_request(buf, r);
    ASSERT_EQ(first.status, parse_status::complete);
    EXPECT_EQ(r.path, "/1");
    const std::string_view rest = buf.substr(first.consumed);
    const parse_result second = parse_request(rest, r);
    ASSERT_EQ(second.status, parse_status::complete);
    EXPECT_EQ(second.consumed, rest.size());
    EXPECT_EQ(r.method, method::head);
    EXPECT_EQ(r.path, "/2");
    EXPECT_EQ(r.query, "x");
    EXPECT_EQ(r.host, "");
    EXPECT_EQ(r.version_minor, 0);
    EXPECT_TRUE(r.keep_alive);
}

TEST(parser, extracted_fields) {
    const std::string_view buf = "GET /f HTTP/1.1\r\n"
                                 "HOST: example.org:8443\r\n"
                                 "accept-encoding:  gzip, br \r\n"
                                 "If-None-Match: \"a\", W/\"b\"\r\n"
                                 "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                                 "IF-MATCH: *\r\n"
                                 "If-Unmodified-Since: Mon, 07 Nov 1994 08:49:37 GMT\r\n"
                                 "Range: bytes=0-99\r\n"
                                 "If-Range: \"a\"\r\n"
                                 "Range: bytes=5-\r\n"
                                 "Content-Length: 0, 0\r\n"
                                 "\r\n";
    request r;
    const parse_result res = parse_request(buf, r);
    ASSERT_EQ(res.status, parse_status::complete);
    EXPECT_EQ(r.host, "example.org:8443");
    EXPECT_EQ(r.accept_encoding, "gzip, br");
    EXPECT_EQ(r.if_none_match, "\"a\", W/\"b\"");
    EXPECT_EQ(r.if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(r.if_match, "*");
    EXPECT_EQ(r.if_unmodified_since, "Mon, 07 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(r.range, "bytes=0-99"); // first occurrence wins
    EXPECT_EQ(r.if_range, "\"a\"");
    EXPECT_TRUE(r.has_content_length);
    EXPECT_EQ(r.content_length, 0u);
    EXPECT_FALSE(r.has_transfer_encoding);
    ASSERT_EQ(r.header_count, 10u);
    EXPECT_EQ(r.headers[0].name, "HOST");
    EXPECT_EQ(r.headers[0].value, "example.org:8443");
    EXPECT_EQ(r.headers[1].value, "gzip, br");
    EXPECT_EQ(r.headers[8].name, "Range");
    EXPECT_EQ(r.headers[8].value, "bytes=5-");
    // Views point into the buffer.
    for (std::size_t i = 0; i < r.header_count; ++i) {
        EXPECT_GE(r.headers[i].name.data(), buf.data());
        EXPECT_LE(r.headers[i].value.data() + r.headers[i].value.size(), buf.data() + buf.size());
    }
}

TEST(parser, absent_fields_are_empty_and_reset_between_parses) {
    request r;
    ASSERT_EQ(parse_request("GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=1-\r\nContent-Length: 7\r\n"
                            "Connection: close\r\n\r\n",
                            r)
                  .status,
              parse_status::complete);
    EXPECT_EQ(r.range, "bytes=1-");
    EXPECT_EQ(r.content_length, 7u);
    EXPECT_FALSE(r.keep_alive);
    ASSERT_EQ(parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n", r).status, parse_status::complete);
    EXPECT_TRUE(r.range.empty());
    EXPECT_TRUE(r.accept_encoding.empty());
    EXPECT_TRUE(r.if_none_match.empty());
    EXPECT_FALSE(r.has_content_length);
    EXPECT_EQ(r.content_length, 0u);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_EQ(r.header_count, 1u);
}

TEST(parser, content_length_values) {
    struct row {
        std::string_view value;
        std::uint64_t expected;
    };
    const row rows[] = {{"0", 0},
                        {"007", 7},
                        {"5, 5", 5},
                        {"5,5,5", 5},
                        {"18446744073709551615", 18446744073709551615ull}};
    for (const row& w : rows) {
        const std::string buf =
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::string(w.value) + "\r\n\r\n";
        request r;
        ASSERT_EQ(parse_request(buf, r).status, parse_status::complete) << w.value;
        EXPECT_EQ(r.content_length, w.expected) << w.value;
    }
}

TEST(parser, limits_boundaries) {
    // A request line of exactly the limit is fine; one byte more is 414.
    const std::string line = "GET /" + std::string(20, 'a') + " HTTP/1.1"; // 34 bytes
    const std::string ok = line + "\r\nHost: h\r\n\r\n";
    request r;
    parser_limits lim;
    lim.request_line = line.size();
    EXPECT_EQ(parse_request(ok, r, lim).status, parse_status::complete);
    lim.request_line = line.size() - 1;
    EXPECT_EQ(parse_request(ok, r, lim).error_status, 414);

    // The header block "Host: h\r\n\r\n" is 11 bytes.
    lim = {};
    lim.header_block = 11;
    EXPECT_EQ(parse_request(ok, r, lim).status, parse_status::complete);
    lim.header_block = 10;
    EXPECT_EQ(parse_request(ok, r, lim).error_status, 431);

    // Exactly `fields` fields is fine.
    lim = {};
    lim.fields = 1;
    EXPECT_EQ(parse_request(ok, r, lim).status, parse_status::complete);
    lim.fields = 0;
    EXPECT_EQ(parse_request(ok, r, lim).error_status, 431);

    // max_headers fields with the default limits.
    std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (std::size_t i = 1; i < max_headers; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    EXPECT_EQ(parse_request(many + "\r\n", r).status, parse_status::complete);
    EXPECT_EQ(r.header_count, max_headers);
    EXPECT_EQ(parse_request(many + "X: y\r\n\r\n", r).error_status, 431);
    // A larger configured limit is clamped to what request can hold.
    lim = {};
    lim.fields = 1000;
    EXPECT_EQ(parse_request(many + "X: y\r\n\r\n", r, lim).error_status, 431);
}

// ---- bad requests -----------------------------------------------------------------------------

struct bad_case {
    std::string name;
    std::string raw;
    int status;
    parser_limits limits{};
};

parser_limits small_limits(std::size_t line, std::size_t block, std::size_t fields) {
    parser_limits l;
    l.request_line = line;
    l.header_block = block;
    l.fields = fields;
    return l;
}

std::vector<bad_case> bad_cases() {
    const std::string host = "Host: h\r\n";
    std::string many_fields = "GET / HTTP/1.1\r\n" + host;
    for (std::size_t i = 0; i < max_headers; ++i) many_fields += "X-A: b\r\n";
    many_fields += "\r\n";
    return {
        // 400: request line
        {"empty_request_line", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" + host + "\r\n", 400},
        {"leading_space", " GET / HTTP/1.1\r\n" + host + "\r\n", 400},
        {"double_space", "GET  / HTTP/1.1\r\n" + host + "\r\n", 400},
        {"space_before_version", "GET /  HTTP/1.1\r\n" + host + "\r\n", 400},
        {"tab_separator", "GET\t/ HTTP/1.1\r\n" + host + "\r\n", 400},
        {"invalid_method_char", "GE(T / HTTP/1.1\r\n" + host + "\r\n", 400},
        {"no_target", "GET HTTP/1.1\r\n" + host + "\r\n", 400},
        {"space_in_target", "GET /a b HTTP/1.1\r\n" + host + "\r\n", 400},
        {"ctl_in_target", "GET /a\x01 HTTP/1.1\r\n" + host + "\r\n", 400},
        {"del_in_target", "GET /a\x7f HTTP/1.1\r\n" + host + "\r\n", 400},
        {"relative_target", "GET a/b HTTP/1.1\r\n" + host + "\r\n", 400},
        {"authority_form", "GET h:443 HTTP/1.1\r\n" + host + "\r\n", 400},
        {"ftp_scheme", "GET ftp://h/ HTTP/1.1\r\n" + host + "\r\n", 400},
        {"absolute_empty_host", "GET http:///a HTTP/1.1\r\n" + host + "\r\n", 400},
        {"absolute_userinfo", "GET http://u@h/ HTTP/1.1\r\n" + host + "\r\n", 400},
        {"asterisk_with_get", "GET * HTTP/1.1\r\n" + host + "\r\n", 400},
        {"version_short", "GET / HTTP/1\r\n" + host + "\r\n", 400},
        {"version_lowercase", "GET / http/1.1\r\n" + host + "\r\n", 400},
        {"version_two_digits", "GET / HTTP/1.10\r\n" + host + "\r\n", 400},
        {"version_trailing_space", "GET / HTTP/1.1 \r\n" + host + "\r\n", 400},
        {"version_missing", "GET /\r\n" + host + "\r\n", 400},
        {"bare_cr_in_request_line", "GET /\r HTTP/1.1\r\n" + host + "\r\n", 400},
        {"cr_cr_lf", "GET / HTTP/1.1\r\r\n" + host + "\r\n", 400},
        // 400: header fields
        {"space_before_colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
        {"tab_before_colon", "GET / HTTP/1.1\r\n" + host + "X\t: y\r\n\r\n", 400},
        {"obs_fold", "GET / HTTP/1.1\r\n" + host + "X: a\r\n  b\r\n\r\n", 400},
        {"obs_fold_tab", "GET / HTTP/1.1\r\n" + host + "X: a\r\n\tb\r\n\r\n", 400},
        {"whitespace_before_first_field", "GET / HTTP/1.1\r\n " + host + "\r\n", 400},
        {"no_colon", "GET / HTTP/1.1\r\n" + host + "NoColon\r\n\r\n", 400},
        {"empty_name", "GET / HTTP/1.1\r\n" + host + ": v\r\n\r\n", 400},
        {"bad_name_char", "GET / HTTP/1.1\r\n" + host + "X(y): v\r\n\r\n", 400},
        {"bare_cr_in_value", "GET / HTTP/1.1\r\n" + host + "X: a\rb\r\n\r\n", 400},
        {"bare_cr_line_end", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400},
        {"bare_cr_final_line", "GET / HTTP/1.1\r\n" + host + "\rX\r\n\r\n", 400},
        {"nul_in_value", "GET / HTTP/1.1\r\n" + host + "X: a\0b\r\n\r\n"s, 400},
        {"ctl_in_value", "GET / HTTP/1.1\r\n" + host + "X: a\x1b[0m\r\n\r\n", 400},
        {"del_in_value", "GET / HTTP/1.1\r\n" + host + "X: a\x7f\r\n\r\n", 400},
        {"long_value_with_ctl_at_end",
         "GET / HTTP/1.1\r\n" + host + "X: " + std::string(40, 'v') + "\x01\r\n\r\n", 400},
        // 400: Host
        {"missing_host_11", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400},
        {"missing_host_absolute_form", "GET http://h/ HTTP/1.1\r\n\r\n", 400},
        {"duplicate_host", "GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n", 400},
        {"duplicate_host_10", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400},
        {"host_with_slash", "GET / HTTP/1.1\r\nHost: h/../x\r\n\r\n", 400},
        {"host_with_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        {"host_with_userinfo", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", 400},
        // 400: framing
        {"cl_and_te",
         "POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
         400},
        {"te_and_cl",
         "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
         400},
        {"te_in_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"cl_not_digits", "POST / HTTP/1.1\r\n" + host + "Content-Length: abc\r\n\r\n", 400},
        {"cl_negative", "POST / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", 400},
        {"cl_plus", "POST / HTTP/1.1\r\n" + host + "Content-Length: +1\r\n\r\n", 400},
        {"cl_empty", "POST / HTTP/1.1\r\n" + host + "Content-Length:\r\n\r\n", 400},
        {"cl_inner_space", "POST / HTTP/1.1\r\n" + host + "Content-Length: 1 2\r\n\r\n", 400},
        {"cl_hex", "POST / HTTP/1.1\r\n" + host + "Content-Length: 0x10\r\n\r\n", 400},
        {"cl_overflow",
         "POST / HTTP/1.1\r\n" + host + "Content-Length: 18446744073709551616\r\n\r\n", 400},
        {"cl_conflicting",
         "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
        {"cl_conflicting_list", "POST / HTTP/1.1\r\n" + host + "Content-Length: 5, 6\r\n\r\n", 400},
        {"cl_empty_list_element", "POST / HTTP/1.1\r\n" + host + "Content-Length: 5,,5\r\n\r\n",
         400},
        // 414
        {"uri_too_long_incomplete", "GET /" + std::string(9000, 'a'), 414},
        {"uri_too_long", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n" + host + "\r\n", 414},
        {"uri_too_long_small_limit", "GET /abcdef HTTP/1.1\r\n" + host + "\r\n", 414,
         small_limits(16, 1024, 10)},
        {"request_line_limit_beats_bad_char", "GET /ab\x01" + std::string(30, 'c') + "\r\n", 414,
         small_limits(16, 1024, 10)},
        // 431
        {"too_many_fields", many_fields, 431},
        {"too_many_fields_small_limit",
         "GET / HTTP/1.1\r\n" + host + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431,
         small_limits(1024, 1024, 3)},
        {"header_block_too_large_incomplete",
         "GET / HTTP/1.1\r\n" + host + "X: " + std::string(70000, 'v'), 431},
        {"header_block_too_large",
         "GET / HTTP/1.1\r\n" + host + "X: " + std::string(70000, 'v') + "\r\n\r\n", 431},
        {"header_block_too_large_small_limit", "GET / HTTP/1.1\r\n" + host + "A: 1\r\nB: 2\r\n\r\n",
         431, small_limits(1024, 20, 10)},
        {"header_block_final_crlf_over_limit", "GET / HTTP/1.1\r\n" + host + "\r\n", 431,
         small_limits(1024, 10, 10)},
        // 501
        {"unknown_method", "BREW /pot HTTP/1.1\r\n" + host + "\r\n", 501},
        {"lowercase_method", "get / HTTP/1.1\r\n" + host + "\r\n", 501},
        // 505
        {"http20", "GET / HTTP/2.0\r\n" + host + "\r\n", 505},
        {"http09", "GET / HTTP/0.9\r\n\r\n", 505},
        {"h2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
    };
}

class bad_request : public ::testing::TestWithParam<bad_case> {};

TEST_P(bad_request, is_rejected) {
    const bad_case& c = GetParam();
    request r;
    const parse_result res = parse_request(c.raw, r, c.limits);
    ASSERT_EQ(res.status, parse_status::error);
    EXPECT_EQ(res.error_status, c.status);
}

// Feeding the request a byte at a time never yields complete, nor a different error.
TEST_P(bad_request, prefixes_agree) {
    const bad_case& c = GetParam();
    request r;
    for (std::size_t n = 0; n < c.raw.size(); ++n) {
        const parse_result res = parse_request(std::string_view(c.raw).substr(0, n), r, c.limits);
        ASSERT_NE(res.status, parse_status::complete) << "prefix " << n;
        if (res.status == parse_status::error) {
            ASSERT_EQ(res.error_status, c.status) << "prefix " << n;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(table, bad_request, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return info.param.name; });

// ---- reject_status ----------------------------------------------------------------------------

TEST(reject_status, table) {
    struct row {
        std::string_view raw;
        int status;
    };
    const row rows[] = {
        {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0},
        {"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", 0},
        {"POST / HTTP/1.1\r\nHost: h\r\n\r\n", 405},
        {"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", 405},
        {"DELETE / HTTP/1.1\r\nHost: h\r\n\r\n", 405},
        {"CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n", 405},
        {"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 405},
        {"TRACE / HTTP/1.1\r\nHost: h\r\n\r\n", 405},
        {"PATCH / HTTP/1.1\r\nHost: h\r\n\r\n", 405},
        {"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n", 413},
        {"HEAD / HTTP/1.1\r\nHost: h\r\nContent-Length: 10, 10\r\n\r\n", 413},
    };
    for (const row& w : rows) {
        request r;
        ASSERT_EQ(parse_request(w.raw, r).status, parse_status::complete) << w.raw;
        EXPECT_EQ(reject_status(r), w.status) << w.raw;
    }
    request unknown;
    EXPECT_EQ(reject_status(unknown), 501);
}

TEST(method_name, all) {
    EXPECT_EQ(method_name(method::get), "GET");
    EXPECT_EQ(method_name(method::head), "HEAD");
    EXPECT_EQ(method_name(method::post), "POST");
    EXPECT_EQ(method_name(method::put), "PUT");
    EXPECT_EQ(method_name(method::delete_), "DELETE");
    EXPECT_EQ(method_name(method::connect), "CONNECT");
    EXPECT_EQ(method_name(method::options), "OPTIONS");
    EXPECT_EQ(method_name(method::trace), "TRACE");
    EXPECT_EQ(method_name(method::patch), "PATCH");
    EXPECT_EQ(method_name(method::unknown), "");
}

// ---- robustness -------------------------------------------------------------------------------

// Random byte mutations of valid requests: the parser must stay in bounds (run under ASan), its
// views must lie inside the buffer, and the prefix contract must hold: once a prefix gives a final
// answer, the whole buffer gives the same one.
TEST(parser, mutations_keep_prefix_contract) {
    const std::string_view seeds[] = {
        chrome_get,
        "GET http://h:1/a?b HTTP/1.0\nConnection: keep-alive\nContent-Length: 1, 1\n\n",
        "\r\nOPTIONS * HTTP/1.1\r\nHost: [::1]\r\nTransfer-Encoding: x\r\n\r\nGET",
    };
    const char alphabet[] = {'\r', '\n',   ' ',    '\t', ':', ',', '/', '?', '*',
                             '\0', '\x7f', '\xff', 'a',  'H', '1', '0', '.', '@'};
    std::mt19937 rng(12345);
    parser_limits lim = small_limits(48, 96, 6);
    for (int iter = 0; iter < 3000; ++iter) {
        std::string buf(seeds[iter % 3]);
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = rng() % buf.size();
            const char ch = alphabet[rng() % sizeof alphabet];
            switch (rng() % 3) {
            case 0:
                buf[at] = ch;
                break;
            case 1:
                buf.insert(buf.begin() + static_cast<std::ptrdiff_t>(at), ch);
                break;
            default:
                buf.erase(at, 1 + rng() % 3);
                break;
            }
            if (buf.empty()) buf = "G";
        }
        const parser_limits& use = iter % 2 ? lim : parser_limits{};
        request r;
        const parse_result full = parse_request(buf, r, use);
        if (full.status == parse_status::complete) {
            ASSERT_LE(full.consumed, buf.size());
            const char* lo = buf.data();
            const char* hi = lo + full.consumed;
            auto inside = [&](std::string_view v) {
                return v.empty() || (v.data() >= lo && v.data() + v.size() <= hi);
            };
            ASSERT_TRUE(inside(r.target) && inside(r.query) && inside(r.host)) << buf;
            for (std::size_t i = 0; i < r.header_count; ++i)
                ASSERT_TRUE(inside(r.headers[i].name) && inside(r.headers[i].value)) << buf;
        }
        for (std::size_t n = 0; n < buf.size(); ++n) {
            const parse_result p = parse_request(std::string_view(buf).substr(0, n), r, use);
            if (p.status == parse_status::incomplete) continue;
            ASSERT_EQ(p.status, full.status) << "prefix " << n << " of " << buf;
            ASSERT_EQ(p.consumed, full.consumed) << "prefix " << n << " of " << buf;
            ASSERT_EQ(p.error_status, full.error_status) << "prefix " << n << " of " << buf;
        }
    }
}

TEST(parser, empty_and_whitespace_only_inputs) {
    request r;
    EXPECT_EQ(parse_request({}, r).status, parse_status::incomplete);
    EXPECT_EQ(parse_request("\r", r).status, parse_status::incomplete);
    EXPECT_EQ(parse_request("\r\n\r\n", r).status, parse_status::incomplete);
    EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r", r).status, parse_status::incomplete);
}

} // namespace
} // namespace ringlet::http
