// Server contexts: one WOLFSSL_CTX per certificate per reactor, so no mutable wolfSSL state is
// shared between cores (wolfSSL_new takes a per-context lock; per-reactor contexts keep it
// uncontended). Built on the control thread, then used by exactly one reactor.
//
// Every context gets the same policy:
//  - TLS 1.2 and 1.3 only; no renegotiation, no compression, no 0-RTT (not built in);
//  - key exchange groups X25519 then P-256; AEAD ciphers only (AES-GCM first: AES-NI makes it the
//    fastest here; ChaCha20-Poly1305 for clients without AES hardware);
//  - ALPN is decided per connection from the parsed ClientHello (see tls_stream and the
//    connection code): http/1.1 when offered, the no_application_protocol alert when a client
//    offers only other protocols (RFC 7301); acme-tls/1 is reserved for the ACME issue;
//  - stateless session tickets sealed with the shared ticket_keys (no per-context session cache,
//    which would not be shared between reactors);
//  - no client certificates;
//  - I/O through callbacks: the tls_stream supplies the bytes and collects the output.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/tls/certificate.hpp"
#include "ringlet/tls/ticket_keys.hpp"
#include "ringlet/tls/wolfssl.hpp"

#include <string>

namespace ringlet::tls {

// `tickets` (null: no tickets) must outlive the context (both live in one certificate table
// generation).
result<ctx_ptr> make_server_context(const certificate& cert, const ticket_context* tickets,
                                    std::string& error);

} // namespace ringlet::tls
