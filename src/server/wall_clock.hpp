// The control thread's wall clock, in Unix seconds. Only the I/O side reads it (the control
// loop, ACME jobs, the challenge board); policy decisions take `now` as an argument, so tests
// drive them with any time they like.
#pragma once

#include <cstdint>
#include <ctime>

namespace ringlet::server {

inline std::int64_t unix_now() noexcept {
    return static_cast<std::int64_t>(::time(nullptr));
}

} // namespace ringlet::server
