// Session ticket keys: one set for every reactor and every certificate, so a session resumes on
// any core and, since the control thread carries the set across reloads, after a reload too.
//
// The control thread creates a key and rotates it every 12 hours: the new key encrypts, the
// previous one still decrypts, and a ticket opened with the previous key is re-issued under the
// current one. Tickets are sealed with ChaCha20-Poly1305 (key name and IV as associated data).
// An immutable ticket_keys value lives in the certificate table generation; contexts point at it.
#pragma once

#include "ringlet/tls/wolfssl.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace ringlet::tls {

struct ticket_key {
    std::array<unsigned char, 16> name{};
    std::array<unsigned char, 32> secret{};
};

struct ticket_keys {
    ticket_key current;
    std::optional<ticket_key> previous;
    std::int64_t created = 0; // unix seconds, of `current`

    static constexpr std::int64_t rotation_seconds = 12 * 3600;

    // A fresh set (no previous key). Control thread; uses the system RNG.
    static ticket_keys generate(std::int64_t now);
    // The set after rotation: a new current key, the old current as previous.
    ticket_keys rotated(std::int64_t now) const;
    bool rotation_due(std::int64_t now) const { return now - created >= rotation_seconds; }
};

// What a context's ticket callback works with: the shared keys and the scope of the
// certificate entry the context serves. The scope is sealed into every ticket (associated
// data), so a ticket issued for one site never resumes a session for another (RFC 6066 3: a
// server must not resume across different server names), while all reactors and certificate
// renewals of the same site share tickets.
struct ticket_context {
    const ticket_keys* keys = nullptr;
    std::array<unsigned char, 16> scope{};
};

// The scope for a site: derived from its (sorted) names.
std::array<unsigned char, 16> ticket_scope(std::span<const std::string> names);

// wolfSSL's SessionTicketEncCb; `user_ctx` is a `const ticket_context*`.
int ticket_callback(WOLFSSL* ssl, unsigned char key_name[WOLFSSL_TICKET_NAME_SZ],
                    unsigned char iv[WOLFSSL_TICKET_IV_SZ],
                    unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int enc, unsigned char* ticket,
                    int in_len, int* out_len, void* user_ctx);

} // namespace ringlet::tls
