#include "ringlet/tls/client_hello.hpp"
#include "tls/captured_hellos.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::tls {
namespace {

using bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t no_alert = 0;
constexpr std::uint8_t unexpected_message = 10;
constexpr std::uint8_t record_overflow = 22;
constexpr std::uint8_t illegal_parameter = 47;
constexpr std::uint8_t decode_error = 50;
constexpr std::uint8_t protocol_version = 70;

using namespace ringlet::test;

bytes capture(std::span<const std::uint8_t> c) {
    return bytes(c.begin(), c.end());
}

// ---- ClientHello builder ----------------------------------------------------------------------
//
// Assembles a hello from parts, so that every malformed variant below is one tweak of a valid one.

void put8(bytes& b, std::size_t v) {
    b.push_back(static_cast<std::uint8_t>(v & 0xff));
}
void put16(bytes& b, std::size_t v) {
    put8(b, v >> 8);
    put8(b, v);
}
void put24(bytes& b, std::size_t v) {
    put8(b, v >> 16);
    put16(b, v & 0xffff);
}
void append(bytes& b, const bytes& x) {
    b.insert(b.end(), x.begin(), x.end());
}
void append(bytes& b, std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
}
bytes vec8(const bytes& x) {
    bytes b;
    put8(b, x.size());
    append(b, x);
    return b;
}
bytes vec16(const bytes& x) {
    bytes b;
    put16(b, x.size());
    append(b, x);
    return b;
}

struct extension {
    std::uint16_t type;
    bytes data;
};

constexpr std::uint16_t ext_sni = 0;
constexpr std::uint16_t ext_status = 5;
constexpr std::uint16_t ext_groups = 10;
constexpr std::uint16_t ext_alpn = 16;
constexpr std::uint16_t ext_padding = 21;
constexpr std::uint16_t ext_ticket = 35;
constexpr std::uint16_t ext_psk = 41;
constexpr std::uint16_t ext_versions = 43;
constexpr std::uint16_t ext_key_share = 51;
constexpr std::uint16_t grease = 0x0a0a;

constexpr std::uint16_t x25519 = 0x001d;
constexpr std::uint16_t secp256r1 = 0x0017;

extension sni_ext(std::string_view host) {
    bytes entry;
    put8(entry, 0);
    put16(entry, host.size());
    append(entry, host);
    return {ext_sni, vec16(entry)};
}
extension alpn_ext(const std::vector<std::string_view>& names) {
    bytes list;
    for (std::string_view n : names) {
        put8(list, n.size());
        append(list, n);
    }
    return {ext_alpn, vec16(list)};
}
extension groups_ext(const std::vector<std::uint16_t>& groups) {
    bytes list;
    for (std::uint16_t g : groups) put16(list, g);
    return {ext_groups, vec16(list)};
}
extension versions_ext(const std::vector<std::uint16_t>& versions) {
    bytes list;
    for (std::uint16_t v : versions) put16(list, v);
    return {ext_versions, vec8(list)};
}
extension key_share_ext(const std::vector<std::uint16_t>& groups) {
    bytes list;
    for (std::uint16_t g : groups) {
        put16(list, g);
        append(list, vec16(bytes(32, 0x42)));
    }
    return {ext_key_share, vec16(list)};
}
extension psk_ext() {
    // One identity and one binder; the parser only notes the extension's presence.
    bytes ids = vec16(bytes(16, 0x33));
    put24(ids, 0); // obfuscated_ticket_age, 4 bytes with the next byte
    put8(ids, 0);
    bytes body = vec16(ids);
    append(body, vec16(vec8(bytes(32, 0x44))));
    return {ext_psk, body};
}

struct hello_builder {
    std::uint16_t legacy_version = 0x0303;
    bytes random = bytes(32, 0x11);
    bytes session_id = bytes(32, 0x22);
    bytes cipher_suites = {0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2f};
    bytes compression = {0x00};
    bool with_extensions = true;
    std::vector<extension> extensions;
    int extensions_len_delta = 0; // added to the true length of the extensions block
    bytes after_extensions;       // bytes after the extensions block, inside the body

    bytes body() const {
        bytes b;
        put16(b, legacy_version);
        append(b, random);
        append(b, vec8(session_id));
        append(b, vec16(cipher_suites));
        append(b, vec8(compression));
        if (with_extensions) {
            bytes block;
            for (const extension& e : extensions) {
                put16(block, e.type);
                put16(block, e.data.size());
                append(block, e.data);
            }
            put16(b,
                  static_cast<std::size_t>(static_cast<int>(block.size()) + extensions_len_delta));
            append(b, block);
        }
        append(b, after_extensions);
        return b;
    }
    bytes message() const {
        const bytes bd = body();
        bytes m;
        put8(m, 1);
        put24(m, bd.size());
        append(m, bd);
        return m;
    }

