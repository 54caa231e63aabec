// Test helpers: a reactor for the calling thread, or a skip when io_uring is unavailable here.
#pragma once

#include "ringlet/runtime/reactor.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace ringlet::test {

inline std::unique_ptr<rt::reactor> make_reactor(const rt::reactor_options& o = {}) {
    auto r = rt::reactor::create(0, o);
    if (!r) return nullptr;
    return std::move(*r);
}

} // namespace ringlet::test

// Skips the test (instead of failing) where the kernel or a seccomp profile forbids io_uring.
#define RINGLET_REACTOR_OR_SKIP(var, ...)                                                          \
    auto var = ::ringlet::test::make_reactor(__VA_ARGS__);                                         \
    if (!var) GTEST_SKIP() << "io_uring unavailable"
