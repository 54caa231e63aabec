// Client contexts: the TLS policy of ringlet's outgoing connections (ACME, OCSP, the load
// generator). One context serves any number of connections from the thread that made it.
//
// Policy:
//  - TLS 1.2 and 1.3 only, AEAD ciphers, X25519 / P-256 / P-384 key exchange;
//  - the server's chain is verified against `ca_file` and/or `ca_pem`, or the system CA store
//    when neither is given; the name is checked per connection by tls_stream::async_connect
//    (DNS names by wolfSSL, IP literals against iPAddress subjectAltNames). `insecure` turns
//    both checks off: for tests and `--insecure` tools only, never for ACME against a real CA;
//  - ALPN offers `alpn` in order (nothing when empty);
//  - session tickets on (TLS 1.2 and 1.3); resumption is explicit: the caller keeps a
//    session_ptr from tls_stream::get_session() and passes it to the next async_connect. No
//    session cache is kept in the context, so contexts hold no per-server state.
//  - I/O through tls_stream's callbacks, like the server contexts.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/tls/wolfssl.hpp"

#include <string>
#include <vector>

namespace ringlet::tls {

struct client_options {
    std::string ca_file;           // PEM bundle path
    std::string ca_pem;            // PEM text (e.g. pebble's root, ringlet's internal CA)
    bool insecure = false;         // no chain or name verification
    std::vector<std::string> alpn; // e.g. {"http/1.1"}; each 1..255 bytes
    bool session_tickets = true;   // offer tickets (TLS 1.2 extension; TLS 1.3 always accepts)
};

// A client WOLFSSL_CTX. Errors name what failed ("cannot load CA file /x.pem: ...",
// "no system CA certificates found", "invalid ALPN protocol name").
result<ctx_ptr> make_client_context(const client_options& options, std::string& error);

// False for a context made with `insecure`: tls_stream::async_connect then skips the name check.
bool verifies_peer(WOLFSSL_CTX* client_ctx) noexcept;

} // namespace ringlet::tls