    hello_builder& set(extension e) {
        for (extension& x : extensions)
            if (x.type == e.type) {
                x = std::move(e);
                return *this;
            }
        extensions.push_back(std::move(e));
        return *this;
    }
    hello_builder& add(extension e) {
        extensions.push_back(std::move(e));
        return *this;
    }
    hello_builder& remove(std::uint16_t type) {
        std::erase_if(extensions, [&](const extension& e) { return e.type == type; });
        return *this;
    }
};

// Wraps a handshake byte stream into records of type `type`: record i carries sizes[i] bytes (the
// last size repeats); no sizes: one record for everything.
bytes records(const bytes& hs, const std::vector<std::size_t>& sizes = {},
              std::uint16_t version = 0x0301, std::uint8_t type = 22) {
    bytes out;
    std::size_t at = 0;
    for (std::size_t i = 0; at < hs.size(); ++i) {
        std::size_t n = sizes.empty() ? hs.size() : sizes[std::min(i, sizes.size() - 1)];
        n = std::min(n, hs.size() - at);
        put8(out, type);
        put16(out, version);
        put16(out, n);
        out.insert(out.end(), hs.begin() + static_cast<std::ptrdiff_t>(at),
                   hs.begin() + static_cast<std::ptrdiff_t>(at + n));
        at += n;
    }
    return out;
}

bytes record(const hello_builder& h) {
    return records(h.message());
}

// What a parse should report, with owned strings.
struct expect {
    std::string sni;
    bool has_alpn = false;
    std::vector<std::string> alpn;
    bool alpn_truncated = false;
    std::vector<std::uint16_t> groups;
    std::vector<std::uint16_t> key_shares;
    bool tls13 = false;
    std::uint16_t max_version = 0;
    bool status_request = false;
    bool session_ticket = false;
    bool psk = false;
};

hello_builder typical() {
    hello_builder h;
    h.extensions = {sni_ext("example.com"),          {ext_status, {1, 0, 0, 0, 0}},
                    groups_ext({x25519, secp256r1}), {ext_ticket, {}},
                    alpn_ext({"h2", "http/1.1"}),    versions_ext({0x0304, 0x0303}),
                    key_share_ext({x25519})};
    return h;
}
expect typical_expect() {
    expect e;
    e.sni = "example.com";
    e.has_alpn = true;
    e.alpn = {"h2", "http/1.1"};
    e.groups = {x25519, secp256r1};
    e.key_shares = {x25519};
    e.tls13 = true;
    e.max_version = 0x0304;
    e.status_request = true;
    e.session_ticket = true;
    return e;
}

void check_info(const client_hello_info& h, const expect& e) {
    EXPECT_EQ(h.server_name, e.sni);
    EXPECT_EQ(h.has_alpn, e.has_alpn);
    ASSERT_LE(h.alpn_count, max_alpn_protocols);
    EXPECT_EQ(std::vector<std::string>(h.alpn.begin(),
                                       h.alpn.begin() + static_cast<std::ptrdiff_t>(h.alpn_count)),
              e.alpn);
    EXPECT_EQ(h.alpn_truncated, e.alpn_truncated);
    ASSERT_LE(h.group_count, max_groups);
    EXPECT_EQ(std::vector<std::uint16_t>(
                  h.groups.begin(), h.groups.begin() + static_cast<std::ptrdiff_t>(h.group_count)),
              e.groups);
    ASSERT_LE(h.key_share_count, h.key_share_groups.size());
    EXPECT_EQ(std::vector<std::uint16_t>(h.key_share_groups.begin(),
                                         h.key_share_groups.begin() +
                                             static_cast<std::ptrdiff_t>(h.key_share_count)),
              e.key_shares);
    EXPECT_EQ(h.supports_tls13, e.tls13);
    EXPECT_EQ(h.max_version, e.max_version);
    EXPECT_EQ(h.status_request, e.status_request);
    EXPECT_EQ(h.session_ticket, e.session_ticket);
    EXPECT_EQ(h.psk, e.psk);
}

// Every view in `h` lies inside [lo, lo + n).
bool views_inside(const client_hello_info& h, const void* lo, std::size_t n) {
    const char* const b = static_cast<const char*>(lo);
    auto inside = [&](std::string_view v) {
        return v.empty() || (v.data() >= b && v.data() + v.size() <= b + n);
    };
    if (!inside(h.server_name)) return false;
    for (std::size_t i = 0; i < h.alpn_count; ++i)
        if (!inside(h.alpn[i])) return false;
    return true;
}

hello_result parse(const bytes& b, client_hello_info& out, std::string& scratch,
                   std::size_t n = SIZE_MAX) {
    return parse_client_hello(std::span(b.data(), std::min(n, b.size())), out, scratch);
}

const std::vector<std::uint16_t> openssl_groups = {0x001d, 0x0017, 0x001e, 0x0019, 0x0018,
                                                   0x0100, 0x0101, 0x0102, 0x0103, 0x0104};

// ---- good hellos ------------------------------------------------------------------------------

struct good_case {
    std::string name;
    bytes raw;
    expect e;
    std::size_t consumed = 0; // 0: the whole buffer
    bool fragmented = false;  // views point into scratch
};

std::vector<good_case> good_cases() {
    std::vector<good_case> v;
    const expect te = typical_expect();

    expect openssl13;
    openssl13.sni = "example.com";
    openssl13.has_alpn = true;
    openssl13.alpn = {"h2", "http/1.1"};
    openssl13.groups = openssl_groups;
    openssl13.key_shares = {x25519};
    openssl13.tls13 = true;
    openssl13.max_version = 0x0304;
    openssl13.status_request = true;
    openssl13.session_ticket = true;
    v.push_back({"capture_openssl_tls13", capture(openssl_tls13), openssl13});

    expect curl = openssl13;
    curl.sni = "localhost.example";
    curl.status_request = false;
    curl.session_ticket = false;
    v.push_back({"capture_curl", capture(curl_hello), curl});

    expect openssl12;
    openssl12.sni = "www.example.org";
    openssl12.has_alpn = true;
    openssl12.alpn = {"acme-tls/1"};
    openssl12.groups = {0x001d, 0x0017, 0x001e, 0x0019, 0x0018};
    openssl12.max_version = 0x0303;
    openssl12.session_ticket = true;
    v.push_back({"capture_openssl_tls12_acme", capture(openssl_tls12), openssl12});

    expect psk = openssl13;
    psk.status_request = false;
    psk.psk = true;
    v.push_back({"capture_openssl_psk", capture(openssl_psk), psk});

    // The captures re-recorded into several records, as a client (or a censorship-evasion tool)
    // may split them.
    const bytes curl_msg(curl_hello + 5, curl_hello + sizeof curl_hello);
    v.push_back({"curl_two_records", records(curl_msg, {300}), curl, 0, true});
    v.push_back({"curl_three_records", records(curl_msg, {100, 200}), curl, 0, true});
    v.push_back({"curl_sni_split_mid_name", records(curl_msg, {60 + 4 + 5 + 8}), curl, 0, true});
    v.push_back({"curl_header_split", records(curl_msg, {2, 3}), curl, 0, true});
    const bytes psk_msg(openssl_psk + 5, openssl_psk + sizeof openssl_psk);
    v.push_back({"psk_one_byte_records", records(psk_msg, {1}), psk, 0, true});

    v.push_back({"typical", record(typical()), te});
    v.push_back({"typical_two_records", records(typical().message(), {40}), te, 0, true});
    v.push_back({"typical_three_records", records(typical().message(), {30, 50}), te, 0, true});

    {
        // Bytes after the record that completes the hello are not looked at.
        bytes raw = record(typical());
        const std::size_t n = raw.size();
        append(raw, bytes{20, 3, 3, 0, 1, 1, 23, 3, 3, 0xff, 0xff, 0x00});
        v.push_back({"followed_by_other_records", raw, te, n});
    }
    {
        // A record may hold more than the hello; the whole record is consumed.
        bytes hs = typical().message();
        append(hs, bytes{11, 0, 0, 3, 1, 2, 3});
        v.push_back({"extra_handshake_bytes_in_record", records(hs), te});
        // ... also when the hello ends inside a later fragment.
        // The record holding the hello's last byte ends the consumed part.
        const std::size_t k = (typical().message().size() - 1) / 64 + 1; // records needed
        const bytes split = records(hs, {64});
        v.push_back(
            {"extra_bytes_in_last_fragment", split, te, std::min(k * 69, split.size()), true});
    }
    {
        hello_builder h;
        h.with_extensions = false;
        h.legacy_version = 0x0301;
        expect e;
        e.max_version = 0x0301;
        v.push_back({"no_extensions", record(h), e});
        h.with_extensions = true;
        v.push_back({"empty_extensions_block", record(h), e});
    }
    {
        hello_builder h;
        h.session_id = {};
        h.cipher_suites = {0x00, 0x2f};
        h.compression = {0x01, 0x00};
        h.legacy_version = 0x0304; // without supported_versions: max_version as sent
        expect e;
        e.max_version = 0x0304;
        v.push_back({"minimal_fields_legacy_0304", record(h), e});
        h.legacy_version = 0x0402; // a future version negotiates down, RFC 5246 E.1
        e.max_version = 0x0402;
        v.push_back({"legacy_major_4", record(h), e});
    }
    {
        hello_builder h = typical();
        h.set(versions_ext({0x7a7a, 0x0304, 0x0303, 0x7f1c}));
        h.set(groups_ext({grease, x25519}));
        h.set(key_share_ext({grease, x25519}));
        h.extensions.insert(h.extensions.begin(), {grease, {}});
        h.add({0x1a1a, {0}});
        expect e = te;
        e.groups = {grease, x25519};
        e.key_shares = {grease, x25519};
        v.push_back({"grease_everywhere", record(h), e});
    }
    {
        hello_builder h = typical();
        h.set(versions_ext({0x0303, 0x0302}));
        h.remove(ext_key_share);
        expect e = te;
        e.tls13 = false;
        e.max_version = 0x0303;
        e.key_shares = {};
        v.push_back({"versions_tls12_only", record(h), e});
        h.set(versions_ext({0xfafa, 0x0305}));
        e.max_version = 0;
        v.push_back({"versions_none_known", record(h), e});
    }
    {
        hello_builder h = typical();
        h.set({ext_key_share, vec16({})});
        expect e = te;
        e.key_shares = {};
        v.push_back({"key_share_empty_list", record(h), e});
        std::vector<std::uint16_t> ten;
        for (std::uint16_t g = 1; g <= 10; ++g) ten.push_back(g);
        h.set(key_share_ext(ten));
        e.key_shares = {1, 2, 3, 4, 5, 6, 7, 8};
        v.push_back({"key_shares_truncated", record(h), e});
    }
    {
        hello_builder h = typical();
        std::vector<std::uint16_t> forty;
        for (std::uint16_t g = 100; g < 140; ++g) forty.push_back(g);
        h.set(groups_ext(forty));
        expect e = te;
        e.groups.assign(forty.begin(), forty.begin() + 32);
        v.push_back({"groups_truncated", record(h), e});
    }
    {
        hello_builder h = typical();
        std::vector<std::string> names;
        for (int i = 0; i < 17; ++i) names.push_back("p" + std::to_string(i));
        h.set(alpn_ext(std::vector<std::string_view>(names.begin(), names.end())));
        expect e = te;
        e.alpn.assign(names.begin(), names.begin() + 16);
        e.alpn_truncated = true;
        v.push_back({"alpn_truncated", record(h), e});
        names.pop_back();
        h.set(alpn_ext(std::vector<std::string_view>(names.begin(), names.end())));
        e.alpn = names;
        e.alpn_truncated = false;
        v.push_back({"alpn_sixteen", record(h), e});
    }
    {
        hello_builder h = typical();
        h.set(alpn_ext({"http/1.1", "acme-tls/1", std::string_view("\x00\xff", 2)}));
        expect e = te;
        e.alpn = {"http/1.1", "acme-tls/1", std::string("\x00\xff", 2)};
        v.push_back({"alpn_order_and_opaque_bytes", record(h), e});
        h.remove(ext_alpn);
        e.has_alpn = false;
        e.alpn = {};
        v.push_back({"no_alpn", record(h), e});
    }
    {
        hello_builder h = typical();
        h.remove(ext_sni);
        expect e = te;
        e.sni = "";
        v.push_back({"no_sni", record(h), e});
        // A name of another type is skipped; the host_name after it is taken, raw (not
        // lower-cased).
        bytes list = {7, 0, 3, 'a', 'b', 'c', 0, 0, 11};
        append(list, std::string_view("WWW.Ex-1.io"));
        h.set({ext_sni, vec16(list)});
        e.sni = "WWW.Ex-1.io";
        v.push_back({"sni_other_type_first", record(h), e});
        h.set({ext_sni, vec16({9, 0, 0})});
        e.sni = "";
        v.push_back({"sni_only_other_type", record(h), e});
        const std::string longest(255, 'a');
        h.set(sni_ext(longest));
        e.sni = longest;
        v.push_back({"sni_255", record(h), e});
        h.set(sni_ext("!~"));
        e.sni = "!~";
        v.push_back({"sni_printable_edges", record(h), e});
    }
    {
        hello_builder h = typical();
        h.set({ext_status, {}});
        h.add(psk_ext());
        expect e = te;
        e.psk = true;
        v.push_back({"psk_last", record(h), e});
    }
    {
        // 24 distinct unknown extensions: the repeat check sorts instead of comparing pairwise.
        hello_builder h = typical();
        for (std::uint16_t t = 0; t < 24; ++t)
            h.add({static_cast<std::uint16_t>(1000 + 7 * t), {}});
        v.push_back({"many_unknown_extensions", record(h), te});
    }
    {
        // The largest body accepted: max_client_hello bytes, so it needs two records.
        hello_builder h = typical();
        const std::size_t base = h.body().size() + 4;
        h.add({ext_padding, bytes(max_client_hello - base, 0)});
        EXPECT_EQ(h.body().size(), max_client_hello);
        v.push_back({"max_size", records(h.message(), {16384}), te, 0, true});
    }
    {
        // Record versions 0x0300..0x0304 are all accepted.
        for (std::uint16_t rv : {0x0300, 0x0302, 0x0303, 0x0304})
            v.push_back({"record_version_" + std::to_string(rv & 0xff),
                         records(typical().message(), {}, rv), te});
    }
    return v;
}

// Test names instead of a byte dump of the parameter on failure.
void PrintTo(const good_case& c, std::ostream* os) {
    *os << c.name;
}

class good_hello : public ::testing::TestWithParam<good_case> {};

TEST_P(good_hello, parses) {
    const good_case& c = GetParam();
    client_hello_info h;
    std::string scratch = "stale bytes from an earlier connection";
    const hello_result r = parse(c.raw, h, scratch);
    ASSERT_EQ(r.status, hello_status::complete) << "alert " << int(r.alert);
    EXPECT_EQ(r.consumed, c.consumed ? c.consumed : c.raw.size());
    EXPECT_EQ(r.alert, 0);
    check_info(h, c.e);
    if (c.fragmented)
        EXPECT_TRUE(views_inside(h, scratch.data(), scratch.size()));
    else
        EXPECT_TRUE(views_inside(h, c.raw.data(), c.raw.size()));
}

// Every prefix shorter than the records carrying the hello is incomplete; from there on, every
// longer buffer gives the same complete answer.
TEST_P(good_hello, incremental) {
    const good_case& c = GetParam();
    const std::size_t end = c.consumed ? c.consumed : c.raw.size();
    client_hello_info h;
    std::string scratch;
    for (std::size_t n = 0; n < end; ++n) {
        const hello_result r = parse(c.raw, h, scratch, n);
        ASSERT_EQ(r.status, hello_status::incomplete)
            << "prefix " << n << " alert " << int(r.alert);
        ASSERT_EQ(r.alert, 0) << "prefix " << n;
    }
    for (std::size_t n = end; n <= c.raw.size(); ++n) {
        const hello_result r = parse(c.raw, h, scratch, n);
        ASSERT_EQ(r.status, hello_status::complete) << "prefix " << n;
        ASSERT_EQ(r.consumed, end) << "prefix " << n;
    }
    check_info(h, c.e);
}

INSTANTIATE_TEST_SUITE_P(table, good_hello, ::testing::ValuesIn(good_cases()),
                         [](const auto& info) { return info.param.name; });

// ---- rejected input ---------------------------------------------------------------------------

struct bad_case {
    std::string name;
    bytes raw;
    hello_status status;
    std::uint8_t alert;
};

bytes text(std::string_view s) {
    return bytes(s.begin(), s.end());
}

bytes random_bytes(unsigned seed, std::size_t n) {
    std::mt19937 rng(seed);
    bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng() & 0xff);
    return b;
}

