#include "ringlet/certs/policy.hpp"

#include <gtest/gtest.h>

using ringlet::certs::retry_delay;

TEST(retry_policy, backs_off_then_settles) {
    EXPECT_EQ(retry_delay(1, 0.5), 60);
    EXPECT_EQ(retry_delay(2, 0.5), 120);
    EXPECT_EQ(retry_delay(3, 0.5), 300);
    EXPECT_EQ(retry_delay(6, 0.5), 3600);
    EXPECT_EQ(retry_delay(7, 0.5), 10800);
    EXPECT_EQ(retry_delay(500, 0.5), 10800);
    EXPECT_EQ(retry_delay(0, 0.5), 60); // nonsense counts are clamped, never zero
    EXPECT_EQ(retry_delay(-3, 0.5), 60);
}

TEST(retry_policy, jitter_stays_within_ten_percent) {
    for (int f = 1; f < 10; ++f) {
        std::int64_t mid = retry_delay(f, 0.5);
        EXPECT_GE(retry_delay(f, 0.0), mid * 9 / 10);
        EXPECT_LE(retry_delay(f, 0.999), mid * 11 / 10 + 1);
        EXPECT_LT(retry_delay(f, 0.0), retry_delay(f, 0.999));
        EXPECT_EQ(retry_delay(f, 5.0), retry_delay(f, 0.999999)); // out of range is clamped
    }
}
