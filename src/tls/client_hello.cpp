#include "ringlet/tls/client_hello.hpp"

#include <algorithm>

namespace ringlet::tls {

namespace {

constexpr std::uint8_t content_handshake = 22;
constexpr std::uint8_t handshake_client_hello = 1;
constexpr std::uint8_t sslv2_client_hello = 1;
constexpr std::size_t record_header = 5;
constexpr std::size_t handshake_header = 4;
// RFC 8446 5.1: TLSPlaintext.length MUST NOT exceed 2^14.
constexpr std::size_t max_record = 16384;

// Alert descriptions (RFC 8446 6).
constexpr std::uint8_t alert_none = 0;
constexpr std::uint8_t alert_unexpected_message = 10;
constexpr std::uint8_t alert_record_overflow = 22;
constexpr std::uint8_t alert_illegal_parameter = 47;
constexpr std::uint8_t alert_decode_error = 50;
constexpr std::uint8_t alert_protocol_version = 70;

constexpr std::uint16_t ext_server_name = 0;
constexpr std::uint16_t ext_status_request = 5;
constexpr std::uint16_t ext_supported_groups = 10;
constexpr std::uint16_t ext_alpn = 16;
constexpr std::uint16_t ext_session_ticket = 35;
constexpr std::uint16_t ext_pre_shared_key = 41;
constexpr std::uint16_t ext_supported_versions = 43;
constexpr std::uint16_t ext_key_share = 51;

constexpr std::uint16_t version_ssl3 = 0x0300;
constexpr std::uint16_t version_tls10 = 0x0301;
constexpr std::uint16_t version_tls13 = 0x0304;

// Every extension takes at least its 4-byte header, so a body within max_client_hello holds at
// most this many.
constexpr std::size_t max_extensions = max_client_hello / 4;
// Up to this many unusual extension types are checked for repeats pairwise; past it, sorting wins.
constexpr std::size_t pairwise_limit = 16;

constexpr hello_result incomplete() {
    return {hello_status::incomplete, 0, alert_none};
}
constexpr hello_result not_tls(std::uint8_t alert) {
    return {hello_status::not_tls, 0, alert};
}
constexpr hello_result malformed(std::uint8_t alert) {
    return {hello_status::malformed, 0, alert};
}

inline std::uint16_t be16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

inline std::string_view view(const std::uint8_t* p, std::size_t n) {
    return {reinterpret_cast<const char*>(p), n};
}

// A bounds-checked reader over [p, end). Every take fails, without moving, when the bytes are not
// all there: a length that overruns its enclosing vector is the bug class this parser exists to
// stop before wolfSSL sees it.
struct cursor {
    const std::uint8_t* p;
    const std::uint8_t* end;

    std::size_t left() const { return static_cast<std::size_t>(end - p); }
    bool empty() const { return p == end; }

