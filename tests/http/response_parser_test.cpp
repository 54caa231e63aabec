#include "ringlet/http/response_parser.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

using namespace ringlet;
using namespace ringlet::http;

namespace {

struct parsed {
    response_result r;
    std::unique_ptr<response_head> head = std::make_unique<response_head>();
};

parsed parse(std::string_view s, bool head_request = false, response_limits l = {}) {
    parsed p;
    p.r = parse_response(s, head_request, *p.head, l);
    return p;
}

// Decodes a whole chunked body fed in pieces of `piece` bytes; "ERR:<why>" on failure.
std::string dechunk(std::string_view in, std::size_t piece, std::size_t* rest = nullptr) {
    chunked_decoder d;
    std::string out;
    std::size_t pos = 0;
    while (pos < in.size() && !d.done() && !d.failed()) {
        std::string_view window = in.substr(pos, piece);
        while (!window.empty() && !d.done() && !d.failed()) {
            auto s = d.step(window);
            out.append(s.data);
            window.remove_prefix(s.consumed);
            pos += s.consumed;
        }
    }
    if (rest) *rest = in.size() - pos;
    if (d.failed()) return "ERR:" + std::string(d.error());
    if (!d.done()) return "INCOMPLETE";
    return out;
}

} // namespace

TEST(response_parser, parses_status_reason_headers_and_content_length) {
    std::string s = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nLocation: /x\r\n"
                    "link: <a>;rel=up\r\n\r\nhello";
    auto p = parse(s);
    ASSERT_EQ(p.r.status, response_status::complete);
    EXPECT_EQ(p.r.consumed, s.size() - 5);
    EXPECT_EQ(p.head->status, 201);
    EXPECT_EQ(p.head->reason, "Created");
    EXPECT_EQ(p.head->field_count, 3u);
    EXPECT_EQ(p.head->find("LOCATION"), "/x");
    EXPECT_EQ(p.head->find("Link"), "<a>;rel=up");
    EXPECT_FALSE(p.head->find("etag"));
    EXPECT_EQ(p.head->framing, body_framing::content_length);
    EXPECT_EQ(p.head->content_length, 5u);
    EXPECT_TRUE(p.head->keep_alive);
}

TEST(response_parser, every_prefix_of_a_valid_head_is_incomplete) {
    std::string s = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nServer: x\r\n"
                    "Transfer-Encoding: gzip, chunked\r\n\r\n";
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto p = parse(s.substr(0, i));
        EXPECT_EQ(p.r.status, response_status::incomplete) << "at " << i;
    }
    auto p = parse(s);
    ASSERT_EQ(p.r.status, response_status::complete);
    EXPECT_EQ(p.r.consumed, s.size()); // the 100 Continue was skipped
    EXPECT_EQ(p.head->status, 200);
    EXPECT_EQ(p.head->framing, body_framing::chunked);
}

TEST(response_parser, framing_follows_rfc_9112) {
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true).head->framing,
              body_framing::none); // HEAD
    EXPECT_EQ(parse("HTTP/1.1 204 No Content\r\n\r\n").head->framing, body_framing::none);
    EXPECT_EQ(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").head->framing,
              body_framing::none);
    auto close = parse("HTTP/1.1 200 OK\r\n\r\n");
    EXPECT_EQ(close.head->framing, body_framing::until_close);
    EXPECT_FALSE(close.head->keep_alive);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").head->framing,
              body_framing::until_close);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n").head->content_length, 3u);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").head->framing,
              body_framing::none);
    EXPECT_FALSE(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n")
                     .head->keep_alive);
    EXPECT_FALSE(parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n").head->keep_alive);
    // Bare LF line ends and a status line without a reason.
    auto lf = parse("HTTP/1.1 404\nContent-Length: 2\n\n");
    ASSERT_EQ(lf.r.status, response_status::complete);
    EXPECT_EQ(lf.head->status, 404);
    EXPECT_EQ(lf.head->reason, "");
}

TEST(response_parser, malformed_heads_are_errors_with_a_reason) {
    const std::pair<const char*, const char*> cases[] = {
        {"HTTP/2 200 OK\r\n\r\n", "malformed status line"},
        {"HTTP/1.1 20 OK\r\n\r\n", "malformed status line"},
        {"HTTP/1.1 2000 OK\r\n\r\n", "malformed status line"},
        {"HTTP/1.1 099 OK\r\n\r\n", "malformed status line"},
        {"HTTP/1.1 200 O\x01K\r\n\r\n", "malformed status line"},
        {"http/1.1 200 OK\r\n\r\n", "malformed status line"},
        {"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", "malformed header field"},
        {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "malformed header field name"},
        {"HTTP/1.1 200 OK\r\nName : x\r\n\r\n", "malformed header field name"},
        {"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", "obsolete line folding in a header field"},
        {"HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n", "control character in a header field value"},
        {"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", "bare CR in a header field"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", "invalid Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
         "invalid Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "invalid Content-Length"},
    };
    for (auto [in, why] : cases) {
        auto p = parse(in);
        EXPECT_EQ(p.r.status, response_status::error) << in;
        EXPECT_EQ(p.r.error, why) << in;
    }
}

TEST(response_parser, limits_on_head_size_and_field_count) {
    std::string big = "HTTP/1.1 200 OK\r\nX: " + std::string(200, 'a');
    response_limits l;
    l.head = 100;
    auto p = parse(big, false, l);
    EXPECT_EQ(p.r.status, response_status::error);
    EXPECT_EQ(p.r.error, "response head too large");
    std::string many = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 5; ++i) many += "A: b\r\n";
    many += "\r\n";
    l = {};
    l.fields = 4;
    EXPECT_EQ(parse(many, false, l).r.error, "too many header fields");
    l.fields = 5;
    EXPECT_EQ(parse(many, false, l).r.status, response_status::complete);
}

