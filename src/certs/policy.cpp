#include "ringlet/certs/policy.hpp"

#include <algorithm>
#include <cmath>

namespace ringlet::certs {

std::int64_t retry_delay(int failures, double jitter01) noexcept {
    static constexpr std::int64_t steps[] = {60, 120, 300, 600, 1800, 3600, 10800};
    constexpr int last = sizeof steps / sizeof steps[0] - 1;
    std::int64_t base = steps[std::clamp(failures - 1, 0, last)];
    double j = std::clamp(jitter01, 0.0, 0.999999);
    return static_cast<std::int64_t>(std::llround(static_cast<double>(base) * (0.9 + 0.2 * j)));
}

} // namespace ringlet::certs