    bool u8(std::uint8_t& v) {
        if (p == end) return false;
        v = *p++;
        return true;
    }
    bool u16(std::uint16_t& v) {
        if (left() < 2) return false;
        v = be16(p);
        p += 2;
        return true;
    }
    bool take(std::size_t n, const std::uint8_t*& at) {
        if (left() < n) return false;
        at = p;
        p += n;
        return true;
    }
    bool skip(std::size_t n) {
        const std::uint8_t* at = nullptr;
        return take(n, at);
    }
};

// ---- record layer ----------------------------------------------------------------------------

// Checks the n (0..5) bytes of a record header that have arrived. Returns true if they are
// acceptable so far; otherwise `r` is the final answer. Each byte is judged as soon as it is
// there, so a prefix never answers differently from the whole buffer.
bool check_record_header(const std::uint8_t* h, std::size_t n, bool first, hello_result& r) {
    if (n == 0) return true;
    if (h[0] != content_handshake) {
        if (!first) {
            // RFC 8446 5.1: no other record may sit between the fragments of a handshake message.
            r = malformed(alert_unexpected_message);
            return false;
        }
        if (h[0] & 0x80) {
            // SSLv2 record header (2 bytes, high bit set) followed by MSG-CLIENT-HELLO: an old or
            // SSLv2-compatible client. It can read a TLS alert, so tell it why; anything else with
            // the high bit set is just not TLS.
            if (n < 3) return true;
            r = not_tls(h[2] == sslv2_client_hello ? alert_protocol_version : alert_none);
            return false;
        }
        r = not_tls(alert_none);
        return false;
    }
    if (n < 2) return true;
    if (h[1] != 3) {
        // On the first record this is not TLS at all (OpenSSL sends no alert either); once
        // records have been accepted, the peer is a broken TLS speaker.
        r = first ? not_tls(alert_none) : malformed(alert_protocol_version);
        return false;
    }
    if (n < 3) return true;
    if (h[2] > 4) {
        r = malformed(alert_protocol_version);
        return false;
    }
    if (n < record_header) return true;
    const std::size_t len = be16(h + 3);
    if (len == 0) {
        // RFC 8446 5.1: zero-length handshake fragments MUST NOT be sent.
        r = malformed(alert_decode_error);
        return false;
    }
    if (len > max_record) {
        r = malformed(alert_record_overflow);
        return false;
    }
    return true;
}

// ---- extensions ------------------------------------------------------------------------------

// RFC 6066 3. host_name is "opaque HostName<1..2^16-1>" holding an ASCII DNS name; its content is
// checked strictly because it selects a certificate and ends up in logs.
std::uint8_t parse_server_name(cursor c, client_hello_info& out) {
    std::uint16_t list_len = 0;
    if (!c.u16(list_len) || list_len == 0 || list_len != c.left()) return alert_decode_error;
    bool have_host = false;
    while (!c.empty()) {
        std::uint8_t type = 0;
        std::uint16_t len = 0;
        const std::uint8_t* name = nullptr;
        if (!c.u8(type) || !c.u16(len) || !c.take(len, name)) return alert_decode_error;
        if (type != 0) continue;
        if (have_host) return alert_illegal_parameter;
        if (len == 0) return alert_decode_error;
        if (len > 255) return alert_illegal_parameter;
        for (std::size_t i = 0; i < len; ++i)
            if (name[i] < 0x21 || name[i] > 0x7e) return alert_illegal_parameter;
        out.server_name = view(name, len);
        have_host = true;
    }
    return alert_none;
}

// RFC 7301 3.1: ProtocolName protocol_name_list<2..2^16-1>, each ProtocolName<1..2^8-1>. The
// names must tile the list exactly: a name length running past the list is the malformed input
// wolfSSL 5.x mishandles (CVE-2026-3547).
std::uint8_t parse_alpn(cursor c, client_hello_info& out) {
    std::uint16_t list_len = 0;
    if (!c.u16(list_len) || list_len < 2 || list_len != c.left()) return alert_decode_error;
    out.has_alpn = true;
    while (!c.empty()) {
        std::uint8_t len = 0;
        const std::uint8_t* name = nullptr;
        if (!c.u8(len) || len == 0 || !c.take(len, name)) return alert_decode_error;
        if (out.alpn_count < max_alpn_protocols)
            out.alpn[out.alpn_count++] = view(name, len);
        else
            out.alpn_truncated = true;
    }
    return alert_none;
}

// RFC 8446 4.2.7: NamedGroup named_group_list<2..2^16-1>.
std::uint8_t parse_supported_groups(cursor c, client_hello_info& out) {
    std::uint16_t list_len = 0;
    if (!c.u16(list_len) || list_len < 2 || list_len % 2 != 0 || list_len != c.left())
        return alert_decode_error;
    for (std::uint16_t g = 0; c.u16(g);)
        if (out.group_count < max_groups) out.groups[out.group_count++] = g;
    return alert_none;
}

// RFC 8446 4.2.1: ProtocolVersion versions<2..254>, a 1-byte length in the ClientHello.
std::uint8_t parse_supported_versions(cursor c, client_hello_info& out) {
    std::uint8_t list_len = 0;
    if (!c.u8(list_len) || list_len < 2 || list_len % 2 != 0 || list_len != c.left())
        return alert_decode_error;
    // The list replaces legacy_version for negotiation (RFC 8446 4.2.1). GREASE values (0x?A?A)
    // and drafts would compare higher than TLS 1.3, so only real versions count.
    std::uint16_t best = 0;
    for (std::uint16_t v = 0; c.u16(v);) {
        if (v == version_tls13) out.supports_tls13 = true;
        if (v >= version_ssl3 && v <= version_tls13 && v > best) best = v;
    }
    out.max_version = best;
    return alert_none;
}

// RFC 8446 4.2.8: KeyShareEntry client_shares<0..2^16-1>, each group(2) +
// key_exchange<1..2^16-1>. An empty list is legal (the client wants a HelloRetryRequest).
std::uint8_t parse_key_share(cursor c, client_hello_info& out) {
    std::uint16_t list_len = 0;
    if (!c.u16(list_len) || list_len != c.left()) return alert_decode_error;
    while (!c.empty()) {
        std::uint16_t group = 0;
        std::uint16_t len = 0;
        if (!c.u16(group) || !c.u16(len) || len == 0 || !c.skip(len)) return alert_decode_error;
        if (out.key_share_count < out.key_share_groups.size())
            out.key_share_groups[out.key_share_count++] = group;
    }
    return alert_none;
}

bool has_repeat(std::uint16_t* types, std::size_t n) {
    if (n <= pairwise_limit) {
        for (std::size_t i = 1; i < n; ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (types[i] == types[j]) return true;
        return false;
    }
    std::sort(types, types + n);
    return std::adjacent_find(types, types + n) != types + n;
}

// The extensions block, already known to span exactly the rest of the body.
std::uint8_t parse_extensions(cursor c, client_hello_info& out) {
    // Repeats: every extension this parser interprets has a type below 64, so a bit mask catches
    // those before a second copy could overwrite the first. The rest (GREASE, ECH, ALPS,
    // renegotiation_info, ...) are collected and checked once at the end, without allocating:
    // the array is left uninitialised and only its first `other_count` entries are read.
    std::uint64_t seen = 0;
    std::array<std::uint16_t, max_extensions> other;
    std::size_t other_count = 0;
    while (!c.empty()) {
        std::uint16_t type = 0;
        std::uint16_t len = 0;
        const std::uint8_t* data = nullptr;
        if (!c.u16(type) || !c.u16(len) || !c.take(len, data)) return alert_decode_error;
        if (type < 64) {
            const std::uint64_t bit = std::uint64_t{1} << type;
            if (seen & bit) return alert_illegal_parameter;
            seen |= bit;
        } else {
            other[other_count++] = type;
        }
        const cursor ext{data, data + len};
        std::uint8_t alert = alert_none;
        switch (type) {
        case ext_server_name:
            alert = parse_server_name(ext, out);
            break;
        case ext_alpn:
            alert = parse_alpn(ext, out);
            break;
        case ext_supported_groups:
            alert = parse_supported_groups(ext, out);
            break;
        case ext_supported_versions:
            alert = parse_supported_versions(ext, out);
            break;
        case ext_key_share:
            alert = parse_key_share(ext, out);
            break;
        case ext_status_request:
            out.status_request = true;
            break;
        case ext_session_ticket:
            out.session_ticket = true;
            break;
        case ext_pre_shared_key:
            // RFC 8446 4.2.11: servers MUST check that it is last, else illegal_parameter. The
            // binders are computed over the hello truncated just before them; extensions after
            // them would be covered by no binder.
            if (!c.empty()) return alert_illegal_parameter;
            out.psk = true;
            break;
        default:
            break;
        }
        if (alert != alert_none) return alert;
    }
    if (has_repeat(other.data(), other_count)) return alert_illegal_parameter;
    return alert_none;
}

// RFC 8446 4.1.2 / RFC 5246 7.4.1.2. The body [p, p + n) of a complete ClientHello message.
std::uint8_t parse_body(const std::uint8_t* p, std::size_t n, client_hello_info& out) {
    cursor c{p, p + n};
    std::uint16_t legacy_version = 0;
    if (!c.u16(legacy_version)) return alert_decode_error;
    // RFC 8446 D.5 demands protocol_version for 0x0300; anything older is SSLv2-era. Higher
    // versions (even major 4) are legal and negotiate down (RFC 5246 E.1).
    if (legacy_version < version_tls10) return alert_protocol_version;
    out.max_version = legacy_version;
    std::uint8_t session_id_len = 0;
    std::uint16_t suites_len = 0;
    std::uint8_t compression_len = 0;
    if (!c.skip(32) || !c.u8(session_id_len) || session_id_len > 32 || !c.skip(session_id_len) ||
        !c.u16(suites_len) || suites_len < 2 || suites_len % 2 != 0 || !c.skip(suites_len) ||
        !c.u8(compression_len) || compression_len < 1 || !c.skip(compression_len))
        return alert_decode_error;
    // RFC 5246 7.4.1.2: a hello without extensions simply ends here.
    if (c.empty()) return alert_none;
    std::uint16_t extensions_len = 0;
    if (!c.u16(extensions_len) || extensions_len != c.left()) return alert_decode_error;
    return parse_extensions(c, out);
}

} // namespace

hello_result parse_client_hello(std::span<const std::uint8_t> buf, client_hello_info& out,
                                std::string& scratch) noexcept {
    out = client_hello_info{};
    const std::uint8_t* const b = buf.data();
    const std::size_t size = buf.size();

    // Walk the records that have arrived. Headers (record and handshake) are judged byte by byte
    // as they arrive; a record's fragment only counts once the record is complete.
    std::array<std::uint8_t, handshake_header> hs{}; // the handshake header, possibly split
    std::size_t hs_have = 0;
    std::size_t message_len = 0; // 4 + body length once the handshake header is known
    std::size_t have = 0;        // handshake bytes in complete records
    std::size_t first_len = 0;   // fragment length of the first record
    std::size_t pos = 0;
    while (message_len == 0 || have < message_len) {
        const std::size_t avail = size - pos;
        hello_result r;
        if (!check_record_header(b + pos, std::min(avail, record_header), pos == 0, r)) return r;
        if (avail < record_header) return incomplete();
        const std::size_t len = be16(b + pos + 3);
        const std::size_t arrived = std::min(len, avail - record_header);
        const std::uint8_t* frag = b + pos + record_header;
        if (message_len == 0) {
            const std::size_t n = std::min(arrived, handshake_header - hs_have);
            std::copy(frag, frag + n, hs.begin() + static_cast<std::ptrdiff_t>(hs_have));
            hs_have += n;
            if (hs_have >= 1 && hs[0] != handshake_client_hello)
                return malformed(alert_unexpected_message);
            if (hs_have == handshake_header) {
                const std::size_t body = std::size_t{hs[1]} << 16 | std::size_t{hs[2]} << 8 | hs[3];
                if (body > max_client_hello)
                    return {hello_status::too_large, 0, alert_illegal_parameter};
                message_len = handshake_header + body;
            }
        }
        if (arrived < len) return incomplete();
        if (pos == 0) first_len = len;
        have += len;
        pos += record_header + len;
    }

    const std::uint8_t* message = b + record_header;
    if (message_len > first_len) {
        // Fragmented: reassemble. Reserving the whole message first means one allocation at most,
        // and none once the caller's scratch has grown to a hello this size.
        scratch.clear();
        scratch.reserve(message_len);
        for (std::size_t at = 0; scratch.size() < message_len;) {
            const std::size_t len = be16(b + at + 3);
            const std::size_t n = std::min(len, message_len - scratch.size());
            scratch.append(reinterpret_cast<const char*>(b + at + record_header), n);
            at += record_header + len;
        }
        message = reinterpret_cast<const std::uint8_t*>(scratch.data());
    }
    const std::uint8_t alert =
        parse_body(message + handshake_header, message_len - handshake_header, out);
    if (alert != alert_none) return malformed(alert);
    return {hello_status::complete, pos, alert_none};
}

bool offers_alpn(const client_hello_info& h, std::string_view p) noexcept {
    for (std::size_t i = 0; i < h.alpn_count; ++i)
        if (h.alpn[i] == p) return true;
    return false;
}

} // namespace ringlet::tls
