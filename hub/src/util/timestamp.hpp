#pragma once
// UTC timestamps without the C library's locale and time-zone state: the hot path parses and
// formats them for every reading.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace energyhub {

constexpr std::int64_t kMsPerDay = 86'400'000;

// a / b rounded towards negative infinity, as times before 1970 need (C++ rounds towards zero).
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Days since 1970-01-01 for a proleptic Gregorian date.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct CivilDate {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

constexpr CivilDate civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

// "2026-11-28T10:00:00Z", "2026-11-28T10:00:00.123+01:00" (a zone is required).
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

// Writes "2026-11-28 10:00:00.123+00" (PostgreSQL timestamptz input) into out; returns its length.
// out must hold kTimestampBufferSize bytes.
constexpr std::size_t kTimestampBufferSize = 40;
std::size_t format_timestamp(std::int64_t ms, char* out);

// "2026-11-28T10:00:00.123Z"
std::string format_iso8601(std::int64_t ms);

// Floor of ms to its UTC day, in ms.
constexpr std::int64_t day_start_ms(std::int64_t ms) {
    std::int64_t d = ms / kMsPerDay;
    if (ms % kMsPerDay < 0) --d;
    return d * kMsPerDay;
}

}  // namespace energyhub
