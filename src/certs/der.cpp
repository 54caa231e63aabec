#include "ringlet/certs/der.hpp"

#include "ringlet/base/civil.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

namespace ringlet::certs::der {

// ---- writing --------------------------------------------------------------------------------

void append_length(bytes& out, std::size_t n) {
    if (n < 0x80) {
        out.push_back(static_cast<std::uint8_t>(n));
        return;
    }
    std::uint8_t be[sizeof(std::size_t)];
    int k = 0;
    for (; n != 0; n >>= 8) be[k++] = static_cast<std::uint8_t>(n);
    out.push_back(static_cast<std::uint8_t>(0x80 | k));
    while (k > 0) out.push_back(be[--k]);
}

void append(bytes& out, byte_view b) {
    out.insert(out.end(), b.begin(), b.end());
}

bytes tlv(std::uint8_t t, std::initializer_list<byte_view> parts) {
    std::size_t n = 0;
    for (byte_view p : parts) n += p.size();
    bytes out;
    out.reserve(n + 6);
    out.push_back(t);
    append_length(out, n);
    for (byte_view p : parts) append(out, p);
    return out;
}

bytes make_name(std::string_view organization, std::string_view common_name) {
    bytes rdns;
    auto add = [&](byte_view oid, std::string_view value) {
        if (value.empty()) return;
        append(rdns, tlv(tag::set,
                         {tlv(tag::sequence, {oid, tlv(tag::utf8_string, {as_bytes(value)})})}));
    };
    add(oid::organization, organization);
    add(oid::common_name, common_name);
    return tlv(tag::sequence, {rdns});
}

bytes extension(byte_view oid, bool critical, byte_view value) {
    static constexpr std::uint8_t der_true[] = {tag::boolean, 0x01, 0xff};
    bytes wrapped = tlv(tag::octet_string, {value});
    if (critical) return tlv(tag::sequence, {oid, der_true, wrapped});
    return tlv(tag::sequence, {oid, wrapped});
}

bytes tbs_certificate(const tbs_fields& f) {
    static constexpr std::uint8_t version_v3[] = {tag::ctx0, 0x03, tag::integer, 0x01, 0x02};
    return tlv(tag::sequence, {version_v3, tlv(tag::integer, {f.serial}), alg_ecdsa_sha256,
                               f.issuer, tlv(tag::sequence, {f.not_before, f.not_after}), f.subject,
                               f.spki, tlv(tag::ctx3, {tlv(tag::sequence, {f.extensions})})});
}

namespace {

// Error messages quote caller-supplied names; keep control bytes out of the logs.
std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        }
    }
    return out;
}

// Lower-cased LDH name, one trailing dot dropped, optionally "*." + name; empty if invalid.
std::string normalize_dns_name(std::string_view in) {
    if (!in.empty() && in.back() == '.') in.remove_suffix(1);
    if (in.empty() || in.size() > 253) return {};
    std::string out(in);
    std::size_t label_start = 0;
    for (std::size_t i = 0; i <= out.size(); ++i) {
        if (i < out.size() && out[i] != '.') {
            char& c = out[i];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            continue;
        }
        std::string_view label(out.data() + label_start, i - label_start);
        const bool first = label_start == 0;
        const bool last = i == out.size();
        label_start = i + 1;
        if (label.empty() || label.size() > 63) return {};
        if (label == "*") {
            if (!first || last) return {}; // wildcard: the whole leftmost label, not the only one
            continue;
        }
        if (label.front() == '-' || label.back() == '-') return {};
        bool all_digits = true;
        for (char c : label) {
            const bool digit = c >= '0' && c <= '9';
            all_digits = all_digits && digit;
            if (!digit && !(c >= 'a' && c <= 'z') && c != '-') return {};
        }
        if (last && all_digits) return {}; // "10.0.0" is a mistyped address, not a host
    }
    return out;
}

} // namespace