// A typical hello with extension `type` replaced by raw extension data.
bytes with_ext(std::uint16_t type, bytes data) {
    hello_builder h = typical();
    h.set({type, std::move(data)});
    return record(h);
}

std::vector<bad_case> bad_cases() {
    using enum hello_status;
    const bytes msg = typical().message();
    std::vector<bad_case> v = {
        // Not TLS at all.
        {"http_get", text("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), not_tls, no_alert},
        {"http_one_byte", text("G"), not_tls, no_alert},
        {"proxy_v1", text("PROXY TCP4 192.0.2.1 192.0.2.2 1234 443\r\n"), not_tls, no_alert},
        {"random_bytes_seed_1", random_bytes(1, 64), not_tls, no_alert},    // 0x25 ...
        {"random_high_bit_seed_2", random_bytes(2, 64), not_tls, no_alert}, // 0xa8 0x0f 0xed
        {"record_major_2", {22, 2, 0, 0, 40}, not_tls, no_alert},
        {"dtls_record", {22, 0xfe, 0xfd, 0, 0}, not_tls, no_alert},
        // SSLv2-compatible CLIENT-HELLO: 2-byte header 0x802e, MSG-CLIENT-HELLO, version 3.1,
        // cipher-spec length 21, session-id length 0, challenge length 16.
        {"sslv2_compat_hello",
         {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10, 0x07, 0x00,
          0xc0, 0x05, 0x00, 0x80, 0x03, 0x00, 0x80, 0x01, 0x00, 0x80, 0x06, 0x00, 0x40,
          0x04, 0x00, 0x80, 0x02, 0x00, 0x80, 0x00, 0x00, 0x2f, 0x11, 0x22, 0x33, 0x44,
          0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00},
         not_tls,
         protocol_version},
        {"sslv2_header_other_message", {0x80, 0x2e, 0x02, 0x03, 0x01}, not_tls, no_alert},
        // Record layer.
        {"record_version_0305", records(msg, {}, 0x0305), malformed, protocol_version},
        {"record_length_zero", {22, 3, 1, 0, 0, 1, 0, 0, 0}, malformed, decode_error},
        {"record_length_16385", {22, 3, 1, 0x40, 0x01, 1, 0, 0x40, 0}, malformed, record_overflow},
        {"record_length_huge", {22, 3, 1, 0xff, 0xff}, malformed, record_overflow},
        {"second_record_not_handshake", records(msg, {40}), malformed, unexpected_message},
        {"second_record_bad_major", records(msg, {40}), malformed, protocol_version},
        {"second_record_bad_minor", records(msg, {40}), malformed, protocol_version},
        {"second_record_length_zero", records(msg, {40}), malformed, decode_error},
        // Handshake layer.
        {"server_hello", records({2, 0, 0, 2, 3, 3}), malformed, unexpected_message},
        {"finished_first", records({20, 0, 0, 1}), malformed, unexpected_message},
        {"too_large_header_only",
         {22, 3, 1, 0x40, 0x00, 1, 0x00, 0x40, 0x01},
         too_large,
         illegal_parameter},
        {"too_large_huge",
         {22, 3, 1, 0x00, 0x04, 1, 0xff, 0xff, 0xff},
         too_large,
         illegal_parameter},
        {"empty_body", records({1, 0, 0, 0}), malformed, decode_error},
    };
    // Patch the second record of the fragmented variants: header at 5 + 40.
    for (bad_case& c : v) {
        if (c.name == "second_record_not_handshake") c.raw[45] = 23;
        if (c.name == "second_record_bad_major") c.raw[46] = 2;
        if (c.name == "second_record_bad_minor") c.raw[47] = 9;
        if (c.name == "second_record_length_zero") {
            c.raw[48] = 0;
            c.raw[49] = 0;
        }
    }
    {
        bytes big = typical().message();
        big[1] = 0x00;
        big[2] = 0x40;
        big[3] = 0x01; // declares 16385 bytes; the records carry all of it
        big.resize(4 + 16385, 0);
        v.push_back({"too_large_complete", records(big, {16384}), too_large, illegal_parameter});
    }

    auto body = [&](std::string name, hello_builder h, std::uint8_t alert) {
        v.push_back({std::move(name), record(h), malformed, alert});
    };
    auto ext = [&](std::string name, std::uint16_t type, bytes data, std::uint8_t alert) {
        v.push_back({std::move(name), with_ext(type, std::move(data)), malformed, alert});
    };
    hello_builder h = typical();

    // ClientHello fields.
    h = typical();
    h.legacy_version = 0x0300;
    body("legacy_version_ssl3", h, protocol_version);
    h.legacy_version = 0x0002;
    body("legacy_version_sslv2", h, protocol_version);
    h = typical();
    h.session_id = bytes(33, 1);
    body("session_id_33", h, decode_error);
    h = typical();
    h.cipher_suites = {0x13, 0x01, 0x13};
    body("cipher_suites_odd", h, decode_error);
    h.cipher_suites = {};
    body("cipher_suites_empty", h, decode_error);
    h = typical();
    h.compression = {};
    body("compression_empty", h, decode_error);
    h = typical();
    h.with_extensions = false;
    h.after_extensions = {0x00};
    body("one_byte_after_compression", h, decode_error);
    h = typical();
    h.extensions_len_delta = -1;
    body("extensions_len_short", h, decode_error);
    h.extensions_len_delta = 1;
    body("extensions_len_long", h, decode_error);
    h.extensions_len_delta = 0;
    h.after_extensions = {0, 0, 0, 0};
    body("trailing_garbage_after_extensions", h, decode_error);
    {
        // The last extension declares one byte more than the block holds.
        hello_builder t = typical();
        t.add({0x4444, {1, 2, 3}});
        bytes m = t.message();
        m.back() = 0;
        m.pop_back();
        // Fix up the handshake length and the extensions length so only the extension lies.
        const std::size_t body_len = m.size() - 4;
        m[1] = static_cast<std::uint8_t>(body_len >> 16);
        m[2] = static_cast<std::uint8_t>(body_len >> 8);
        m[3] = static_cast<std::uint8_t>(body_len);
        const std::size_t ext_at = 4 + 2 + 32 + 1 + 32 + 2 + 8 + 2;
        const std::size_t ext_len = m.size() - ext_at - 2;
        m[ext_at] = static_cast<std::uint8_t>(ext_len >> 8);
        m[ext_at + 1] = static_cast<std::uint8_t>(ext_len);
        v.push_back({"extension_truncated", records(m), malformed, decode_error});
    }
    h = typical();
    h.after_extensions = {};
    h.add({0x4444, {}});
    h.extensions_len_delta = 2;
    h.after_extensions = {0x00, 0x01};
    body("extension_header_truncated", h, decode_error);

    // Repeated extensions and pre_shared_key placement.
    h = typical();
    h.add(sni_ext("other.example"));
    body("duplicate_sni", h, illegal_parameter);
    h = typical();
    h.add({ext_status, {}});
    body("duplicate_status_request", h, illegal_parameter);
    h = typical();
    h.add({grease, {}}).add({grease, {0}});
    body("duplicate_grease", h, illegal_parameter);
    h = typical();
    for (std::uint16_t t = 0; t < 24; ++t) h.add({static_cast<std::uint16_t>(1000 + 7 * t), {}});
    h.add({1000 + 7 * 5, {}});
    body("duplicate_among_many_unknown", h, illegal_parameter);
    h = typical();
    h.extensions.insert(h.extensions.begin() + 2, psk_ext());
    body("psk_not_last", h, illegal_parameter);
    h = typical();
    h.add(psk_ext()).add({0x4444, {}});
    body("psk_before_unknown", h, illegal_parameter);

    // server_name.
    ext("sni_no_data", ext_sni, {}, decode_error);
    ext("sni_list_len_zero", ext_sni, {0, 0}, decode_error);
    ext("sni_list_len_long", ext_sni, {0, 5, 0, 0, 1, 'a'}, decode_error);
    ext("sni_list_len_short", ext_sni, {0, 3, 0, 0, 1, 'a'}, decode_error);
    ext("sni_name_overruns_list", ext_sni, {0, 4, 0, 0, 2, 'a'}, decode_error);
    ext("sni_entry_header_truncated", ext_sni, {0, 2, 0, 0}, decode_error);
    ext("sni_empty_name", ext_sni, {0, 3, 0, 0, 0}, decode_error);
    ext("sni_space", ext_sni, sni_ext("a b").data, illegal_parameter);
    ext("sni_nul", ext_sni, sni_ext(std::string_view("a\0b", 3)).data, illegal_parameter);
    ext("sni_del", ext_sni, sni_ext("a\x7f").data, illegal_parameter);
    ext("sni_utf8", ext_sni, sni_ext("caf\xc3\xa9.example").data, illegal_parameter);
    ext("sni_256", ext_sni, sni_ext(std::string(256, 'a')).data, illegal_parameter);
    ext("sni_two_host_names", ext_sni, vec16({0, 0, 1, 'a', 0, 0, 1, 'b'}), illegal_parameter);
    ext("sni_trailing_byte", ext_sni, {0, 4, 0, 0, 1, 'a', 0}, decode_error);

    // ALPN: the list shapes wolfSSL 5.x must not see (CVE-2026-3547).
    ext("alpn_no_data", ext_alpn, {}, decode_error);
    ext("alpn_list_len_only", ext_alpn, {0, 0}, decode_error);
    ext("alpn_list_len_one", ext_alpn, {0, 1, 0}, decode_error);
    ext("alpn_list_len_long", ext_alpn, {0, 4, 2, 'h', '2'}, decode_error);
    ext("alpn_list_len_short", ext_alpn, {0, 2, 2, 'h', '2'}, decode_error);
    ext("alpn_list_len_huge", ext_alpn, {0xff, 0xff, 2, 'h', '2'}, decode_error);
    ext("alpn_empty_protocol", ext_alpn, {0, 4, 2, 'h', '2', 0}, decode_error);
    ext("alpn_empty_protocol_first", ext_alpn, {0, 4, 0, 2, 'h', '2'}, decode_error);
    ext("alpn_name_overruns_list", ext_alpn, {0, 5, 2, 'h', '2', 9, 'h'}, decode_error);
    ext("alpn_name_overruns_extension", ext_alpn, {0, 3, 2, 'h', '2', 'x'}, decode_error);
    ext("alpn_trailing_byte", ext_alpn, {0, 3, 2, 'h', '2', 0}, decode_error);

    // supported_groups, supported_versions, key_share.
    ext("groups_no_data", ext_groups, {}, decode_error);
    ext("groups_empty", ext_groups, {0, 0}, decode_error);
    ext("groups_odd", ext_groups, {0, 3, 0, 0x1d, 0}, decode_error);
    ext("groups_len_mismatch", ext_groups, {0, 2, 0, 0x1d, 0, 0x17}, decode_error);
    ext("versions_no_data", ext_versions, {}, decode_error);
    ext("versions_empty", ext_versions, {0}, decode_error);
    ext("versions_odd", ext_versions, {3, 3, 4, 3}, decode_error);
    ext("versions_len_mismatch", ext_versions, {4, 3, 4}, decode_error);
    ext("versions_two_byte_length", ext_versions, {0, 2, 3, 4}, decode_error);
    ext("key_share_no_data", ext_key_share, {}, decode_error);
    ext("key_share_len_mismatch", ext_key_share, {0, 7, 0, 0x1d, 0, 1, 9}, decode_error);
    ext("key_share_empty_key", ext_key_share, {0, 4, 0, 0x1d, 0, 0}, decode_error);
    ext("key_share_key_overruns", ext_key_share, {0, 5, 0, 0x1d, 0, 2, 9}, decode_error);
    ext("key_share_entry_truncated", ext_key_share, {0, 3, 0, 0x1d, 0}, decode_error);

    // A defect inside a fragmented hello is found once reassembled.
    {
        hello_builder f = typical();
        f.set({ext_alpn, {0, 5, 2, 'h', '2', 9, 'h'}});
        v.push_back(
            {"alpn_overrun_fragmented", records(f.message(), {50, 7}), malformed, decode_error});
    }
    return v;
}

void PrintTo(const bad_case& c, std::ostream* os) {
    *os << c.name;
}

class bad_hello : public ::testing::TestWithParam<bad_case> {};

TEST_P(bad_hello, is_rejected) {
    const bad_case& c = GetParam();
    client_hello_info h;
    std::string scratch;
    const hello_result r = parse(c.raw, h, scratch);
    ASSERT_EQ(r.status, c.status) << "alert " << int(r.alert);
    EXPECT_EQ(r.alert, c.alert);
    EXPECT_EQ(r.consumed, 0u);
}

// Fed a byte at a time, the input never completes, and any final answer is the final one.
TEST_P(bad_hello, prefixes_agree) {
    const bad_case& c = GetParam();
    client_hello_info h;
    std::string scratch;
    for (std::size_t n = 0; n <= c.raw.size(); ++n) {
        const hello_result r = parse(c.raw, h, scratch, n);
        ASSERT_NE(r.status, hello_status::complete) << "prefix " << n;
        if (r.status != hello_status::incomplete) {
            ASSERT_EQ(r.status, c.status) << "prefix " << n;
            ASSERT_EQ(r.alert, c.alert) << "prefix " << n;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(table, bad_hello, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return info.param.name; });

// ---- specifics --------------------------------------------------------------------------------

TEST(client_hello, decisions_before_the_record_is_complete) {
    client_hello_info h;
    std::string scratch;
    const bytes too_large = {22, 3, 1, 0x40, 0x00, 1, 0x00, 0x40, 0x01};
    EXPECT_EQ(parse(too_large, h, scratch, 8).status, hello_status::incomplete);
    EXPECT_EQ(parse(too_large, h, scratch).status, hello_status::too_large);
    EXPECT_EQ(parse(bytes{22, 3, 1, 0x40, 0x00}, h, scratch).status, hello_status::incomplete);
    EXPECT_EQ(parse(bytes{22, 3, 1, 0x40, 0x01}, h, scratch).status, hello_status::malformed);
    EXPECT_EQ(parse(bytes{22, 3, 1, 0, 50, 2}, h, scratch).alert, unexpected_message);
    EXPECT_EQ(parse(bytes{22}, h, scratch).status, hello_status::incomplete);
    EXPECT_EQ(parse(bytes{22, 3}, h, scratch).status, hello_status::incomplete);
    EXPECT_EQ(parse(bytes{0x80, 0x2e}, h, scratch).status, hello_status::incomplete);
    EXPECT_EQ(parse(bytes{}, h, scratch).status, hello_status::incomplete);
    EXPECT_EQ(parse_client_hello({}, h, scratch).status, hello_status::incomplete);
}

TEST(client_hello, scratch_only_used_when_fragmented) {
    client_hello_info h;
    std::string scratch = "untouched";
    const bytes one = capture(curl_hello);
    ASSERT_EQ(parse(one, h, scratch).status, hello_status::complete);
    EXPECT_EQ(scratch, "untouched");
    EXPECT_TRUE(views_inside(h, one.data(), one.size()));

    const bytes two = records(bytes(one.begin() + 5, one.end()), {256});
    ASSERT_EQ(parse(two, h, scratch).status, hello_status::complete);
    EXPECT_EQ(scratch.size(), one.size() - 5);
    EXPECT_TRUE(views_inside(h, scratch.data(), scratch.size()));
    EXPECT_EQ(h.server_name, "localhost.example");

    // Reused without growing for a hello of the same size.
    const char* const before = scratch.data();
    ASSERT_EQ(parse(two, h, scratch).status, hello_status::complete);
    EXPECT_EQ(scratch.data(), before);
}

TEST(client_hello, out_is_reset_between_parses) {
    client_hello_info h;
    std::string scratch;
    const bytes psk = capture(openssl_psk);
    ASSERT_EQ(parse(psk, h, scratch).status, hello_status::complete);
    hello_builder bare;
    bare.with_extensions = false;
    const bytes raw = record(bare);
    ASSERT_EQ(parse(raw, h, scratch).status, hello_status::complete);
    check_info(h, expect{.max_version = 0x0303});
}

TEST(offers_alpn, lookup) {
    client_hello_info h;
    std::string scratch;
    // The views point into the parsed buffer, so it must outlive the lookups.
    const bytes tls12 = capture(openssl_tls12);
    ASSERT_EQ(parse(tls12, h, scratch).status, hello_status::complete);
    EXPECT_TRUE(offers_alpn(h, "acme-tls/1"));
    EXPECT_FALSE(offers_alpn(h, "h2"));
    EXPECT_FALSE(offers_alpn(h, "acme-tls"));
    EXPECT_FALSE(offers_alpn(h, ""));
    const bytes tls13 = capture(openssl_tls13);
    ASSERT_EQ(parse(tls13, h, scratch).status, hello_status::complete);
    EXPECT_TRUE(offers_alpn(h, "h2"));
    EXPECT_TRUE(offers_alpn(h, "http/1.1"));
    EXPECT_FALSE(offers_alpn(h, "HTTP/1.1"));
    EXPECT_FALSE(offers_alpn(h, "acme-tls/1"));
    EXPECT_FALSE(offers_alpn(client_hello_info{}, "h2"));
}

// Random buffers: never complete; a first byte that is neither 22 nor has the high bit set is
// not_tls without an alert.
TEST(client_hello, random_bytes) {
    client_hello_info h;
    std::string scratch;
    for (unsigned seed = 0; seed < 2000; ++seed) {
        const bytes b = random_bytes(seed, 1 + seed % 200);
        const hello_result r = parse(b, h, scratch);
        ASSERT_NE(r.status, hello_status::complete) << "seed " << seed;
        if (b[0] != 22 && !(b[0] & 0x80)) {
            ASSERT_EQ(r.status, hello_status::not_tls) << "seed " << seed;
            ASSERT_EQ(r.alert, 0) << "seed " << seed;
        }
    }
}

// ---- robustness -------------------------------------------------------------------------------

// Random byte mutations of valid hellos, single-record and fragmented: the parser must stay in
// bounds (run under ASan), its views must lie inside the buffer or the scratch, and the prefix
// contract must hold: once a prefix gives a final answer, the whole buffer gives the same one.
TEST(client_hello, mutations_keep_prefix_contract) {
    const bytes curl_msg(curl_hello + 5, curl_hello + sizeof curl_hello);
    const bytes seeds[] = {
        capture(openssl_tls13),
        capture(openssl_psk),
        records(curl_msg, {200, 150}),
        record(typical()),
    };
    const std::uint8_t alphabet[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x10, 0x16, 0x20,
                                     0x29, 0x2b, 0x33, 0x40, 0x7f, 0x80, 0xfe, 0xff};
    std::mt19937 rng(20261128);
    for (int iter = 0; iter < 1200; ++iter) {
        bytes buf = seeds[iter % 4];
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = rng() % buf.size();
            const std::uint8_t ch = alphabet[rng() % sizeof alphabet];
            switch (rng() % 4) {
            case 0:
            case 1:
                buf[at] = ch;
                break;
            case 2:
                buf.insert(buf.begin() + static_cast<std::ptrdiff_t>(at), ch);
                break;
            default:
                buf.erase(buf.begin() + static_cast<std::ptrdiff_t>(at),
                          buf.begin() + static_cast<std::ptrdiff_t>(
                                            std::min(buf.size(), at + 1 + rng() % 3)));
                break;
            }
            if (buf.empty()) buf = {22};
        }
        client_hello_info h;
        std::string scratch;
        const hello_result full = parse(buf, h, scratch);
        if (full.status == hello_status::complete) {
            ASSERT_LE(full.consumed, buf.size());
            ASSERT_TRUE(views_inside(h, buf.data(), full.consumed) ||
                        views_inside(h, scratch.data(), scratch.size()));
            if (!h.server_name.empty()) {
                ASSERT_LE(h.server_name.size(), 255u);
                for (char ch : h.server_name) ASSERT_TRUE(ch >= 0x21 && ch <= 0x7e);
            }
            for (std::size_t i = 0; i < h.alpn_count; ++i) ASSERT_FALSE(h.alpn[i].empty());
        }
        for (std::size_t n = 0; n < buf.size(); ++n) {
            const hello_result p = parse(buf, h, scratch, n);
            if (p.status == hello_status::incomplete) continue;
            ASSERT_EQ(p.status, full.status) << "iter " << iter << " prefix " << n;
            ASSERT_EQ(p.consumed, full.consumed) << "iter " << iter << " prefix " << n;
            ASSERT_EQ(p.alert, full.alert) << "iter " << iter << " prefix " << n;
        }
    }
}

} // namespace
} // namespace ringlet::tls
