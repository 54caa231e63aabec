#include "load/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

using ringlet::load::histogram;

namespace {

// Nearest rank for p given in hundredths of a percent (9990 = 99.9%), in integers.
std::uint64_t true_percentile(const std::vector<std::uint64_t>& sorted, std::uint64_t p_x100) {
    const std::uint64_t n = sorted.size();
    std::uint64_t rank = (p_x100 * n + 9999) / 10000; // ceil
    rank = std::clamp<std::uint64_t>(rank, 1, n);
    return sorted[rank - 1];
}

// Latency-like samples: log-uniform over 1 us .. 60 s, plus a dense cluster around 250 us.
std::vector<std::uint64_t> samples(std::size_t n, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> log_range(std::log(1e3), std::log(6e10));
    std::lognormal_distribution<double> cluster(std::log(250e3), 0.3);
    std::vector<std::uint64_t> v;
    v.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double x = (i % 3 == 0) ? std::exp(log_range(rng)) : cluster(rng);
        v.push_back(std::min<std::uint64_t>(static_cast<std::uint64_t>(x), histogram::max_value));
    }
    return v;
}

const std::uint64_t percentiles_x100[] = {0,    1,    100,  1000, 2500, 5000,
                                          7500, 9000, 9900, 9990, 9999, 10000};

} // namespace

TEST(histogram, buckets_cover_every_value_and_are_at_most_a_1024th_wide) {
    // 2048 exact buckets, 24 full octaves of 1024, and 765 of the octave holding 60 s: ~214 KiB.
    EXPECT_EQ(histogram::bucket_count(), std::size_t{2048 + 24 * 1024 + 765});
    std::mt19937_64 rng(7);
    std::vector<std::uint64_t> probe = {0,
                                        1,
                                        2047,
                                        2048,
                                        2049,
                                        4095,
                                        4096,
                                        1'000'000,
                                        histogram::max_value - 1,
                                        histogram::max_value};
    for (int i = 0; i < 100000; ++i) probe.push_back(rng() % (histogram::max_value + 1));
    for (std::uint64_t v : probe) {
        const std::size_t b = histogram::bucket_of(v);
        ASSERT_LT(b, histogram::bucket_count()) << v;
        ASSERT_LE(histogram::bucket_low(b), v) << v;
        ASSERT_GE(histogram::bucket_high(b), v) << v;
        const std::uint64_t width = histogram::bucket_high(b) - histogram::bucket_low(b) + 1;
        ASSERT_LE(width * 1024, std::max<std::uint64_t>(histogram::bucket_low(b), 1024)) << v;
    }
    // Adjacent buckets tile the range with no gap and no overlap.
    for (std::size_t b = 1; b < histogram::bucket_count(); ++b) {
        ASSERT_EQ(histogram::bucket_low(b), histogram::bucket_high(b - 1) + 1) << b;
    }
}

TEST(histogram, percentiles_match_a_sorted_vector_within_a_1024th) {
    std::vector<std::uint64_t> v = samples(200000, 42);
    histogram h;
    for (std::uint64_t x : v) h.record(x);
    std::sort(v.begin(), v.end());
    ASSERT_EQ(h.count(), v.size());
    EXPECT_EQ(h.min(), v.front());
    EXPECT_EQ(h.max(), v.back());
    long double sum = 0;
    for (std::uint64_t x : v) sum += x;
    EXPECT_NEAR(h.mean(), double(sum / v.size()), double(sum / v.size()) * 1e-12);
    for (std::uint64_t p : percentiles_x100) {
        const std::uint64_t truth = true_percentile(v, p);
        const std::uint64_t got = h.percentile(double(p) / 100.0);
        const double rel = std::abs(double(got) - double(truth)) / double(truth);
        EXPECT_LE(rel, 1.0 / 1024) << "p" << double(p) / 100 << " got " << got << " want " << truth;
    }
    EXPECT_EQ(h.percentile(0), v.front());
    EXPECT_EQ(h.percentile(100), v.back());
}

TEST(histogram, small_values_are_exact) {
    histogram h;
    for (std::uint64_t x : {0, 1, 5, 5, 1500, 2047}) h.record(x);
    EXPECT_EQ(h.percentile(1), 0u);
    EXPECT_EQ(h.percentile(50), 5u);    // rank 3 of 6
    EXPECT_EQ(h.percentile(67), 1500u); // rank ceil(4.02) = 5
    EXPECT_EQ(h.percentile(99), 2047u);
}

TEST(histogram, merging_per_thread_histograms_equals_recording_into_one) {
    const std::vector<std::uint64_t> v = samples(50000, 9);
    histogram all;
    histogram parts[4];
    for (std::size_t i = 0; i < v.size(); ++i) {
        all.record(v[i]);
        parts[i % 4].record(v[i]);
    }
    histogram merged;
    for (const histogram& p : parts) merged.merge(p);
    EXPECT_EQ(merged.count(), all.count());
    EXPECT_EQ(merged.min(), all.min());
    EXPECT_EQ(merged.max(), all.max());
    EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
    for (std::uint64_t p : percentiles_x100) {
        EXPECT_EQ(merged.percentile(double(p) / 100), all.percentile(double(p) / 100)) << p;
    }
    histogram empty;
    merged.merge(empty); // merging nothing changes nothing, including min()
    EXPECT_EQ(merged.min(), all.min());
    EXPECT_EQ(merged.count(), all.count());
}

TEST(histogram, values_beyond_60s_saturate_but_max_is_exact) {
    histogram h;
    h.record(1000);
    h.record(61'000'000'000);
    h.record_n(2000, 2);
    EXPECT_EQ(h.count(), 4u);
    EXPECT_EQ(h.saturated(), 1u);
    EXPECT_EQ(h.max(), 61'000'000'000u);
    EXPECT_EQ(h.percentile(100), 61'000'000'000u);
    EXPECT_EQ(h.percentile(75), 2000u);
    EXPECT_EQ(h.percentile(80), 61'000'000'000u); // the saturated bucket, clamped up to max()
}

TEST(histogram, empty_and_reset) {
    histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.mean(), 0.0);
    EXPECT_EQ(h.percentile(50), 0u);
    h.record(123456);
    EXPECT_EQ(h.min(), 123456u);
    h.reset();
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.percentile(99), 0u);
    h.record(7);
    EXPECT_EQ(h.min(), 7u); // min() was reset too
    EXPECT_EQ(h.percentile(50), 7u);
}
