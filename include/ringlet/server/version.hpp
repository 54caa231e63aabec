// What `ringlet version` prints: our version and the versions of what we link.
#pragma once

#include <string>

namespace ringlet::server {

std::string version_text();

} // namespace ringlet::server
