#pragma once

#include <cstdint>

// The time and grid constants the simulated devices share.
namespace energyhub::sim {

inline constexpr std::int64_t kMinuteMs = 60'000;
inline constexpr std::int64_t kHourMs = 60 * kMinuteMs;
inline constexpr std::int64_t kDayMs = 24 * kHourMs;
inline constexpr double kMsPerHour = 3'600'000.0;
inline constexpr double kNominalVoltage = 230.0;  // EN 50160

}  // namespace energyhub::sim
