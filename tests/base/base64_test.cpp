#include "ringlet/base/base64.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace ringlet;
using namespace std::string_literals;

TEST(base64, rfc4648_test_vectors) {
    // RFC 4648 section 10.
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (auto [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(std::string_view(plain)), encoded);
        EXPECT_EQ(base64_decode(encoded), std::string(plain)) << encoded;
        std::string unpadded(encoded);
        while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
        EXPECT_EQ(base64url_encode(std::string_view(plain)), unpadded);
        EXPECT_EQ(base64url_decode(unpadded), std::string(plain)) << unpadded;
    }
}

TEST(base64, the_two_alphabets_differ_in_62_and_63) {
    const std::string bytes = "\xfb\xff\xbf"s;
    EXPECT_EQ(base64_encode(bytes), "+/+/");
    EXPECT_EQ(base64url_encode(bytes), "-_-_");
    EXPECT_EQ(base64url_decode("-_-_"), bytes);
    EXPECT_EQ(base64_decode("+/+/"), bytes);
    EXPECT_EQ(base64url_decode("+/+/"), std::nullopt);
    EXPECT_EQ(base64_decode("-_-_"), std::nullopt);
}

TEST(base64, round_trips_every_length_and_byte) {
    std::string data;
    for (int n = 0; n < 300; ++n) {
        EXPECT_EQ(base64_decode(base64_encode(data)), data) << n;
        EXPECT_EQ(base64url_decode(base64url_encode(data)), data) << n;
        EXPECT_EQ(base64_encode(data).size(), (data.size() + 2) / 3 * 4);
        data += static_cast<char>(n * 37 + 11);
    }
}

TEST(base64, decoding_is_strict) {
    for (const char* bad :
         {"Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v\n", " Zm9v", "Zm 9v",
          "Zh==", "Zm9=", "Zg==Zg==", "Zm8=Zm8=", "Z", "Zm9vY", "Zm9v*", "=Zm9"}) {
        EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
    }
    // "Zh" and "Zm9" carry non-zero unused bits; the canonical forms are "Zg" and "Zm8".
    for (const char* bad :
         {"Zg==", "Zg=", "Zh", "Zm9", "Z", "Zm9vY", "Zm9v\n", "Zm9v*", "a+b", "a/b"}) {
        EXPECT_EQ(base64url_decode(bad), std::nullopt) << bad;
    }
    EXPECT_EQ(base64url_decode(std::string_view("Zm\0v", 4)), std::nullopt);
    EXPECT_EQ(base64url_decode(""), "");
    EXPECT_EQ(base64_decode(""), "");
}

TEST(base64, acme_tokens) {
    EXPECT_TRUE(is_base64url_token("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"));
    EXPECT_TRUE(is_base64url_token("a_-Z9"));
    for (const char* bad : {"", "a=", "a.b", "../x", "a/b", "a+b", "a b", "tok\n", "é"})
        EXPECT_FALSE(is_base64url_token(bad)) << bad;
    EXPECT_FALSE(is_base64url_token(std::string_view("a\0b", 3)));
}
