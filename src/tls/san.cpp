#include "ringlet/tls/san.hpp"

#include <algorithm>
#include <cstddef>

namespace ringlet::tls {

namespace {

// One TLV: its tag and contents; `rest` moves past it.
struct tlv {
    unsigned char tag = 0;
    std::span<const unsigned char> body;
};

bool next(std::span<const unsigned char>& rest, tlv& out) {
    if (rest.size() < 2) return false;
    out.tag = rest[0];
    std::size_t len = rest[1], at = 2;
    if (len & 0x80) {
        std::size_t n = len & 0x7f;
        if (n == 0 || n > 3 || rest.size() < 2 + n) return false;
        len = 0;
        for (std::size_t i = 0; i < n; ++i) len = (len << 8) | rest[2 + i];
        at += n;
    }
    if (rest.size() - at < len) return false;
    out.body = rest.subspan(at, len);
    rest = rest.subspan(at + len);
    return true;
}

constexpr unsigned char sequence = 0x30, octet_string = 0x04, oid = 0x06, boolean = 0x01;
constexpr unsigned char extensions_tag = 0xa3;          // [3] EXPLICIT
constexpr unsigned char san_oid[] = {0x55, 0x1d, 0x11}; // 2.5.29.17

bool read_general_names(std::span<const unsigned char> value, alt_names& out) {
    tlv names;
    if (!next(value, names) || names.tag != sequence || !value.empty()) return false;
    std::span<const unsigned char> rest = names.body;
    while (!rest.empty()) {
        tlv n;
        if (!next(rest, n)) return false;
        if (n.tag == 0x82) { // [2] dNSName
            out.dns.emplace_back(reinterpret_cast<const char*>(n.body.data()), n.body.size());
        } else if (n.tag == 0x87 && (n.body.size() == 4 || n.body.size() == 16)) { // [7]
            out.ip.emplace_back(n.body.begin(), n.body.end());
        }
    }
    return true;
}

} // namespace

bool read_alt_names(std::span<const unsigned char> cert_der, alt_names& out) {
    tlv cert, tbs;
    std::span<const unsigned char> rest = cert_der;
    if (!next(rest, cert) || cert.tag != sequence) return false;
    std::span<const unsigned char> inner = cert.body;
    if (!next(inner, tbs) || tbs.tag != sequence) return false;
    std::span<const unsigned char> fields = tbs.body;
    while (!fields.empty()) {
        tlv f;
        if (!next(fields, f)) return false;
        if (f.tag != extensions_tag) continue;
        std::span<const unsigned char> wrapped = f.body;
        tlv list;
        if (!next(wrapped, list) || list.tag != sequence) return false;
        std::span<const unsigned char> exts = list.body;
        while (!exts.empty()) {
            tlv ext, id, part;
            if (!next(exts, ext) || ext.tag != sequence) return false;
            std::span<const unsigned char> e = ext.body;
            if (!next(e, id) || id.tag != oid) return false;
            if (!next(e, part)) return false;
            if (part.tag == boolean && !next(e, part)) return false;
            if (part.tag != octet_string) return false;
            if (std::equal(id.body.begin(), id.body.end(), std::begin(san_oid),
                           std::end(san_oid))) {
                return read_general_names(part.body, out);
            }
        }
        return true;
    }
    return true;
}

} // namespace ringlet::tls
