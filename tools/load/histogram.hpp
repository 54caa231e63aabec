// histogram: request latencies for ringlet-load, in the manner of HdrHistogram.
//
// Why this shape: a load generator records millions of latencies per second on every thread,
// so a record must be O(1) with no allocation and no lock, and the per-thread histograms must
// merge exactly at the end (percentiles of a merge are the percentiles of all samples, which
// averaging per-thread percentiles is not).
//
// Buckets are log-linear over nanoseconds: values below 2048 ns get one bucket each (exact);
// above that, each power-of-two range [2^e, 2^(e+1)) is split into 1024 equal buckets, so a
// bucket is at most 1/1024 of its values wide (relative error <= 0.1%, three significant
// digits). The range is 0 .. max_value (60 s); larger values are recorded as max_value and
// counted in saturated(), but max() still reports the largest value actually seen. Memory is
// fixed at construction (~220 KB); one histogram per thread, merged after the run.
//
// Percentiles use the nearest-rank definition: percentile(p) is the smallest recorded value v
// such that at least p% of the samples are <= v, reported as the midpoint of v's bucket
// clamped to [min(), max()] (so percentile(0) == min() and percentile(100) == max() exactly);
// a percentile that falls among saturated values is max().
//
// Not thread-safe: each thread owns one; merge() after the threads are done (or under the
// caller's own synchronisation).
#pragma once

#include <cstdint>
#include <vector>

namespace ringlet::load {

class histogram {
public:
    static constexpr std::uint64_t max_value = 60'000'000'000; // 60 s in ns
    static constexpr unsigned sub_bucket_bits = 10;            // 1024 buckets per octave

    histogram();

    // O(1), no allocation.
    void record(std::uint64_t ns) noexcept { record_n(ns, 1); }
    void record_n(std::uint64_t ns, std::uint64_t n) noexcept;
    // Adds every sample of `other` (exact: the same bucket layout).
    void merge(const histogram& other) noexcept;
    void reset() noexcept;

    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t saturated() const noexcept { return saturated_; }
    // 0 when empty.
    std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
    std::uint64_t max() const noexcept { return max_; }
    // Exact mean of the recorded values (saturated ones as max_value); 0 when empty.
    double mean() const noexcept;
    // p in [0, 100] (clamped); 0 when empty. O(number of buckets).
    std::uint64_t percentile(double p) const noexcept;

    // Bucket layout, exposed for tests.
    static std::size_t bucket_of(std::uint64_t ns) noexcept;
    static std::uint64_t bucket_low(std::size_t index) noexcept;  // smallest value in bucket
    static std::uint64_t bucket_high(std::size_t index) noexcept; // largest value in bucket
    static std::size_t bucket_count() noexcept;

private:
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0, saturated_ = 0;
    std::uint64_t min_ = ~std::uint64_t{0}, max_ = 0;
    std::uint64_t sum_ = 0; // ns; wraps only after 584 years of summed latency
};

} // namespace ringlet::load