result<bytes> general_names(std::span<const std::string> names, std::string& first,
                            std::string& error) {
    if (names.empty()) {
        error = "no names to certify";
        return unexpected{std::make_error_code(std::errc::invalid_argument)};
    }
    bytes out;
    std::vector<bytes> seen;
    for (const std::string& name : names) {
        bytes entry;
        std::string canonical;
        std::uint8_t ip[16];
        char text[INET6_ADDRSTRLEN];
        if (name.find('\0') != std::string::npos) {
            // fall through to the error below: inet_pton would stop at the NUL
        } else if (name.find(':') != std::string::npos) {
            if (::inet_pton(AF_INET6, name.c_str(), ip) == 1) {
                entry = tlv(tag::ip_address, {byte_view(ip, 16)});
                canonical = ::inet_ntop(AF_INET6, ip, text, sizeof text);
            }
        } else if (::inet_pton(AF_INET, name.c_str(), ip) == 1) {
            entry = tlv(tag::ip_address, {byte_view(ip, 4)});
            canonical = ::inet_ntop(AF_INET, ip, text, sizeof text);
        } else if (canonical = normalize_dns_name(name); !canonical.empty()) {
            entry = tlv(tag::dns_name, {as_bytes(canonical)});
        }
        if (entry.empty()) {
            // (appended piecewise: g++ 12 warns falsely on "literal" + std::string&&)
            error.assign(1, '"').append(printable(name));
            error += "\" is neither a DNS name nor an IP address";
            return unexpected{std::make_error_code(std::errc::invalid_argument)};
        }
        if (std::find(seen.begin(), seen.end(), entry) != seen.end()) continue;
        if (seen.empty()) first = canonical;
        append(out, entry);
        seen.push_back(std::move(entry));
    }
    return tlv(tag::sequence, {out});
}

// ---- time -----------------------------------------------------------------------------------

namespace {

struct civil_time {
    std::int64_t year;
    unsigned month, day, hour, minute, second;
};

civil_time civil_from_unix(std::int64_t t) {
    civil::date_time c = civil::from_unix(t);
    return {c.d.year,
            static_cast<unsigned>(c.d.month),
            static_cast<unsigned>(c.d.day),
            static_cast<unsigned>(c.hour),
            static_cast<unsigned>(c.minute),
            static_cast<unsigned>(c.second)};
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    return civil::days_from_civil(y, static_cast<int>(m), static_cast<int>(d));
}

bool parse_digits(byte_view s, std::size_t at, std::size_t n, unsigned& out) {
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

} // namespace

std::string format_time(std::int64_t t) {
    civil_time c = civil_from_unix(t);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02u:%02u:%02u UTC",
                  static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second);
    return buf;
}

bytes encode_time(std::int64_t t) {
    civil_time c = civil_from_unix(t);
    if (c.year < 1 || c.year > 9999) return {};
    char buf[24];
    if (c.year >= 1950 && c.year <= 2049) {
        std::snprintf(buf, sizeof buf, "%02u%02u%02u%02u%02u%02uZ",
                      static_cast<unsigned>(c.year % 100), c.month, c.day, c.hour, c.minute,
                      c.second);
        return tlv(tag::utc_time, {as_bytes(buf)});
    }
    std::snprintf(buf, sizeof buf, "%04u%02u%02u%02u%02u%02uZ", static_cast<unsigned>(c.year),
                  c.month, c.day, c.hour, c.minute, c.second);
    return tlv(tag::generalized_time, {as_bytes(buf)});
}

