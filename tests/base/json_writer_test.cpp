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
