#pragma once
// Time comes from an injectable clock so batching, validation windows and schedules are testable.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace energyhub {

class Clock {
public:
    virtual ~Clock() = default;
    // Wall-clock milliseconds since the Unix epoch.
    virtual std::int64_t now_ms() const = 0;
    // Monotonic milliseconds, for deadlines.
    virtual std::int64_t steady_ms() const = 0;
};

class SystemClock final : public Clock {
public:
    std::int64_t now_ms() const override {
        using namespace std::chrono;
        return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    }
    std::int64_t steady_ms() const override {
        using namespace std::chrono;
        return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
    }
    static const SystemClock& instance() {
        static const SystemClock clock;
        return clock;
    }
};

// A clock the test moves by hand.
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::int64_t start_ms = 1'764'324'000'000) : now_(start_ms), steady_(0) {}
    std::int64_t now_ms() const override { return now_.load(); }
    std::int64_t steady_ms() const override { return steady_.load(); }
    void advance(std::int64_t ms) {
        now_ += ms;
        steady_ += ms;
    }

private:
    std::atomic<std::int64_t> now_;
    std::atomic<std::int64_t> steady_;
};

}  // namespace energyhub
