#include "ringlet/server/version.hpp"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <string>

namespace ringlet::server {

std::string version_text() {
    std::string s = "ringlet " RINGLET_VERSION "\n";
    s += "liburing " RINGLET_LIBURING_VERSION "\n";
    s += "wolfSSL ";
    s += wolfSSL_lib_version();
    s += " (" RINGLET_WOLFSSL_BUILD ")\n";
    s += "compiler g++ " __VERSION__ "\n";
    return s;
}

} // namespace ringlet::server
