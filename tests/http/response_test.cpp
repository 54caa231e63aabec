#include "ringlet/http/response.hpp"

#include <gtest/gtest.h>

using namespace ringlet::http;

TEST(response, writes_status_line_headers_and_the_empty_line) {
    std::string out = "leftover from the previous response";
    response_writer w(out, 206);
    w.header("Content-Length", std::uint64_t{1234})
        .header("ETag", "\"x\"")
        .raw("Vary: Accept-Encoding\r\n");
    EXPECT_EQ(w.finish(), "HTTP/1.1 206 Partial Content\r\nContent-Length: 1234\r\nETag: \"x\"\r\n"
                          "Vary: Accept-Encoding\r\n\r\n");
}

TEST(response, every_status_we_send_has_its_reason_phrase) {
    for (int s : {200, 206, 301, 304, 400, 403, 404, 405, 408, 411, 412, 413, 414, 416, 431, 500,
                  501, 505}) {
        EXPECT_NE(reason_phrase(s), "Unknown") << s;
    }
    EXPECT_EQ(reason_phrase(299), "Unknown");
}
