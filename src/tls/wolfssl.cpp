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

} // namespace ringlet::tls
