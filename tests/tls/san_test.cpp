#include "ringlet/tls/san.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

using namespace ringlet::tls;

namespace {

using bytes = std::vector<unsigned char>;

bytes tlv(unsigned char tag, const bytes& body) {
    bytes out{tag};
    if (body.size() < 0x80) {
        out.push_back(static_cast<unsigned char>(body.size()));
    } else {
        out.push_back(0x82);
        out.push_back(static_cast<unsigned char>(body.size() >> 8));
        out.push_back(static_cast<unsigned char>(body.size()));
    }
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

bytes cat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// A certificate skeleton whose subject holds `subject_bytes` and whose extensions are `exts`.
bytes certificate(const bytes& subject_bytes, const bytes& exts) {
    bytes alg = tlv(0x30, tlv(0x06, {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}));
    bytes subject = tlv(
        0x30, tlv(0x31, tlv(0x30, cat({tlv(0x06, {0x55, 0x04, 0x03}), tlv(0x0c, subject_bytes)}))));
    bytes tbs = tlv(0x30, cat({tlv(0xa0, tlv(0x02, {0x02})), tlv(0x02, {0x01}), alg, tlv(0x30, {}),
                               tlv(0x30, {}), subject, tlv(0x30, {}),
                               exts.empty() ? bytes{} : tlv(0xa3, tlv(0x30, exts))}));
    return tlv(0x30, cat({tbs, alg, tlv(0x03, {0x00})}));
}

bytes san_extension(const bytes& general_names, bool critical = false) {
    return tlv(0x30, cat({tlv(0x06, {0x55, 0x1d, 0x11}), critical ? tlv(0x01, {0xff}) : bytes{},
                          tlv(0x04, tlv(0x30, general_names))}));
}

} // namespace

TEST(alt_names, reads_dns_and_ip_entries) {
    bytes names = cat({tlv(0x82, {'a', '.', 't', 'e', 's', 't'}), tlv(0x87, {127, 0, 0, 1})});
    bytes other = tlv(0x30, cat({tlv(0x06, {0x55, 0x1d, 0x13}), tlv(0x04, tlv(0x30, {}))}));
    alt_names out;
    ASSERT_TRUE(read_alt_names(certificate({'x'}, cat({other, san_extension(names, true)})), out));
    ASSERT_EQ(out.dns.size(), 1u);
    EXPECT_EQ(out.dns[0], "a.test");
    ASSERT_EQ(out.ip.size(), 1u);
    EXPECT_EQ(out.ip[0], (bytes{127, 0, 0, 1}));
}

TEST(alt_names, a_forged_list_elsewhere_in_the_certificate_is_not_read) {
    // The SAN extension's bytes, including an iPAddress of 127.0.0.1, planted in the subject.
    bytes forged = san_extension(tlv(0x87, {127, 0, 0, 1}));
    bytes real = san_extension(tlv(0x82, {'a', '.', 't', 'e', 's', 't'}));
    alt_names out;
    ASSERT_TRUE(read_alt_names(certificate(forged, real), out));
    EXPECT_TRUE(out.ip.empty());
    EXPECT_EQ(out.dns, std::vector<std::string>{"a.test"});
    // Without a real extension: nothing, even though the bytes are there.
    alt_names none;
    ASSERT_TRUE(read_alt_names(certificate(forged, {}), none));
    EXPECT_TRUE(none.ip.empty() && none.dns.empty());
}

TEST(alt_names, malformed_der_is_refused_at_every_truncation) {
    bytes good = certificate({'x'}, san_extension(tlv(0x82, {'a'})));
    for (std::size_t n = 0; n < good.size(); ++n) {
        alt_names out;
        EXPECT_FALSE(read_alt_names({good.data(), n}, out)) << n;
    }
}
