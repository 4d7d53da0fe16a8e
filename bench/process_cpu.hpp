#pragma once
// The benchmark programs' own CPU time: what their figures per 1,000 readings divide.
#include <ctime>

namespace energyhub::bench {

inline double process_cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

}  // namespace energyhub::bench
