#pragma once
// Counts of observations under fixed upper bounds (Prometheus' histogram), observed by one
// thread and read by others.
#include <atomic>
#include <cstdint>
#include <vector>

namespace energyhub {

// A histogram with fixed upper bounds, safe to observe from one thread and read from others.
class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);

    const std::vector<double>& bounds() const { return bounds_; }
    std::uint64_t bucket(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }  // non-cumulative
    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    double sum() const { return sum_.load(std::memory_order_relaxed); }

private:
    std::vector<double> bounds_;
    std::vector<std::atomic<std::uint64_t>> counts_;  // one per bound, plus +Inf
    std::atomic<std::uint64_t> count_{0};
    std::atomic<double> sum_{0};
};

}  // namespace energyhub
