#pragma once
// The fixed "now" of the tests that decode, enrich and store readings, and a day without a zone.
#include <cstdint>
#include <string_view>
#include <utility>

#include "pipeline/rule_engine.hpp"

namespace energyhub::test {

inline constexpr std::int64_t kNow = 1'764'324'000'000;  // 2025-11-28T10:00:00Z
inline constexpr std::int64_t kReceived = kNow - 1000;   // when the hub took the message

// Every user's day is the UTC day.
class UtcDays final : public LocalDayPort {
public:
    std::pair<std::int64_t, std::int64_t> day_of(std::string_view, std::int64_t ts) override {
        const auto start = ts / 86'400'000 * 86'400'000;
        return {start, start + 86'400'000};
    }
};

}  // namespace energyhub::test
