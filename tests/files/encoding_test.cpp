#include "ringlet/files/encoding.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>

namespace {

using ringlet::files::choose_coding;
using ringlet::files::coding_name;
using ringlet::files::content_coding;
using ringlet::files::sidecar_suffix;

constexpr std::uint8_t br = static_cast<std::uint8_t>(content_coding::br);
constexpr std::uint8_t zstd = static_cast<std::uint8_t>(content_coding::zstd);
constexpr std::uint8_t gzip = static_cast<std::uint8_t>(content_coding::gzip);
constexpr std::uint8_t all = br | zstd | gzip;

TEST(ChooseCoding, Table) {
    struct row {
        std::string_view accept;
        std::uint8_t available;
        content_coding want;
    };
    constexpr auto B = content_coding::br;
    constexpr auto Z = content_coding::zstd;
    constexpr auto G = content_coding::gzip;
    constexpr auto I = content_coding::identity;
    const row rows[] = {
        // Browser-typical values.
        {"gzip, deflate, br, zstd", all, B},
        {"gzip, deflate, br, zstd", zstd | gzip, Z},
        {"gzip, deflate, br, zstd", gzip, G},
        {"gzip, deflate, br", zstd, I},
        {"gzip, deflate", all, G},
        {"gzip, deflate, br", 0, I},
        // Nothing acceptable or nothing sent.
        {"", all, I},
        {"   ", all, I},
        {"identity", all, I},
        {"deflate", all, I},
        {"compress, deflate", gzip, I},
        // q-values: highest wins, ties br > zstd > gzip.
        {"gzip;q=1.0, br;q=0.5", all, G},
        {"gzip;q=0.5, br;q=0.5, zstd;q=0.5", all, B},
        {"gzip;q=0.5, zstd;q=0.5", all, Z},
        {"br;q=0.1, zstd;q=0.2, gzip;q=0.3", all, G},
        {"br;q=0.999, gzip", all, G},
        {"br;q=0.001", all, B},
        {"br;q=0", all, I},
        {"br;q=0.000, gzip;q=0.0", all, I},
        {"br;q=0, gzip", all, G},
        {"br;q=1, gzip;q=1.000", all, B},
        {"br;q=0., gzip;q=1.", all, G},
        // OWS and case.
        {"gzip ; q=0.5 , br ;q=0.4", all, G},
        {"gzip;\tq=0.5,\tbr", all, B},
        {"GZIP", all, G},
        {"Br, GZip", all, B},
        {"gzip;Q=0.5, br;Q=0.4", all, G},
        {"ZSTD", all, Z},
        // x-gzip is gzip.
        {"x-gzip", all, G},
        {"X-GZIP;q=0.5, br;q=0.4", all, G},
        {"x-gzip;q=0", gzip, I},
        // "*" covers codings not listed.
        {"*", all, B},
        {"*", gzip, G},
        {"*;q=0.5, gzip", all, G},
        {"*;q=0.5, gzip;q=0.4", all, B},
        {"*;q=0.5, br;q=0", all, Z},
        {"*;q=0, gzip", all, G},
        {"*;q=0", all, I},
        {"br;q=0, *", br | gzip, G},
        // Malformed members are ignored; the rest still count.
        {"br;q=2, gzip", all, G},
        {"br;q=1.5, gzip", all, G},
        {"br;q=1.001, gzip", all, G},
        {"br;q=0.1234, gzip", all, G},
        {"br;q=.5, gzip", all, G},
        {"br;q=, gzip", all, G},
        {"br;q, gzip", all, G},
        {"br;q=-1, gzip", all, G},
        {"br;q = 0.5, gzip", all, G},
        {"br;level=5, gzip", all, G},
        {"br;q=0.5;x=1, gzip", all, G},
        {"b r, gzip", all, G},
        {"br;, gzip", all, G},
        {";q=0.5, gzip", all, G},
        {"\"br\", gzip", all, G},
        {"br;q=0x1, gzip;q=0.1", all, G},
        {",, ,gzip,,", all, G},
        {"br;q=abc", all, I},
        // A malformed q=0 does not count as a refusal.
        {"br;q=0.0000, br", all, B},
        // Duplicates: the lowest q counts.
        {"gzip, gzip;q=0", gzip, I},
        {"gzip;q=0, gzip", gzip, I},
        {"gzip;q=0.3, x-gzip;q=0.8, br;q=0.5", all, B},
        {"x-gzip;q=0.8, gzip;q=0.6, br;q=0.5", all, G},
        {"gzip;q=0.8, gzip;q=0.3, br;q=0.5", all, B},
        // identity competes only when listed, and only by a strictly higher q.
        {"gzip;q=0.5, identity", all, I},
        {"gzip;q=0.5, identity;q=0.5", all, G},
        {"gzip, identity;q=0", all, G},
        {"identity;q=0", all, I},
        {"br;q=0.4, identity;q=0.5, gzip;q=0.6", all, G},
        // Bits outside the three codings are ignored.
        {"gzip", 0xf8, I},
        {"gzip", 0xf8 | gzip, G},
        // Unknown tokens.
        {"brotli, gz, zst", all, I},
        {"br-x", all, I},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(testing::Message() << '"' << r.accept << "\" available=" << int(r.available));
        EXPECT_EQ(coding_name(choose_coding(r.accept, r.available)), coding_name(r.want));
    }
}

TEST(CodingNames, Table) {
    struct row {
        content_coding c;
        std::string_view name, suffix;
    };
    const row rows[] = {
        {content_coding::identity, "identity", ""},       {content_coding::br, "br", ".br"},
        {content_coding::zstd, "zstd", ".zst"},           {content_coding::gzip, "gzip", ".gz"},
        {static_cast<content_coding>(3), "identity", ""},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.name);
        EXPECT_EQ(coding_name(r.c), r.name);
        EXPECT_EQ(sidecar_suffix(r.c), r.suffix);
    }
}

} // namespace
