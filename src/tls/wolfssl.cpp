#include "ringlet/tls/wolfssl.hpp"

#include <wolfssl/wolfcrypt/error-crypt.h>

#include <mutex>

namespace ringlet::tls {

void init_library() {
    static std::once_flag once;
    std::call_once(once, [] { wolfSSL_Init(); });
}

std::string error_text(int code) {
    char buf[WOLFSSL_MAX_ERROR_SZ] = {};
    // wolfSSL takes the negative code cast to unsigned long and casts it back.
    wolfSSL_ERR_error_string_n(static_cast<unsigned long>(code), buf, sizeof buf);
    return "wolfSSL error " + std::to_string(code) + ": " + buf;
}

result<ctx_ptr> new_context(WOLFSSL_METHOD* method, std::span<int> groups, std::string& error) {
    static constexpr char cipher_list[] =
        "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256:"
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-ECDSA-CHACHA20-POLY1305:"
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
    init_library();
    ctx_ptr ctx(wolfSSL_CTX_new(method));
    const char* failed = nullptr;
    if (!ctx) {
        failed = "cannot create a TLS context (out of memory)";
    } else if (wolfSSL_CTX_SetMinVersion(ctx.get(), WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
        failed = "cannot restrict TLS versions";
    } else if (wolfSSL_CTX_set_groups(ctx.get(), groups.data(), static_cast<int>(groups.size())) !=
               WOLFSSL_SUCCESS) {
        failed = "cannot set key exchange groups";
    } else if (wolfSSL_CTX_set_cipher_list(ctx.get(), cipher_list) != WOLFSSL_SUCCESS) {
        failed = "cannot set the cipher list";
    }
    if (failed) return fail_msg(errno_code(EINVAL), error, failed);
    return ctx;
}

} // namespace ringlet::tls
