#include "ringlet/base/json_writer.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace ringlet;
using namespace std::string_literals;

TEST(json_writer, escapes_quotes_backslashes_and_control_characters) {
    EXPECT_EQ(json_string(""), R"("")");
    EXPECT_EQ(json_string("plain"), R"("plain")");
    EXPECT_EQ(json_string("a\"b\\c/d"), R"("a\"b\\c/d")");
    EXPECT_EQ(json_string("\n\r\t\b\f"), R"("\n\r\t\b\f")");
    EXPECT_EQ(json_string("\x01\x1f\x7f"s), "\"\\u0001\\u001f\x7f\"");
    EXPECT_EQ(json_string("nul\0!"s), R"("nul\u0000!")");
    EXPECT_EQ(json_string("\xc3\xa9t\xc3\xa9"), "\"\xc3\xa9t\xc3\xa9\""); // UTF-8 copied as is
}

TEST(json_writer, sanitized_mode_always_gives_valid_json) {
    constexpr auto san = json_bytes::sanitized;
    EXPECT_EQ(json_string("a\"b\n\x7f"s, san), R"("a\"b\n\u007f")");
    EXPECT_EQ(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", san),
              "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    EXPECT_EQ(json_string("\xff", san), R"("\ufffd")");
    EXPECT_EQ(json_string("x\xc3", san), R"("x\ufffd")");                   // truncated at the end
    EXPECT_EQ(json_string("\xc3(", san), R"("\ufffd(")");                   // bad continuation
    EXPECT_EQ(json_string("\xc0\xaf", san), R"("\ufffd\ufffd")");           // overlong '/'
    EXPECT_EQ(json_string("\xed\xa0\x80", san), R"("\ufffd\ufffd\ufffd")"); // a surrogate
    EXPECT_EQ(json_string("\xf4\x90\x80\x80", san), R"("\ufffd\ufffd\ufffd\ufffd")"); // > U+10FFFF
}

TEST(json_writer, utf8_sequence_lengths) {
    EXPECT_EQ(utf8_sequence_length(""), 0u);
    EXPECT_EQ(utf8_sequence_length("a"), 1u);
    EXPECT_EQ(utf8_sequence_length("\xc3\xa9"), 2u);
    EXPECT_EQ(utf8_sequence_length("\xe2\x82\xac"), 3u);
    EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x98\x80!"), 4u);
    EXPECT_EQ(utf8_sequence_length("\xe2\x82"), 0u);
    EXPECT_EQ(utf8_sequence_length("\x80"), 0u);
}

TEST(json_writer, object_members_in_call_order_without_whitespace) {
    EXPECT_EQ(json_object().str(), "{}");
    json_object o;
    o.add("b", "x").add("a", true).add_number("n", -42).add_raw("raw", R"([1,{"k":null}])");
    o.add("q\"", false);
    EXPECT_EQ(o.str(), R"({"b":"x","a":true,"n":-42,"raw":[1,{"k":null}],"q\"":false})");
    EXPECT_EQ(o.str(), o.str()); // str() does not close the object for good
    o.add("late", "y");
    EXPECT_TRUE(o.str().ends_with(R"(,"q\"":false,"late":"y"})")) << o.str();
}
