#pragma once
// The clocks the benchmark programs read: their own CPU time (what a figure per 1,000 readings
// divides) and the wall clock in ms (readings' timestamps, latencies against them).
#include <chrono>
#include <cstdint>
#include <ctime>

namespace energyhub::bench {

inline double process_cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

inline std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace energyhub::bench
