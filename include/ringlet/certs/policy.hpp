// policy: when to try again after a failed certificate order. Pure: the caller passes the
// failure count and a jitter value, so tests decide both.
//
// The schedule backs off quickly at first (a CA blip heals in minutes) and then settles at a few
// hours, well inside Let's Encrypt's failed-validation limits, with up to ±10% jitter so that a
// fleet sharing one CA does not retry in lockstep. The current certificate keeps being served
// meanwhile: a failed renewal is loud (logs, `ringlet certs`) but never takes a site offline.
#pragma once

#include <cstdint>

namespace ringlet::certs {

// Seconds to wait after the `failures`-th consecutive failure (1 = the first):
// 60, 120, 300, 600, 1800, 3600, then 10800 for every later one; `jitter01` in [0, 1) maps to
// a factor in [0.9, 1.1).
std::int64_t retry_delay(int failures, double jitter01) noexcept;

} // namespace ringlet::certs