bool decode_time(std::uint8_t t, byte_view s, std::int64_t& out) {
    unsigned year = 0, month, day, hour, minute, second;
    std::size_t at = 0;
    if (t == tag::utc_time && s.size() == 13) {
        if (!parse_digits(s, 0, 2, year)) return false;
        year += year < 50 ? 2000 : 1900;
        at = 2;
    } else if (t == tag::generalized_time && s.size() == 15) {
        if (!parse_digits(s, 0, 4, year)) return false;
        at = 4;
    } else {
        return false;
    }
    if (!parse_digits(s, at, 2, month) || !parse_digits(s, at + 2, 2, day) ||
        !parse_digits(s, at + 4, 2, hour) || !parse_digits(s, at + 6, 2, minute) ||
        !parse_digits(s, at + 8, 2, second) || s[at + 10] != 'Z')
        return false;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
        return false;
    out = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    return true;
}

// ---- reading --------------------------------------------------------------------------------

bool reader::next(std::uint8_t t, byte_view& content, byte_view* whole) {
    if (rest.size() < 2 || rest[0] != t) return false;
    std::size_t len = rest[1];
    std::size_t header = 2;
    if (len & 0x80) {
        const std::size_t k = len & 0x7f;
        if (k == 0 || k > 4 || rest.size() < 2 + k) return false; // no indefinite lengths
        len = 0;
        for (std::size_t i = 0; i < k; ++i) len = len << 8 | rest[2 + i];
        header += k;
    }
    if (len > rest.size() - header) return false;
    content = rest.subspan(header, len);
    if (whole) *whole = rest.first(header + len);
    rest = rest.subspan(header + len);
    return true;
}

bool reader::skip_optional(std::uint8_t t) {
    byte_view ignored;
    return !peek(t) || next(t, ignored);
}

bool equal(byte_view a, byte_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

namespace {

bool parse_extensions(byte_view wrapped, parsed_cert& out) {
    reader w{wrapped};
    byte_view list;
    if (!w.next(tag::sequence, list) || !w.at_end()) return false;
    reader r{list};
    while (!r.at_end()) {
        byte_view ext, id, value;
        if (!r.next(tag::sequence, ext)) return false;
        reader e{ext};
        byte_view id_whole;
        if (!e.next(tag::oid, id, &id_whole) || !e.skip_optional(tag::boolean) ||
            !e.next(tag::octet_string, value) || !e.at_end())
            return false;
        if (equal(id_whole, oid::subject_key_id)) {
            reader v{value};
            if (!v.next(tag::octet_string, out.key_id) || !v.at_end()) return false;
        }
    }
    return true;
}

} // namespace

bool parse_certificate(byte_view der, parsed_cert& out) {
    reader top{der};
    byte_view cert, tbs, ignored, validity, signature;
    if (!top.next(tag::sequence, cert) || !top.at_end()) return false;
    reader c{cert};
    if (!c.next(tag::sequence, tbs, &out.tbs) || !c.next(tag::sequence, ignored, &out.sig_alg) ||
        !c.next(tag::bit_string, signature) || !c.at_end())
        return false;
    if (signature.empty() || signature[0] != 0) return false;
    out.signature = signature.subspan(1);

    reader t{tbs};
    if (!t.skip_optional(tag::ctx0) || !t.next(tag::integer, ignored) ||
        !t.next(tag::sequence, ignored) || !t.next(tag::sequence, ignored, &out.issuer) ||
        !t.next(tag::sequence, validity) || !t.next(tag::sequence, ignored, &out.subject) ||
        !t.next(tag::sequence, ignored, &out.spki) || !t.skip_optional(0x81) ||
        !t.skip_optional(0x82))
        return false;
    if (t.peek(tag::ctx3)) {
        byte_view exts;
        if (!t.next(tag::ctx3, exts) || !parse_extensions(exts, out)) return false;
    }
    if (!t.at_end()) return false;

    reader v{validity};
    for (std::int64_t* when : {&out.not_before, &out.not_after}) {
        if (v.rest.empty()) return false;
        const std::uint8_t time_tag = v.rest[0];
        byte_view s;
        if (!v.next(time_tag, s) || !decode_time(time_tag, s, *when)) return false;
    }
    return v.at_end();
}

} // namespace ringlet::certs::der
