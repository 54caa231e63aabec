// wolfSSL plumbing: library initialisation and owning pointers for its objects.
//
// Every file that uses wolfSSL includes this header, which includes <wolfssl/options.h> first:
// the build's feature macros change structure layouts, so they must be seen before any other
// wolfSSL header.
#pragma once

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "ringlet/base/result.hpp"

#include <memory>
#include <span>
#include <string>

namespace ringlet::tls {

struct ctx_deleter {
    void operator()(WOLFSSL_CTX* c) const noexcept { wolfSSL_CTX_free(c); }
};
struct ssl_deleter {
    void operator()(WOLFSSL* s) const noexcept { wolfSSL_free(s); }
};
struct x509_deleter {
    void operator()(WOLFSSL_X509* x) const noexcept { wolfSSL_X509_free(x); }
};
using ctx_ptr = std::unique_ptr<WOLFSSL_CTX, ctx_deleter>;
using ssl_ptr = std::unique_ptr<WOLFSSL, ssl_deleter>;
using x509_ptr = std::unique_ptr<WOLFSSL_X509, x509_deleter>;

// wolfSSL_Init, once per process (thread-safe). Call before creating any context.
void init_library();

// "wolfSSL error -313: ..." for an error code from wolfSSL_get_error or a wolfCrypt call.
std::string error_text(int code);

// A new context (initialising the library) with the policy every context shares, server or
// client: TLS 1.2 and 1.3 only; the key exchange `groups` in order; AEAD ciphers only (AES-GCM
// first: AES-NI makes it the fastest here; ChaCha20-Poly1305 for peers without AES hardware).
result<ctx_ptr> new_context(WOLFSSL_METHOD* method, std::span<int> groups, std::string& error);

} // namespace ringlet::tls
