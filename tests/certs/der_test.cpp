#include "ringlet/certs/der.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace ringlet::certs;
using der::bytes;

namespace {

std::string text(const bytes& b) {
    return std::string(b.begin(), b.end());
}

} // namespace

TEST(der, lengths_use_the_short_form_below_128_and_minimal_long_forms_above) {
    for (auto [n, header] : {std::pair<std::size_t, std::string>{0, std::string("\x04\x00", 2)},
                             {127, "\x04\x7f"},
                             {128, "\x04\x81\x80"},
                             {255, "\x04\x81\xff"},
                             {256, std::string("\x04\x82\x01\x00", 4)},
                             {70000, std::string("\x04\x83\x01\x11\x70", 5)}}) {
        const bytes content(n, 0xab);
        bytes tlv = der::tlv(der::tag::octet_string, {content});
        ASSERT_EQ(tlv.size(), header.size() + n) << n;
        EXPECT_EQ(text(bytes(tlv.begin(), tlv.begin() + header.size())), header) << n;
        der::reader r{tlv};
        der::byte_view got;
        ASSERT_TRUE(r.next(der::tag::octet_string, got)) << n;
        EXPECT_EQ(got.size(), n);
        EXPECT_TRUE(r.at_end());
    }
}

TEST(der, the_reader_rejects_truncated_and_indefinite_elements) {
    der::byte_view got;
    for (std::string bad :
         {std::string("\x04\x02\x00", 3), std::string("\x04\x81", 2),
          std::string("\x04\x80\x00\x00", 4), std::string("\x04", 1),
          std::string("\x04\x85\x00\x00\x00\x00\x01\x00", 8), std::string("\x02\x01\x00", 3)}) {
        der::reader r{der::as_bytes(bad)};
        EXPECT_FALSE(r.next(der::tag::octet_string, got)) << bad.size();
    }
}

TEST(der, times_switch_from_utc_to_generalized_in_2050) {
    const std::int64_t end_2049 = 2524607999; // 2049-12-31 23:59:59
    EXPECT_EQ(text(der::encode_time(end_2049)), "\x17\x0d"
                                                "491231235959Z");
    EXPECT_EQ(text(der::encode_time(end_2049 + 1)), "\x18\x0f"
                                                    "20500101000000Z");
    EXPECT_EQ(text(der::encode_time(0)), "\x17\x0d"
                                         "700101000000Z");
    EXPECT_EQ(text(der::encode_time(-631152000 - 1)), "\x18\x0f"
                                                      "19491231235959Z");
    EXPECT_TRUE(der::encode_time(253402300800).empty()); // year 10000
    for (std::int64_t t : {std::int64_t{0}, end_2049, end_2049 + 1, std::int64_t{1764355200}}) {
        bytes enc = der::encode_time(t);
        std::int64_t back = -1;
        ASSERT_TRUE(der::decode_time(enc[0], der::byte_view(enc).subspan(2), back));
        EXPECT_EQ(back, t);
    }
    EXPECT_EQ(der::format_time(1764355200), "2025-11-28 18:40:00 UTC");
}

TEST(der, general_names_encode_dns_names_and_addresses) {
    std::string first, error;
    const std::string names[] = {"Example.COM.", "10.1.2.3", "::1", "example.com"};
    auto san = der::general_names(names, first, error);
    ASSERT_TRUE(san) << error;
    EXPECT_EQ(first, "example.com");
    EXPECT_EQ(text(*san), std::string("\x30\x25"
                                      "\x82\x0b"
                                      "example.com"
                                      "\x87\x04\x0a\x01\x02\x03"
                                      "\x87\x10\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01",
                                      39));
    const std::string bad[] = {"a_b.example"};
    EXPECT_FALSE(der::general_names(bad, first, error));
    EXPECT_EQ(error, "\"a_b.example\" is neither a DNS name nor an IP address");
}