TEST(response_parser, garbage_never_crashes) {
    std::string s = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nA: b\r\n\r\n";
    for (std::size_t i = 0; i < s.size(); ++i) {
        for (int b : {0, int{'\r'}, int{'\n'}, int{':'}, int{' '}, 0x80, 0xff}) {
            std::string m = s;
            m[i] = static_cast<char>(b);
            auto p = parse(m);
            if (p.r.status == response_status::complete) {
                EXPECT_LE(p.r.consumed, m.size());
            } else if (p.r.status == response_status::error) {
                EXPECT_FALSE(p.r.error.empty());
            }
        }
    }
}

TEST(chunked_decoder, decodes_with_extensions_and_trailers_split_anywhere) {
    std::string body = "6;name=\"v\"\r\nhello \r\n8\r\nchunked \r\nA \r\nworld12345\r\n0\r\n"
                       "X-Trailer: yes\r\nY: z\r\n\r\nNEXT";
    for (std::size_t piece = 1; piece <= body.size(); ++piece) {
        std::size_t rest = 0;
        EXPECT_EQ(dechunk(body, piece, &rest), "hello chunked world12345") << "piece " << piece;
        EXPECT_EQ(rest, 4u);
    }
    EXPECT_EQ(dechunk("0\n\n", 1), "");
    EXPECT_EQ(dechunk("3\nabc\n0\n\n", 2), "abc");
    EXPECT_EQ(dechunk("3\r\nabc\r\n", 100), "INCOMPLETE");
}

TEST(chunked_decoder, rejects_malformed_chunks) {
    EXPECT_EQ(dechunk("x\r\n", 10), "ERR:invalid chunk size");
    EXPECT_EQ(dechunk("+3\r\nabc\r\n0\r\n\r\n", 10), "ERR:invalid chunk size");
    EXPECT_EQ(dechunk("0x3\r\nabc\r\n0\r\n\r\n", 10), "ERR:invalid chunk size");
    EXPECT_EQ(dechunk(" 3\r\nabc\r\n0\r\n\r\n", 10), "ERR:invalid chunk size");
    EXPECT_EQ(dechunk("3 4\r\n", 10), "ERR:invalid chunk size");
    EXPECT_EQ(dechunk("3\rabc", 10), "ERR:bare CR in a chunk size line");
    EXPECT_EQ(dechunk("3\r\nabcd\r\n", 10), "ERR:missing CRLF after chunk data");
    EXPECT_EQ(dechunk("3;a\x01\r\n", 10), "ERR:invalid chunk extension");
    EXPECT_EQ(dechunk("11111111111111111\r\n", 10), "ERR:chunk size too large");
    EXPECT_EQ(dechunk("3" + std::string(5000, ' ') + "\r\n", 100), "ERR:chunk size line too long");
    EXPECT_EQ(dechunk("0\r\nA: \x01\r\n\r\n", 10), "ERR:control character in a trailer field");
    chunked_decoder::limits l;
    l.chunk_size = 10;
    chunked_decoder d(l);
    d.step("b\r\n");
    EXPECT_TRUE(d.failed());
    EXPECT_EQ(d.error(), "chunk larger than the limit");
    d.reset();
    EXPECT_EQ(d.step("a\r\n").consumed, 3u);
    EXPECT_FALSE(d.failed());
}

TEST(retry_after, delta_seconds_and_http_dates) {
    EXPECT_EQ(parse_retry_after("120", 1000), 120);
    EXPECT_EQ(parse_retry_after(" 0 ", 1000), 0);
    // Sun, 06 Nov 1994 08:49:37 GMT = 784111777
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30), 30);
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 30), 0);
    EXPECT_FALSE(parse_retry_after("", 0));
    EXPECT_FALSE(parse_retry_after("-5", 0));
    EXPECT_FALSE(parse_retry_after("12s", 0));
    EXPECT_FALSE(parse_retry_after("soon", 0));
}

TEST(link_header, several_links_and_relation_types) {
    auto l = parse_link_header(
        "<https://a.test/dir>;rel=\"index\", </next?a=1,2>; title=\"x, y; z\"; rel=\"next "
        "Alternate\""
        " , <https://c.test/>; rel=up; rel=ignored, <https://d.test/>; anchor=\"#\"");
    ASSERT_TRUE(l);
    ASSERT_EQ(l->size(), 4u);
    EXPECT_EQ((*l)[0].uri, "https://a.test/dir");
    EXPECT_EQ((*l)[0].rel, "index");
    EXPECT_EQ((*l)[1].uri, "/next?a=1,2");
    EXPECT_EQ((*l)[1].rel, "next");
    EXPECT_EQ((*l)[2].rel, "Alternate");
    EXPECT_EQ((*l)[3].uri, "https://c.test/");
    EXPECT_EQ((*l)[3].rel, "up");
    EXPECT_TRUE(parse_link_header("")->empty());
    EXPECT_FALSE(parse_link_header("https://a.test/; rel=up"));
    EXPECT_FALSE(parse_link_header("<https://a.test/; rel=up"));
    EXPECT_FALSE(parse_link_header("<a>; rel=\"up"));
    EXPECT_FALSE(parse_link_header("<a> rel=up"));
    EXPECT_FALSE(parse_link_header("<a>; =up"));
}
