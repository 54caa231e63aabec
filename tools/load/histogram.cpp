#include "load/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ringlet::load {

namespace {

constexpr std::uint64_t sub_buckets = std::uint64_t{1} << histogram::sub_bucket_bits; // 1024
constexpr std::uint64_t linear_limit = 2 * sub_buckets;           // below: one bucket per ns
constexpr unsigned first_octave = histogram::sub_bucket_bits + 1; // 2^11 = linear_limit

} // namespace

histogram::histogram() : counts_(bucket_count(), 0) {}

std::size_t histogram::bucket_count() noexcept {
    return bucket_of(max_value) + 1;
}

std::size_t histogram::bucket_of(std::uint64_t ns) noexcept {
    if (ns < linear_limit) return static_cast<std::size_t>(ns);
    const unsigned e = static_cast<unsigned>(std::bit_width(ns)) - 1; // >= first_octave
    const unsigned shift = e - sub_bucket_bits;
    const std::uint64_t sub = (ns >> shift) - sub_buckets;
    return static_cast<std::size_t>(linear_limit + (e - first_octave) * sub_buckets + sub);
}

std::uint64_t histogram::bucket_low(std::size_t index) noexcept {
    if (index < linear_limit) return index;
    const std::uint64_t k = index - linear_limit;
    const unsigned e = first_octave + static_cast<unsigned>(k / sub_buckets);
    return (sub_buckets + k % sub_buckets) << (e - sub_bucket_bits);
}

std::uint64_t histogram::bucket_high(std::size_t index) noexcept {
    if (index < linear_limit) return index;
    const std::uint64_t k = index - linear_limit;
    const unsigned e = first_octave + static_cast<unsigned>(k / sub_buckets);
    return bucket_low(index) + (std::uint64_t{1} << (e - sub_bucket_bits)) - 1;
}

void histogram::record_n(std::uint64_t ns, std::uint64_t n) noexcept {
    if (n == 0) return;
    min_ = std::min(min_, ns);
    max_ = std::max(max_, ns);
    if (ns > max_value) {
        saturated_ += n;
        ns = max_value;
    }
    counts_[bucket_of(ns)] += n;
    count_ += n;
    sum_ += ns * n;
}

void histogram::merge(const histogram& other) noexcept {
    if (other.count_ == 0) return;
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    saturated_ += other.saturated_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
}

void histogram::reset() noexcept {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = saturated_ = sum_ = 0;
    min_ = ~std::uint64_t{0};
    max_ = 0;
}

double histogram::mean() const noexcept {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
}

std::uint64_t histogram::percentile(double p) const noexcept {
    if (count_ == 0) return 0;
    if (!(p > 0)) return min(); // also NaN
    if (p >= 100) return max_;
    // p * count / 100 is often an integer that floating point lands just above (99.9% of 1000
    // is 999.0000000000001): shave a hair off before rounding up.
    const double exact = p * static_cast<double>(count_) / 100.0;
    std::uint64_t rank = static_cast<std::uint64_t>(std::ceil(exact - 1e-9));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            if (i + 1 == counts_.size() && saturated_ > 0) return max_; // "60 s or more"
            const std::uint64_t lo = bucket_low(i), hi = bucket_high(i);
            return std::clamp(lo + (hi - lo) / 2, min(), max_);
        }
    }
    return max_; // not reached: the counts add up to count_
}

} // namespace ringlet::load
