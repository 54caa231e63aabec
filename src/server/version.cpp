#include "ringlet/server/version.hpp"

#include <string>

namespace ringlet::server {

std::string version_text() {
    std::string s = "ringlet " RINGLET_VERSION "\n";
    s += "liburing " RINGLET_LIBURING_VERSION "\n";
    s += "compiler g++ " __VERSION__ "\n";
    return s;
}

} // namespace ringlet::server
