// ClientHello pre-parser: reads the client's first TLS flight before any wolfSSL object exists, so
// the reactor can pick the certificate by SNI and spot ALPN "acme-tls/1" up front (switching
// contexts from inside wolfSSL's SNI callback is broken), and so that hellos wolfSSL 5.x must never
// see (malformed ALPN lists, CVE-2026-3547; SSLv2-style hellos) are refused here.
//
//   client_hello_info hello;
//   hello_result r = parse_client_hello(received, hello, scratch);
//   if (r.status == hello_status::incomplete) { /* read more, then parse again from the start */ }
//   else if (r.status != hello_status::complete) { /* send alert r.alert if non-zero, close */ }
//   else { /* choose the context from hello, then feed all of `received` to wolfSSL */ }
//
// The parser is pure: it keeps no state between calls and, for a ClientHello carried by a single
// record, neither copies nor allocates (views in the info point into `buf`). Only a ClientHello
// fragmented over several records is reassembled into the caller's `scratch` string, which may
// allocate the first time (failure to allocate terminates: the function is noexcept); reserve
// max_client_hello + 4 bytes in it up front to avoid even that. It uses about 8 KB of stack.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ringlet::tls {

inline constexpr std::size_t max_alpn_protocols = 16;
inline constexpr std::size_t max_groups = 32;
// Largest ClientHello body accepted (the handshake message without its 4-byte header). Larger ->
// too_large. A hello this large needs at least two records; split into the smallest legal records
// (1 byte each) it would take (max_client_hello + 4) * 6 bytes of input, so a caller whose buffer
// fills up while the answer is still incomplete should close the connection.
inline constexpr std::size_t max_client_hello = 16 * 1024;

struct client_hello_info {
    // SNI host_name exactly as sent (not lower-cased), a view into the record bytes or into
    // `scratch`; empty if there is no SNI extension or it holds no host_name. When non-empty it is
    // 1..255 bytes of 0x21..0x7E.
    std::string_view server_name;
    // ALPN (RFC 7301): the protocol names in the client's order. More than max_alpn_protocols:
    // the first max_alpn_protocols are kept and alpn_truncated is set.
    bool has_alpn = false;
    std::array<std::string_view, max_alpn_protocols> alpn{};
    std::size_t alpn_count = 0;
    bool alpn_truncated = false;
    // supported_groups in the client's order, GREASE values included; silently truncated to
    // max_groups.
    std::array<std::uint16_t, max_groups> groups{};
    std::size_t group_count = 0;
    // Groups of the offered key shares (TLS 1.3), client order, silently truncated to 8. A
    // key_share extension with no entries (the client asks for a HelloRetryRequest) leaves 0.
    std::array<std::uint16_t, 8> key_share_groups{};
    std::size_t key_share_count = 0;
    // supported_versions lists 0x0304.
    bool supports_tls13 = false;
    // With supported_versions: the highest listed version in 0x0300..0x0304 (GREASE and unknown
    // values are ignored; 0 if none is known). Without it: legacy_version as sent (>= 0x0301).
    std::uint16_t max_version = 0;
    bool status_request = false; // status_request (OCSP stapling) extension present
    bool session_ticket = false; // session_ticket extension present (TLS 1.2 resumption)
    bool psk = false;            // pre_shared_key present (TLS 1.3 resumption)
};

enum class hello_status { complete, incomplete, not_tls, malformed, too_large };

struct hello_result {
    hello_status status = hello_status::incomplete;
    // complete: bytes of `buf` up to the end of the record holding the ClientHello's last byte.
    // Informational: the caller still feeds those records to wolfSSL.
    std::size_t consumed = 0;
    // not_tls / malformed / too_large: the TLS alert description to send, 0 = send nothing, just
    // close (the peer does not speak TLS, so an alert record would be noise).
    std::uint8_t alert = 0;
};

// Parses the ClientHello at the start of `buf`: raw bytes from the socket, i.e. TLS records.
// `out` is overwritten; after anything but complete it holds partial data and must not be used.
// A ClientHello fragmented over several handshake records is reassembled into `scratch` (cleared
// and reused) and the views in `out` then point into it; otherwise `scratch` is left untouched.
// Bytes after the record that completes the ClientHello are not looked at.
//
// Deterministic prefix behaviour: the answer is decided by the bytes read up to the point of
// decision, so re-parsing from scratch after more bytes arrive gives the same answer once one
// prefix gave a final one. Record headers and the 4-byte handshake header are checked as soon as
// their bytes arrive (even before their record is complete), so a wrong record or message type, a
// bad record version or length, or a declared body over max_client_hello is reported without
// waiting; the body itself is checked once all records carrying it are complete.
//
// Answers (alert in parentheses):
//   not_tls (0)     first byte neither 22 (handshake) nor SSLv2 (below): plain HTTP on the TLS
//                   port, a PROXY header, random bytes; or first byte 22 with a record version
//                   whose major byte is not 3 (as OpenSSL: "doesn't look like TLS").
//   not_tls (70)    an SSLv2 / SSLv2-compatible CLIENT-HELLO: first byte has the high bit set
//   (2-byte
//                   SSLv2 record header) and the third byte is 1 (MSG-CLIENT-HELLO) — the check
//                   OpenSSL makes. High bit with any other third byte: not_tls (0). Needs 3 bytes.
//   malformed (10)  unexpected_message: the first handshake message is not a ClientHello, or a
//                   record of another content type interrupts a fragmented ClientHello.
//   malformed (22)  record_overflow: a record length over 16384.
//   malformed (70)  protocol_version: record version 0x03XX with XX > 4 (on later records also a
//                   major byte other than 3), or ClientHello.legacy_version below 0x0301
//                   (RFC 8446 D.5 requires this alert for 0x0300).
//   malformed (50)  decode_error: a zero-length record, and any length or vector-bound violation:
//                   truncated or overlong fields, legacy_session_id over 32 bytes, odd or empty
//                   cipher_suites, empty compression_methods, an extensions block (or any
//                   extension's content) that does not end exactly where it must, an empty ALPN
//                   list or protocol name, an empty host_name, a zero-length key_exchange.
//   malformed (47)  illegal_parameter: a repeated extension type (RFC 8446 4.2), pre_shared_key not
//                   last (RFC 8446 4.2.11), two host_name entries (RFC 6066 3), a host_name longer
//                   than 255 bytes or with a byte outside 0x21..0x7E.
//   too_large (47)  declared ClientHello body over max_client_hello (illegal_parameter, as
//                   OpenSSL and BoringSSL answer an excessive message size).
//
// Extensions read: server_name (0), status_request (5), supported_groups (10), ALPN (16),
// session_ticket (35), pre_shared_key (41), supported_versions (43), key_share (51). Others,
// GREASE included, are skipped after their length is checked. The content of status_request,
// session_ticket and pre_shared_key is not examined. Name entries of a type other than host_name
// are assumed to carry a 2-byte length and are skipped.
hello_result parse_client_hello(std::span<const std::uint8_t> buf, client_hello_info& out,
                                std::string& scratch) noexcept;

// True if the client offered protocol `p` via ALPN (byte-exact comparison). Protocols beyond the
// first max_alpn_protocols (alpn_truncated) are not seen.
bool offers_alpn(const client_hello_info& h, std::string_view p) noexcept;

} // namespace ringlet::tls
